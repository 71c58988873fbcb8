"""The list stays fast on its last page: no big OFFSET, no COUNT(*) on a huge unfiltered
table (PostgreSQL's estimate instead)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.roles import Role
from customers.models import Customer
from customers.pagination import FastPaginator
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirty():
    return [CustomerFactory(name=f"Customer {i:02d}") for i in range(30)]


def _offsets(queries):
    return [int(m) for q in queries for m in re.findall(r"OFFSET (\d+)", q["sql"])]


def test_last_page_is_read_backwards_with_the_right_rows(thirty):
    qs = Customer.objects.order_by("name", "id")
    paginator = FastPaginator(qs, 7)
    assert paginator.num_pages == 5
    with CaptureQueriesContext(connection) as ctx:
        last = paginator.page(5)
        names = [c.name for c in last]
    assert names == ["Customer 28", "Customer 29"]
    assert max(_offsets(ctx.captured_queries), default=0) == 0
    with CaptureQueriesContext(connection) as ctx:
        fourth = [c.name for c in paginator.page(4)]
    assert fourth == [f"Customer {i:02d}" for i in range(21, 28)]
    assert max(_offsets(ctx.captured_queries), default=0) <= 2
    every = [c.name for n in paginator.page_range for c in paginator.page(n)]
    assert every == [f"Customer {i:02d}" for i in range(30)]


def test_sorted_descending_last_page_through_the_view(client_for, thirty):
    response = client_for(Role.SALES_REP).get(
        reverse("customers:customer_list"), {"o": "-name", "page": "last"}
    )
    assert [c.name for c in response.context["customers"]] == [
        "Customer 04",
        "Customer 03",
        "Customer 02",
        "Customer 01",
        "Customer 00",
    ]


def test_large_unfiltered_table_uses_the_estimate(thirty, monkeypatch):
    monkeypatch.setattr(FastPaginator, "estimate_threshold", 10)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE customers_customer")
    paginator = FastPaginator(Customer.objects.order_by("name", "id"), 25)
    with CaptureQueriesContext(connection) as ctx:
        count = paginator.count
    counted = any("COUNT(" in q["sql"] for q in ctx.captured_queries)
    if connection.vendor == "postgresql":
        assert paginator.estimated and not counted
        assert 20 <= count <= 40  # the planner's estimate, near the truth
    else:
        assert not paginator.estimated and counted and count == 30
    # A filtered list is always counted exactly.
    filtered = FastPaginator(Customer.objects.filter(name__endswith="1").order_by("id"), 25)
    assert filtered.count == 3 and not filtered.estimated


def test_a_first_page_that_holds_everything_needs_no_count(thirty):
    few = Customer.objects.filter(name__endswith="1").order_by("name", "id")
    paginator = FastPaginator(few, 25)
    with CaptureQueriesContext(connection) as ctx:
        page = paginator.page(1)
        names = [c.name for c in page]
    assert names == ["Customer 01", "Customer 11", "Customer 21"]
    assert paginator.count == 3 and paginator.num_pages == 1
    assert not any("COUNT(" in q["sql"] for q in ctx.captured_queries)
    # More rows than a page: page 1 is the first page-size rows, and the total is counted.
    many = FastPaginator(Customer.objects.filter(name__startswith="C").order_by("name", "id"), 7)
    with CaptureQueriesContext(connection) as ctx:
        first = [c.name for c in many.page(1)]
    assert first == [f"Customer {i:02d}" for i in range(7)]
    assert many.count == 30 and many.num_pages == 5
    assert any("COUNT(" in q["sql"] for q in ctx.captured_queries)
    # Orphans: 9 rows with 7 a page and 2 orphans are one page of 9.
    orphans = FastPaginator(
        Customer.objects.filter(name__lt="Customer 09").order_by("name", "id"), 7, orphans=2
    )
    assert len(orphans.page(1)) == 9 and orphans.num_pages == 1


def test_a_customer_search_runs_no_count_query(client_for, thirty):
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(Role.SALES_REP).get(
            reverse("customers:customer_list"), {"q": "Customer 2"}
        )
    assert response.status_code == 200
    assert len(response.context["customers"]) == 10
    assert response.context["paginator"].count == 10
    assert not any(
        "COUNT(" in q["sql"] and "customers_customer" in q["sql"] for q in ctx.captured_queries
    )
