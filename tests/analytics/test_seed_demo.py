"""The demo generator: deterministic, the right counts, and data with real structure."""

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import F, Sum

from analytics.demo.generator import SCALES, generate
from crm.roles import Role, role_of
from customers.models import Customer
from sales.models import Order, OrderLine
from service.models import Ticket

END = date(2026, 6, 30)


def _gen(seed=7):
    return generate(scale=SCALES["XS"], seed=seed, end=END, rep_ids=[1, 2], agent_ids=[3])


def test_same_seed_same_rows_other_seed_other_rows():
    a, b, c = _gen(7), _gen(7), _gen(8)
    for name in ("customers", "orders", "order_lines", "tickets", "products"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.orders["customer_id"].equals(c.orders["customer_id"])


def test_counts_match_the_scale():
    data = _gen()
    scale = SCALES["XS"]
    assert len(data.customers) == scale.customers
    assert len(data.orders) == scale.orders
    assert len(data.tickets) == scale.tickets
    assert len(data.products) == scale.products
    assert data.order_lines["order_id"].nunique() == scale.orders  # every order has lines


def test_structure_the_analytics_can_find():
    data = _gen()
    orders = data.orders
    # Seasonality: November and December carry more orders than June and July.
    months = orders["ordered_at"].dt.month
    assert (months.isin([11, 12]).sum() / 2) > (months.isin([6, 7]).sum() / 2)
    # Some customers stop buying: a good share has no order in the last 180 days.
    last = orders.groupby("customer_id")["ordered_at"].max()
    cutoff = pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=180)
    assert 0.1 < (last < cutoff).mean() < 0.9
    # Names in Chinese and English.
    names = data.customers["name"]
    assert names.str.contains(r"[\u4e00-\u9fff]").any() and names.str.contains("[A-Za-z]").any()
    # Phones are valid E.164 numbers (or missing).
    phones = [p for p in data.customers["phone"] if p][:200]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in phones)
    # Tickets refer to orders of the same customer.
    merged = data.tickets.merge(orders, left_on="order_id", right_on="id", suffixes=("", "_o"))
    assert (merged["customer_id"] == merged["customer_id_o"]).all()
    # Order totals equal the sum of their lines, to the cent.
    lines = data.order_lines.assign(
        amount=data.order_lines["unit_price"].map(Decimal) * data.order_lines["quantity"]
    )
    sums = lines.groupby("order_id")["amount"].sum()
    totals = orders.set_index("id")["total"].map(Decimal)
    assert (sums.reindex(totals.index) == totals).all()
    assert np.isin(data.order_lines["product_id"], data.products["id"]).all()


@pytest.mark.django_db(transaction=True)
def test_seed_demo_command_writes_everything_and_creates_demo_users(settings):
    call_command("seed_demo", scale="XS", seed=3, end_date="2026-06-30")
    assert Customer.objects.count() == SCALES["XS"].customers
    assert Order.objects.count() == SCALES["XS"].orders
    assert Ticket.objects.count() == SCALES["XS"].tickets
    # Totals in the database agree with the lines.
    order = Order.objects.order_by("-total").first()
    lines_sum = OrderLine.objects.filter(order=order).aggregate(
        s=Sum(F("quantity") * F("unit_price"))
    )["s"]
    assert order.total == lines_sum
    # Sequences continue after the explicit ids.
    new = Customer.objects.create(name="After seed")
    assert new.pk == SCALES["XS"].customers + 1
    for username, role in [
        ("rep", Role.SALES_REP),
        ("agent", Role.SUPPORT_AGENT),
        ("manager", Role.MANAGER),
        ("admin", Role.ADMIN),
    ]:
        user = authenticate(username=username, password=settings.DEMO_PASSWORD)
        assert user is not None and role_of(user) is role
    assert Customer.objects.filter(owner__username="rep").exists()
    # A second run without --reset leaves the data alone; with --reset replaces it.
    call_command("seed_demo", scale="XS", if_empty=True)
    assert Customer.objects.count() == SCALES["XS"].customers + 1
    call_command("seed_demo", scale="XS", seed=3, end_date="2026-06-30", reset=True)
    assert Customer.objects.count() == SCALES["XS"].customers
