"""The customers part of the demo data: lifecycle history that agrees with each customer's
stage, and needs whose resolved date follows their status."""

from datetime import date

import pytest

from analytics.demo.seed import seed_demo
from customers.models import Customer, LifecycleChange, Need

pytestmark = pytest.mark.django_db


def test_demo_lifecycle_history_and_needs():
    counts = seed_demo(scale="XS", seed=3, end=date(2026, 6, 30), log=lambda *_: None)
    assert counts["customers.lifecyclechange"] >= Customer.objects.count()
    assert counts["customers.need"] == Need.objects.count() > 0
    firsts = LifecycleChange.objects.filter(from_stage="", to_stage="lead")
    assert firsts.count() == Customer.objects.count()
    history: dict[int, list[tuple]] = {}
    for row in LifecycleChange.objects.order_by("customer_id", "changed_at", "id").values_list(
        "customer_id", "from_stage", "to_stage"
    ):
        history.setdefault(row[0], []).append(row[1:])
    expected = {
        "lead": [("", "lead")],
        "prospect": [("", "lead"), ("lead", "prospect")],
        "customer": [("", "lead"), ("lead", "customer")],
        "former": [("", "lead"), ("lead", "customer"), ("customer", "former")],
    }
    for pk, stage in Customer.objects.values_list("pk", "lifecycle_stage"):
        assert history[pk] == expected[stage]
    for need in Need.objects.all():
        assert (need.resolved_at is not None) == (need.status in ("met", "dropped"))
    # The sequences moved on: a new row gets a fresh id.
    assert (
        Need.objects.create(customer=Customer.objects.first(), description="x").pk
        > counts["customers.need"]
    )
