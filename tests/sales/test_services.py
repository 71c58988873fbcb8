"""Deal moves, won deals becoming orders, and Decimal totals, through the services."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.roles import Role
from sales import services
from sales.models import DealStageChange, Order, OrderLine
from tests.factories import CustomerFactory, ProductFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


def test_order_total_is_the_decimal_sum_of_its_lines(users):
    lines = [
        services.LineInput(product=ProductFactory(), quantity=3, unit_price=Decimal("0.10")),
        services.LineInput(product=ProductFactory(), quantity=7, unit_price=Decimal("19.99")),
    ]
    order = services.order_create(
        customer=CustomerFactory(), lines=lines, created_by=users[Role.SALES_REP]
    )
    order.refresh_from_db()
    assert order.total == Decimal("140.23")  # 0.30 + 139.93, no float drift
    assert isinstance(order.total, Decimal)
    assert order.lines.count() == 2
    assert order.recompute_total() == Decimal("140.23")


def test_an_order_without_lines_is_refused(users):
    with pytest.raises(ValidationError):
        services.order_create(customer=CustomerFactory(), lines=[])
    assert not Order.objects.exists()


def test_deal_amount_comes_from_its_lines_and_creation_is_recorded(pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(
        pipeline=pipeline, owner=rep, lines=[(Decimal("12.50"), 4), (Decimal("0.99"), 1)]
    )
    assert deal.amount == Decimal("50.99")
    change = DealStageChange.objects.get(deal=deal)
    assert change.from_stage is None and change.to_stage.name == "Lead" and change.user == rep


def test_move_records_the_change_with_time_user_and_time_in_previous_stage(pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(pipeline=pipeline, owner=rep)
    result = services.deal_move(deal=deal, stage=stage(pipeline, "Proposal"), user=rep)
    assert result.moved and result.order is None
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.closed_at is None
    last = deal.stage_changes.order_by("-id").first()
    assert (last.from_stage.name, last.to_stage.name, last.user) == ("Lead", "Proposal", rep)
    assert last.seconds_in_from_stage is not None and last.seconds_in_from_stage >= 0


def test_move_to_a_stage_of_another_pipeline_is_refused(pipeline, other_pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(pipeline=pipeline, owner=rep)
    with pytest.raises(services.DealMoveError, match="does not belong"):
        services.deal_move(deal=deal, stage=stage(other_pipeline, "Due"), user=rep)
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"
    assert deal.stage_changes.count() == 1


def test_lost_needs_a_reason(pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(pipeline=pipeline, owner=rep)
    with pytest.raises(services.DealMoveError, match="lost"):
        services.deal_move(deal=deal, stage=stage(pipeline, "Lost"), user=rep)
    services.deal_move(deal=deal, stage=stage(pipeline, "Lost"), user=rep, lost_reason="competitor")
    deal.refresh_from_db()
    assert deal.lost_reason == "competitor" and deal.closed_at is not None


def test_won_creates_exactly_one_order_from_the_lines(pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(
        pipeline=pipeline, owner=rep, lines=[(Decimal("10.00"), 2), (Decimal("3.33"), 3)]
    )
    won, lead = stage(pipeline, "Won"), stage(pipeline, "Lead")
    result = services.deal_move(deal=deal, stage=won, user=rep)
    assert result.order is not None
    order = Order.objects.get()
    assert order.customer == deal.customer and order.created_by == rep
    assert order.total == Decimal("29.99") == deal.amount
    assert sorted(OrderLine.objects.values_list("quantity", "unit_price")) == [
        (2, Decimal("10.00")),
        (3, Decimal("3.33")),
    ]
    # The same move again, and won -> open -> won: still one order.
    assert services.deal_move(deal=deal, stage=won, user=rep).order is None
    services.deal_move(deal=deal, stage=lead, user=rep)
    assert services.deal_move(deal=deal, stage=won, user=rep).order is None
    assert Order.objects.count() == 1
    deal.refresh_from_db()
    assert deal.order == order


def test_won_without_products_is_refused(pipeline, users):
    rep = users[Role.SALES_REP]
    deal = make_deal(pipeline=pipeline, owner=rep, lines=[])
    with pytest.raises(services.DealMoveError, match="products"):
        services.deal_move(deal=deal, stage=stage(pipeline, "Won"), user=rep)
    assert not Order.objects.exists()
