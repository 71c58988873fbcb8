"""Very similar names in the same city: the precomputed pair list, its page and merge."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from customers import duplicates
from customers.models import Customer, SimilarNamePair, SimilarNameRun
from customers.selectors import duplicate_groups
from customers.tasks import similar_names_task
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

needs_trigrams = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm similarity needs PostgreSQL"
)


def pairs():
    return {
        (p.first.name, p.second.name)
        for p in SimilarNamePair.objects.select_related("first", "second")
    }


@needs_trigrams
def test_similar_names_in_the_same_city_are_paired(users):
    jon = CustomerFactory(name="Jon Smith", city="Leeds")
    john = CustomerFactory(name="John Smith", city=" leeds")
    CustomerFactory(name="Maria Garcia", city="York")
    CustomerFactory(name="Mario Garcia", city="York")
    # Dissimilar names in one city, similar names in different cities, equal names (listed
    # as "same name and city" already): none of them is a pair.
    CustomerFactory(name="Anna Lee", city="Leeds")
    CustomerFactory(name="Mark Lee", city="Leeds")
    CustomerFactory(name="Catherine Zeta", city="Leeds")
    CustomerFactory(name="Katherine Zeta", city="York")
    CustomerFactory(name="Jon Smith", city="Leeds")
    CustomerFactory(name="Jonny Walker", city="")

    assert duplicates.refresh_similar_names() == 2

    assert pairs() == {("Jon Smith", "John Smith"), ("Maria Garcia", "Mario Garcia")}
    first = SimilarNamePair.objects.get(first__name="Jon Smith")
    assert first.first_id == jon.pk and first.second_id == john.pk  # the lower id first
    assert 0.6 <= first.similarity < 1
    run = SimilarNameRun.objects.get()
    assert run.pairs == 2


def test_fallback_pairs_names_equal_but_for_punctuation_and_spaces(users):
    """What SQLite (no pg_trgm) gets; the function itself runs on any database."""
    CustomerFactory(name="Anne-Marie Dupont", city="Lyon")
    CustomerFactory(name="Anne Marie Dupont", city="lyon")
    CustomerFactory(name="Anne Marie Dupont", city="Paris")
    CustomerFactory(name="Anne Martin", city="Lyon")
    from customers.duplicates import _refresh_fallback

    assert _refresh_fallback(limit=100, now=timezone.now()) == 1
    assert pairs() == {("Anne-Marie Dupont", "Anne Marie Dupont")}


@needs_trigrams
def test_the_page_lists_pairs_and_a_merge_removes_them(client_for, users):
    keep = CustomerFactory(name="Maria Garcia", city="York", email="m@example.com")
    drop = CustomerFactory(name="Mario Garcia", city="York", email="")
    duplicates.refresh_similar_names()
    client = client_for(Role.MANAGER)
    url = reverse("customers:customer_duplicates")

    page = client.get(url, {"reason": "similar_name"}).content.decode()
    assert "Maria Garcia ≈ Mario Garcia" in page
    assert f"?a={keep.pk}&amp;b={drop.pk}" in page  # the usual compare-and-merge link
    assert "last compared" in page

    response = client.post(
        reverse("customers:customer_merge"), {"keep": keep.pk, "pair": [keep.pk, drop.pk]}
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=drop.pk).exists()
    assert not SimilarNamePair.objects.exists()
    client.get(response["Location"])  # shows the merge message
    page = client.get(url, {"reason": "similar_name"}).content.decode()
    assert "Mario Garcia" not in page
    assert "No likely duplicates found." in page


@needs_trigrams
def test_reps_and_agents_cannot_open_the_duplicates_page(client_for, users):
    CustomerFactory(name="Jon Smith", city="Leeds")
    CustomerFactory(name="John Smith", city="Leeds")
    duplicates.refresh_similar_names()
    for role in (Role.SALES_REP, Role.SUPPORT_AGENT):
        response = client_for(role).get(reverse("customers:customer_duplicates"))
        assert response.status_code == 403


@needs_trigrams
def test_the_page_reads_pairs_in_constant_queries(client_for, users, django_assert_max_num_queries):
    owner = users[Role.SALES_REP]
    for i in range(30):
        CustomerFactory(name=f"Maria Garcia{i:02d}", city=f"City {i}", owner=owner)
        CustomerFactory(name=f"Mario Garcia{i:02d}", city=f"City {i}", owner=owner)
    assert duplicates.refresh_similar_names() == 30
    client = client_for(Role.MANAGER)
    url = reverse("customers:customer_duplicates")
    client.get(url)  # warm the session and the user
    with django_assert_max_num_queries(12):
        page = client.get(url)
    groups = [g for g in page.context["groups"] if g.reason == "similar_name"]
    assert len(groups) == 30
    assert {c.owner for g in groups for c in g.customers} == {owner}


@needs_trigrams
def test_the_scheduled_check_runs_only_when_customers_changed(users):
    CustomerFactory(name="Jon Smith", city="Leeds")
    CustomerFactory(name="John Smith", city="Leeds")
    assert similar_names_task.delay(only_if_due=True).get() == 1  # never run: due
    assert similar_names_task.delay(only_if_due=True).get() is None  # just ran
    SimilarNameRun.objects.update(finished_at=timezone.now() - timedelta(hours=1))
    assert similar_names_task.delay(only_if_due=True).get() is None  # nothing changed
    CustomerFactory(name="Jane Smith", city="Leeds")
    assert similar_names_task.delay(only_if_due=True).get() >= 1
    assert SimilarNameRun.objects.count() == 1


@needs_trigrams
def test_duplicate_groups_include_similar_pairs_for_managers(users):
    CustomerFactory(name="Jon Smith", city="Leeds")
    CustomerFactory(name="John Smith", city="Leeds")
    duplicates.refresh_similar_names()
    groups = duplicate_groups(user=users[Role.MANAGER], reasons=("similar_name",))
    assert [[c.name for c in g.customers] for g in groups] == [["Jon Smith", "John Smith"]]


@needs_trigrams
def test_data_quality_page_links_similar_names_to_the_merge_page(client_for, users):
    a = CustomerFactory(name="Jon Smith", city="Leeds")
    b = CustomerFactory(name="John Smith", city="Leeds")
    duplicates.refresh_similar_names()
    client = client_for(Role.MANAGER)
    page = client.get(
        reverse("customers:data_quality_check", args=["duplicate-similar-name"])
    ).content.decode()
    assert "Jon Smith" in page and "John Smith" in page
    assert f"{reverse('customers:customer_merge')}?a={a.pk}&amp;b={b.pk}" in page
    overview = client.get(reverse("customers:data_quality")).content.decode()
    assert "very similar name in the same city" in overview
