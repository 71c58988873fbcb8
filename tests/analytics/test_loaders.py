"""Loaders: one query per frame, every column of its declared type on any database."""

from datetime import timedelta
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from analytics import loaders
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, TicketFactory


def test_frames_have_their_declared_types(db, django_assert_max_num_queries):
    c = CustomerFactory(annual_income=Decimal("52000.50"), birth_date="1980-05-06")
    o = OrderFactory(customer=c, total=Decimal("19.99"))
    OrderFactory(customer=c, status="cancelled")
    OrderLineFactory(order=o)
    now = timezone.now()
    TicketFactory(customer=c, first_response_due=now - timedelta(hours=5), first_responded_at=now)
    TicketFactory(customer=c, resolution_due=now + timedelta(hours=5))

    # One query (on PostgreSQL a COPY through the raw cursor, which Django does not count).
    with django_assert_max_num_queries(1):
        orders = loaders.load_orders()
    assert len(orders) == 1  # the cancelled order is no revenue
    assert str(orders["ordered_at"].dtype) == "datetime64[ns, UTC]" or str(
        orders["ordered_at"].dtype
    ).endswith(", UTC]")
    assert orders["total"].dtype == "float64" and orders["total"].iloc[0] == 19.99
    assert orders["customer_id"].dtype == "int64"

    lines = loaders.load_order_lines()
    assert list(lines.columns) == ["order_id", "customer_id", "product_id"]
    assert (lines["customer_id"] == c.pk).all()

    customers = loaders.load_customers()
    row = customers.set_index("id").loc[c.pk]
    assert row["annual_income"] == 52000.5
    assert pd.Timestamp(row["birth_date"]) == pd.Timestamp("1980-05-06")
    assert str(customers["created_at"].dtype).endswith(", UTC]")

    tickets = loaders.load_tickets()
    assert tickets["breached"].dtype == bool
    assert sorted(tickets["breached"]) == [False, True]  # late first response; one not yet due


def test_feedback_loader_is_empty_but_typed_without_feedback(db):
    fb = loaders.load_feedback()
    assert list(fb.columns) == ["customer_id", "created_at", "csat", "ces", "nps"]
    assert fb.empty and fb["csat"].dtype == "float64"


def test_coerce_reads_text_timestamps_and_numbers():
    raw = pd.DataFrame(
        {
            "a": ["1", "2"],
            "t": ["2026-01-01 10:00:00+00", "2026-01-02 11:30:00.5+00"],
            "x": ["1.5", None],
        }
    )
    out = loaders.coerce(raw, {"a": "int", "t": "datetime", "x": "float"})
    assert out["a"].dtype == "int64"
    assert out["t"].iloc[1] == pd.Timestamp("2026-01-02 11:30:00.5", tz="UTC")
    assert out["x"].isna().iloc[1]


def test_order_totals_in_sql_equal_the_summary_of_the_orders(db):
    """Segmentation reads per-customer totals summed by the database: the same figures as
    the pandas summary of the orders themselves."""
    from analytics.jobs.summary import TOTALS, summarise

    now = timezone.now()
    a, b = CustomerFactory(), CustomerFactory()
    for days, total in ((400, "10.10"), (30, "5.25"), (1, "100.00")):
        OrderFactory(customer=a, total=Decimal(total), ordered_at=now - timedelta(days=days))
    OrderFactory(customer=b, total=Decimal("7.00"), ordered_at=now - timedelta(days=3))
    OrderFactory(customer=b, status="cancelled", ordered_at=now)

    totals = loaders.load_customer_order_totals()
    expected = summarise(loaders.load_orders())[TOTALS]
    pd.testing.assert_frame_equal(totals[TOTALS], expected, check_exact=False, rtol=1e-12)
    assert totals.set_index("customer_id").loc[a.pk, "revenue"] == 115.35
