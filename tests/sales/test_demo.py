"""The sales demo rows are consistent with each other and with the demo orders."""

from datetime import UTC, date, datetime

import pytest
from django.db.models import Count, F, Max, OuterRef, Subquery

from analytics.demo.seed import seed_demo
from sales.models import Deal, DealLine, DealStageChange, Pipeline, Task

pytestmark = pytest.mark.django_db


def test_demo_deals_histories_orders_and_tasks(django_user_model):
    counts = seed_demo(scale="XS", seed=5, end=date(2026, 6, 30), log=lambda *_: None)
    assert counts["sales.deal"] == Deal.objects.count() >= 60
    assert Pipeline.objects.count() == 2
    # Every deal's current stage is where its last recorded change took it.
    last_to = Subquery(
        DealStageChange.objects.filter(deal=OuterRef("pk"))
        .order_by("-changed_at", "-id")
        .values("to_stage")[:1]
    )
    assert not Deal.objects.annotate(last=last_to).exclude(stage_id=F("last")).exists()
    assert not Deal.objects.exclude(stage__pipeline=F("pipeline")).exists()
    first = DealStageChange.objects.filter(from_stage=None).values("deal").annotate(n=Count("id"))
    assert first.count() == Deal.objects.count() and max(r["n"] for r in first) == 1
    # Won deals are demo orders of the same customer, with the same amount; others are not.
    won = Deal.objects.filter(stage__outcome="won").select_related("order")
    assert won.exists()
    for deal in won:
        assert deal.order.customer_id == deal.customer_id
        assert deal.order.total == deal.amount
    assert not Deal.objects.exclude(stage__outcome="won").filter(order__isnull=False).exists()
    assert not Deal.objects.filter(stage__outcome="lost", lost_reason="").exists()
    # Amounts are the sums of the lines; moves never go back in time.
    for deal in Deal.objects.order_by("id")[:50]:
        assert deal.amount == sum(li.amount for li in DealLine.objects.filter(deal=deal))
    assert (
        DealStageChange.objects.values("deal")
        .annotate(last=Max("changed_at"))
        .filter(last__gt=datetime(2026, 7, 1, tzinfo=UTC))
        .count()
        == 0
    )
    rep = django_user_model.objects.get(username="rep")
    assert Task.objects.filter(assignee=rep).exists()
    assert not Deal.objects.filter(owner__username__in=["agent", "manager"]).exists()
