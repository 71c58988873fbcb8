"""Report figures equal a direct computation in Python on the same rows; CSV and access."""

import csv
import io
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from sales import reports, services, summaries
from sales.models import Deal, DealStageChange, Order, OrderLine
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

R, M = Role.SALES_REP, Role.MANAGER
CENT = Decimal("0.01")


@pytest.fixture
def sales_rows(users, pipeline):
    """Orders over several months for two reps' customers, in three categories, with a
    cancelled order that must not count; deals walked through the pipeline."""
    rep, peer = users[R], users["peer"]
    products = [
        ProductFactory(category=cat, unit_price=Decimal(price))
        for cat, price in [
            ("Tools", "9.99"),
            ("Tools", "0.35"),
            ("Food", "3.10"),
            ("Toys", "12.00"),
        ]
    ]
    base = timezone.now().replace(day=15, hour=12) - timedelta(days=120)
    customers = [
        CustomerFactory(owner=rep),
        CustomerFactory(owner=peer),
        CustomerFactory(owner=None),
    ]
    for i in range(14):
        status = "cancelled" if i == 5 else ("draft" if i == 9 else "completed")
        order = OrderFactory(
            customer=customers[i % 3], ordered_at=base + timedelta(days=9 * i), status=status
        )
        for j in range(1 + i % 3):
            p = products[(i + j) % 4]
            OrderLineFactory(
                order=order, product=p, quantity=1 + (i * j) % 5, unit_price=p.unit_price
            )
        order.recompute_total()
        order.save()
    # Deals: some won, some lost, some open with probabilities and expected close dates.
    lead, proposal, won, lost = (stage(pipeline, n) for n in ("Lead", "Proposal", "Won", "Lost"))
    today = timezone.localdate()
    for i in range(9):
        owner = rep if i % 2 else peer
        deal = make_deal(
            pipeline=pipeline,
            owner=owner,
            lines=[(Decimal("10.00") + i, 1 + i % 3)],
            expected_close=today + timedelta(days=35 * (i % 4)) if i % 5 else None,
        )
        if i % 3 == 0:
            services.deal_move(deal=deal, stage=proposal, user=owner)
        if i in (0, 3):
            services.deal_move(deal=deal, stage=won, user=owner)
        if i in (1, 6, 7):
            reason = ["price", "competitor", "price"][[1, 6, 7].index(i)]
            services.deal_move(deal=deal, stage=lost, user=owner, lost_reason=reason)
    # The orders above were written by factories, around the services that refresh the
    # report summaries: rebuild them, as the nightly job would.
    summaries.rebuild_all()
    # Give the moves distinct durations so averages mean something.
    for n, change in enumerate(DealStageChange.objects.exclude(from_stage=None).order_by("id")):
        DealStageChange.objects.filter(pk=change.pk).update(
            seconds_in_from_stage=3600 * (5 + 7 * n)
        )
    return {"rep": rep, "peer": peer, "lead": lead}


def _filter(**kw):
    today = timezone.localdate()
    return reports.ReportFilter(start=today - timedelta(days=365), end=today, **kw)


def _counted_orders(f):
    return [
        o
        for o in Order.objects.select_related("customer")
        if o.status not in ("draft", "cancelled")
        and f.start_dt <= o.ordered_at < f.end_dt
        and (f.rep_id is None or o.customer.owner_id == f.rep_id)
    ]


@pytest.mark.parametrize("who", [None, "rep"])
def test_revenue_reports_equal_a_direct_computation(sales_rows, who):
    f = _filter(rep_id=sales_rows[who].pk if who else None)
    orders = _counted_orders(f)
    assert orders  # the fixture has rows in the period
    by_month, by_rep = defaultdict(Decimal), defaultdict(Decimal)
    for o in orders:
        by_month[timezone.localtime(o.ordered_at).strftime("%Y-%m")] += o.total
        by_rep[o.customer.owner.username if o.customer.owner else "(no owner)"] += o.total
    got = {r["month"]: r["revenue"] for r in reports.revenue_by_month(f).rows}
    assert got == dict(by_month)
    assert {r["rep"]: r["revenue"] for r in reports.revenue_by_rep(f).rows} == dict(by_rep)
    by_product, by_category = defaultdict(Decimal), defaultdict(Decimal)
    units = defaultdict(int)
    ids = {o.pk for o in orders}
    for line in OrderLine.objects.select_related("product"):
        if line.order_id in ids:
            by_product[line.product.sku] += line.quantity * line.unit_price
            by_category[line.product.category] += line.quantity * line.unit_price
            units[line.product.sku] += line.quantity
    rows = reports.revenue_by_product(f).rows
    assert {r["sku"]: r["revenue"] for r in rows} == dict(by_product)
    assert {r["sku"]: r["quantity"] for r in rows} == dict(units)
    assert [r["revenue"] for r in rows] == sorted((r["revenue"] for r in rows), reverse=True)
    assert {r["category"]: r["revenue"] for r in reports.revenue_by_category(f).rows} == dict(
        by_category
    )


