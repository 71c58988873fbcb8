"""Search over name, email, phone and city; on PostgreSQL through the trigram indexes."""

import pytest
from django.db import connection

from crm.roles import Role
from customers.models import Customer
from customers.selectors import customer_list
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_search_matches_parts_of_each_field(users):
    CustomerFactory(
        name="Grace Hopper", email="grace@navy.example", phone="+12025550143", city="Arlington"
    )
    CustomerFactory(
        name="Alan Turing", email="alan@bletchley.example", phone="+441234567890", city="Wilmslow"
    )
    user = users[Role.SALES_REP]

    def found(term):
        return [c.name for c in customer_list(user=user, search=term)]

    assert found("HOPP") == ["Grace Hopper"]
    assert found("bletchley") == ["Alan Turing"]
    assert found("wilm") == ["Alan Turing"]
    assert found("555-0143") == ["Grace Hopper"]
    assert found("(202) 555") == ["Grace Hopper"]
    assert found("  grace   hopper ") == ["Grace Hopper"]
    assert found("nobody") == []
    assert found("grace@navy") == ["Grace Hopper"]


def test_search_asks_only_the_columns_that_can_match():
    words = str(Customer.objects.search("hopper").order_by().query)
    assert "phone" not in words.split("WHERE")[1]
    email = str(Customer.objects.search("a@b").order_by().query).split("WHERE")[1]
    assert "email" in email and "name" not in email
    digits = str(Customer.objects.search("(415) 555").order_by().query).split("WHERE")[1]
    assert "%415555%" in digits and "phone" in digits


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL only")
def test_postgresql_search_uses_the_trigram_indexes(users):
    CustomerFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'customers_customer' "
            "AND indexname LIKE '%%_trgm'"
        )
        names = {row[0] for row in cursor.fetchall()}
        assert names == {f"customer_{c}_trgm" for c in ("name", "email", "phone", "city")}
        # On a five-row table the planner rightly prefers a scan; forbid it to see that the
        # search's expressions are the indexed ones.
        cursor.execute("SET LOCAL enable_seqscan = off")
        qs = Customer.objects.search("4155").order_by()  # digits: the phone is searched too
        plan = qs.explain()
    for column in ("name", "email", "phone", "city"):
        assert f"customer_{column}_trgm" in plan
