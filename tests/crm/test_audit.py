"""The audit trail: every path that changes customers, deals, orders and tickets leaves
history rows with the user and the old and new values; history is read-only and follows
the role rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.contrib import admin
from django.urls import reverse

from crm.history import audited_models
from crm.roles import Role
from customers.import_services import run_import, undo_now
from customers.models import Customer, Interaction
from customers.services import customer_merge
from sales.models import Deal, Order
from service.models import Feedback, Ticket
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    TagFactory,
    TicketFactory,
)
from tests.sales.factories import make_deal, make_pipeline, stage

R, A, M, AD = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER, Role.ADMIN

CUSTOMER_HEADER = (
    "external_id,name,kind,email,phone,street,city,region,postal_code,country,birth_date,"
    "gender,annual_income,education,organisation_external_id,owner_username,lifecycle_stage,tags"
)


def history_url(obj) -> str:
    return reverse("object_history", args=[obj._meta.label_lower, obj.pk])


def form_data(response) -> dict:
    """What the browser would post back: the form's current values and its version."""
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    data["version"] = response.context["version"]
    return data


def latest(obj):
    return obj.history.order_by("-history_date", "-history_id").first()


def test_every_audited_model_is_registered_and_nothing_else_is_missing():
    labels = {m._meta.label_lower for m in audited_models()}
    assert labels == {
        "customers.customer",
        "customers.interaction",
        "sales.deal",
        "sales.order",
        "service.ticket",
        "service.feedback",
    }


def test_a_change_through_the_form_is_recorded_with_user_and_old_and_new_values(client_for, users):
    customer = CustomerFactory(owner=users[R], city="Boston", name="Ann Lee")
    client = client_for(M)
    url = reverse("customers:customer_update", args=[customer.pk])
    data = form_data(client.get(url))
    data["city"] = "Chicago"
    assert client.post(url, data).status_code == 302
    record = latest(customer)
    assert record.history_type == "~"
    assert record.history_user == users[M]
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "city"] == [
        ("city", "Boston", "Chicago")
    ]
    page = client.get(history_url(customer)).content.decode()
    assert "Boston" in page and "Chicago" in page and users[M].username in page


def test_create_and_delete_are_recorded(client_for, users):
    customer = CustomerFactory(name="Short Lived")
    pk = customer.pk
    customer.delete()
    kinds = list(
        Customer.history.filter(id=pk)
        .order_by("history_date")
        .values_list("history_type", flat=True)
    )
    assert kinds == ["+", "-"]


def test_bulk_actions_leave_history_with_the_user(client_for, users):
    a = CustomerFactory(owner=users[R], lifecycle_stage="lead")
    b = CustomerFactory(owner=users["peer"], lifecycle_stage="lead")
    tag = TagFactory(name="vip")
    client = client_for(M)
    url = reverse("customers:customer_bulk")
    client.post(url, {"ids": [a.pk, b.pk], "action": "change_stage", "stage": "prospect"})
    client.post(url, {"ids": [a.pk, b.pk], "action": "assign_owner", "owner": users["peer"].pk})
    client.post(url, {"ids": [a.pk], "action": "add_tag", "tag": tag.pk})
    for customer in (a, b):
        records = list(customer.history.order_by("history_date", "history_id"))
        stage_change = records[1]
        assert stage_change.history_user == users[M]
        assert "lifecycle_stage" in stage_change.diff_against(records[0]).changed_fields
        assert (records[0].lifecycle_stage, stage_change.lifecycle_stage) == ("lead", "prospect")
    owner_change = list(a.history.order_by("history_date", "history_id"))[2]
    assert owner_change.owner_id == users["peer"].pk and owner_change.history_user == users[M]
    tagged = latest(a)
    assert "vip" in tagged.history_change_reason and tagged.history_user == users[M]
    assert b.history.count() == 3  # created, stage, owner; no tag


def test_merge_records_the_moved_rows_and_both_customers(users):
    keep = CustomerFactory(email="", name="Keep")
    # A long name makes a long reason: it is cut to the column's 100 characters.
    drop = CustomerFactory(email="drop@example.com", name="Drop " + "x" * 190)
    interaction = InteractionFactory(customer=drop)
    order = OrderFactory(customer=drop)
    ticket = TicketFactory(customer=drop)
    drop_pk = drop.pk
    customer_merge(user=users[M], keep=keep, drop=drop)
    kept = latest(keep)
    assert kept.history_user == users[M]
    assert (kept.prev_record.email, kept.email) == ("", "drop@example.com")
    assert "Merged customer" in kept.history_change_reason
    deleted = Customer.history.filter(id=drop_pk).latest("history_date")
    assert deleted.history_type == "-" and deleted.history_user == users[M]
    for obj in (interaction, order, ticket):
        record = latest(obj)
        assert record.history_user == users[M]
        assert (record.prev_record.customer_id, record.customer_id) == (drop_pk, keep.pk)