def test_deal_reports_equal_a_direct_computation(sales_rows, pipeline):
    f = _filter(pipeline=pipeline)
    deals = list(Deal.objects.select_related("stage", "owner"))
    # Win rate per rep.
    expected = defaultdict(lambda: [0, 0, Decimal(0)])
    for d in deals:
        if d.closed_at and f.start_dt <= d.closed_at < f.end_dt:
            row = expected[d.owner.username]
            if d.stage.outcome == "won":
                row[0] += 1
                row[2] += d.amount
            else:
                row[1] += 1
    got = {r["rep"]: [r["won"], r["lost"], r["won_amount"]] for r in reports.win_rate(f).rows}
    assert got == {k: list(v) for k, v in expected.items()}
    for r in reports.win_rate(f).rows:
        assert r["win_rate"] == (Decimal(r["won"] * 100) / (r["won"] + r["lost"])).quantize(
            Decimal("0.1")
        )
    # Lost reasons.
    reasons = defaultdict(int)
    for d in deals:
        if d.stage.outcome == "lost":
            reasons[d.get_lost_reason_display()] += 1
    assert {r["reason"]: r["deals"] for r in reports.lost_reasons(f).rows} == dict(reasons)
    # Forecast: open deals by expected close month, weighted by probability.
    amount, weighted = defaultdict(Decimal), defaultdict(Decimal)
    for d in deals:
        if d.stage.outcome == "open":
            key = d.expected_close.strftime("%Y-%m") if d.expected_close else "(no date)"
            amount[key] += d.amount
            weighted[key] += d.amount * d.stage.probability / 100
    rows = reports.forecast(f).rows
    assert {r["month"]: r["amount"] for r in rows} == dict(amount)
    assert {r["month"]: r["weighted"] for r in rows} == {
        k: v.quantize(CENT) for k, v in weighted.items()
    }
    # Funnel: deals that reached each non-lost stage, conversion and days in stage.
    stages = [s for s in pipeline.stages.all() if s.outcome != "lost"]
    furthest = {}
    for c in DealStageChange.objects.select_related("to_stage"):
        if c.to_stage.outcome != "lost":
            furthest[c.deal_id] = max(furthest.get(c.deal_id, 0), c.to_stage.order)
    reached = [sum(1 for v in furthest.values() if v >= s.order) for s in stages]
    stay = defaultdict(list)
    for c in DealStageChange.objects.exclude(from_stage=None):
        stay[c.from_stage_id].append(c.seconds_in_from_stage)
    rows = reports.funnel(f).rows
    assert [r["stage"] for r in rows] == [s.name for s in stages]
    assert [r["reached"] for r in rows] == reached
    for i, r in enumerate(rows[:-1]):
        assert r["conversion"] == (Decimal(reached[i + 1] * 100) / reached[i]).quantize(
            Decimal("0.1")
        )
    for s, r in zip(stages, rows, strict=True):
        if stay[s.pk]:
            avg = Decimal(sum(stay[s.pk])) / len(stay[s.pk]) / 86400
            assert r["avg_days"] == avg.quantize(Decimal("0.1"))
        else:
            assert r["avg_days"] is None


def test_reports_page_and_csv_export(client_for, sales_rows, pipeline):
    client = client_for(M)
    response = client.get(reverse("sales:report_index"), {"pipeline": pipeline.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="sales-report-charts"' in body and "chart.umd.min.js" in body
    assert set(response.context["charts"]) == set(reports.REPORTS)
    for key in reports.REPORTS:
        csv_response = client.get(
            reverse("sales:report_csv", args=[key]), {"pipeline": pipeline.pk}
        )
        assert csv_response.status_code == 200
        assert csv_response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
        report = reports.REPORTS[key](_filter(pipeline=pipeline))
        assert rows[0] == [k for k, _ in report.columns]
        assert len(rows) - 1 == len(report.rows)
    month_csv = client.get(reverse("sales:report_csv", args=["revenue_by_month"])).content.decode()
    total = sum(Decimal(r["revenue"]) for r in csv.DictReader(io.StringIO(month_csv)))
    assert total == response.context["summary"]["revenue"]
    assert client.get(reverse("sales:report_csv", args=["nope"])).status_code == 404


def test_reports_are_for_managers_and_bad_filters_fall_back(client_for, sales_rows):
    assert client_for(R).get(reverse("sales:report_csv", args=["funnel"])).status_code == 403
    response = client_for(M).get(reverse("sales:report_index"), {"start": "2026-13-40", "end": "x"})
    assert response.status_code == 200
    assert response.context["report_filter"].end == timezone.localdate()
    response = client_for(M).get(
        reverse("sales:report_index"), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert "before its start" in response.content.decode()


def test_a_won_deal_shows_up_in_the_managers_revenue(client_for, users, pipeline):
    deal = make_deal(
        pipeline=pipeline,
        owner=users[R],
        customer=CustomerFactory(owner=users[R]),
        lines=[(Decimal("123.45"), 2)],
    )
    f = _filter(rep_id=users[R].pk)
    before = sum(r["revenue"] for r in reports.revenue_by_month(f).rows)
    services.deal_move(deal=deal, stage=stage(pipeline, "Won"), user=users[R])
    response = client_for(M).get(reverse("sales:report_index"), {"rep": users[R].pk})
    assert response.context["summary"]["revenue"] == before + Decimal("246.90")
    win = {r["rep"]: r["won"] for r in response.context["reports"]["win_rate"].rows}
    assert win == {users[R].username: 1}


def test_a_rep_sees_only_their_own_figures_and_cannot_pick_another_rep(
    client_for, sales_rows, users
):
    rep = users[R]
    response = client_for(R).get(reverse("sales:report_index"), {"rep": users["peer"].pk})
    assert response.status_code == 200
    assert response.context["report_filter"].rep_id == rep.pk
    assert "rep" not in response.context["form"].fields
    own = _filter(rep_id=rep.pk)
    assert response.context["summary"]["revenue"] == sum(o.total for o in _counted_orders(own))
    assert {r["rep"] for r in response.context["reports"]["revenue_by_rep"].rows} == {rep.username}
    assert {r["rep"] for r in response.context["reports"]["win_rate"].rows} <= {rep.username}
    assert 'data-testid="csv-funnel"' not in response.content.decode()


def test_cached_reports_follow_new_orders_and_moves(
    sales_rows, pipeline, users, django_assert_max_num_queries
):
    f = _filter(pipeline=pipeline)
    first = reports.build_reports(f)
    with django_assert_max_num_queries(4):  # the data version only
        again = reports.build_reports(f)
    assert again["revenue_by_month"].rows == first["revenue_by_month"].rows
    rep = users[R]
    deal = make_deal(
        pipeline=pipeline,
        owner=rep,
        customer=CustomerFactory(owner=rep),
        lines=[(Decimal("1000.00"), 1)],
    )
    services.deal_move(deal=deal, stage=stage(pipeline, "Won"), user=rep)
    after = reports.build_reports(f)
    revenue = [sum(r["revenue"] for r in x["revenue_by_month"].rows) for x in (first, after)]
    assert revenue[1] == revenue[0] + Decimal("1000.00")
    won = [
        {r["rep"]: r["won"] for r in x["win_rate"].rows}.get(rep.username, 0)
        for x in (first, after)
    ]
    assert won[1] == won[0] + 1


def test_report_csv_escapes_names_a_spreadsheet_would_run(client_for, sales_rows):
    product = OrderLine.objects.select_related("product").first().product
    product.name = '=HYPERLINK("http://evil.example","click")'
    product.save()
    summaries.rebuild_all()
    body = client_for(M).get(reverse("sales:report_csv", args=["revenue_by_product"]))
    names = [row[1] for row in csv.reader(io.StringIO(body.content.decode()))][1:]
    assert "'" + product.name in names
    assert product.name not in names