def test_import_commit_and_undo_leave_history_with_the_user(tmp_path: Path, users):
    stored = CustomerFactory(external_id="E1", city="Old Town", name="Stored One")
    path = tmp_path / "customers.csv"
    path.write_text(
        CUSTOMER_HEADER
        + "\nE1,Stored One,person,,,,New Town,,,,,,,,,,,"
        + "\nE2,Brand New,person,brand@example.com,,,Springfield,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = run_import("customers", path, users[M], commit=True)
    assert (result.create, result.update) == (1, 1)
    created = Customer.objects.get(external_id="E2")
    born = latest(created)
    assert born.history_type == "+" and born.history_user == users[M]
    assert born.email == "brand@example.com"
    assert f"#{result.batch_id}" in born.history_change_reason
    changed = latest(stored)
    assert changed.history_type == "~" and changed.history_user == users[M]
    assert (changed.prev_record.city, changed.city) == ("Old Town", "New Town")

    from customers.models import ImportBatch

    undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=users[AD])
    restored = latest(stored)
    assert restored.history_user == users[AD]
    assert (restored.prev_record.city, restored.city) == ("New Town", "Old Town")
    gone = Customer.history.filter(id=created.pk).latest("history_date")
    assert gone.history_type == "-" and gone.history_user == users[AD]
    assert "Undo" in gone.history_change_reason


def test_order_import_writes_order_history_in_bulk(tmp_path: Path, users):
    from tests.factories import ProductFactory

    customer = CustomerFactory(external_id="C1")
    ProductFactory(sku="P1", unit_price=Decimal("5.00"))
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_external_id,customer_external_id,ordered_at,product_sku,quantity,unit_price\n"
        "O1,C1,2026-01-05 10:00,P1,2,5.00\n",
        encoding="utf-8",
    )
    result = run_import("orders", path, users[M], commit=True)
    assert result.create == 1
    order = Order.objects.get(external_id="O1", customer=customer)
    record = latest(order)
    assert record.history_type == "+" and record.history_user == users[M]
    assert record.total == Decimal("10.00")


def test_deal_stage_move_and_ticket_bulk_close_are_recorded(client_for, users):
    pipeline = make_pipeline("Audit")
    deal = make_deal(pipeline=pipeline, owner=users[R])
    client = client_for(R)
    client.post(
        reverse("sales:deal_move", args=[deal.pk]),
        {"stage": stage(pipeline, "Proposal").pk},
        HTTP_ACCEPT="application/json",
    )
    record = latest(deal)
    assert record.history_user == users[R]
    assert record.prev_record.stage_id == stage(pipeline, "Lead").pk
    assert record.stage_id == stage(pipeline, "Proposal").pk

    tickets = TicketFactory.create_batch(2)
    agent = client_for(A)
    agent.post(
        reverse("service:ticket_bulk"), {"tickets": [t.pk for t in tickets], "action": "close"}
    )
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == "closed"
        record = latest(ticket)
        assert record.history_user == users[A] and record.status == "closed"
        assert record.prev_record.status != "closed"


def test_history_is_read_only(client_for, users):
    customer = CustomerFactory(owner=users[R])
    client = client_for(AD)
    url = history_url(customer)
    assert client.get(url).status_code == 200
    for method in (client.post, client.put, client.delete):
        assert method(url).status_code == 405
    assert customer.history.count() == 1
    # No historical model is in the admin, so nobody can add, change or delete history there.
    registered = {m._meta.label_lower for m in admin.site._registry}
    for model in audited_models():
        assert model.history.model._meta.label_lower not in registered
    admin_url = f"/admin/customers/historicalcustomer/{customer.history.first().pk}/change/"
    assert client.get(admin_url).status_code == 404


def test_history_follows_the_role_rules(client_for, users):
    pipeline = make_pipeline("Roles")
    peer_deal = make_deal(pipeline=pipeline, owner=users["peer"])
    assert client_for(R).get(history_url(peer_deal)).status_code == 404
    assert client_for(A).get(history_url(peer_deal)).status_code == 404
    assert client_for(M).get(history_url(peer_deal)).status_code == 200
    assert client_for(R).get(reverse("object_history", args=["auth.user", 1])).status_code == 404


def test_sensitive_fields_in_history_only_for_managers_and_admins(client_for, users):
    customer = CustomerFactory(owner=users[R], annual_income=Decimal("98765.43"))
    customer.annual_income = Decimal("12345.67")
    customer.save()
    rep_page = client_for(R).get(history_url(customer)).content.decode()
    assert "98765" not in rep_page and "12345" not in rep_page
    assert "hidden" in rep_page
    manager_page = client_for(M).get(history_url(customer)).content.decode()
    assert "98765.43" in manager_page and "12345.67" in manager_page


def test_history_page_is_paginated_with_a_constant_number_of_queries(
    client_for, users, django_assert_max_num_queries
):
    customer = CustomerFactory(owner=users[R], city="C0")
    for i in range(1, 60):
        customer.city = f"C{i}"
        customer.owner = users[R] if i % 2 else users["peer"]
        customer.save()
    client = client_for(M)
    client.get(history_url(customer))  # warm the session and role caches
    with django_assert_max_num_queries(12):
        page = client.get(history_url(customer))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert len(rows) == 25
    assert page.context["page_obj"].paginator.num_pages == 3
    newest = {field: (old, new) for field, old, new in rows[0]["changes"]}
    assert newest["city"] == ("C58", "C59")
    assert newest["owner"] == (users["peer"].username, users[R].username)
    last = client.get(history_url(customer) + "?page=3")
    assert [r["kind"] for r in last.context["rows"]][-1] == "+"


def test_demo_seed_writes_no_history(db):
    from django.utils import timezone

    from analytics.demo.seed import seed_demo

    seed_demo(scale="XS", seed=1, end=timezone.localdate())
    assert Customer.objects.exists() and Order.objects.exists()
    for model in (Customer, Interaction, Order, Deal, Ticket, Feedback):
        assert model.history.count() == 0, model
