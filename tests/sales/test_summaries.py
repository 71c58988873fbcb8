"""The report summaries stay equal to the orders after every kind of write: the services,
the API, an import and its undo; cut months are added or subtracted exactly."""

import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.roles import Role
from customers.import_models import ImportBatch
from customers.import_services import run_import, undo_now
from sales import reports, services, summaries
from sales.importing import ORDER_COLUMNS
from sales.models import (
    CategoryMonthSummary,
    Order,
    OrderDaySummary,
    OrderLine,
    ProductMonthSummary,
    ProductMonthTotal,
)
from tests.customers.import_files import to_csv
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

R = Role.SALES_REP


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=timezone.get_default_timezone()
    )


def table_rows():
    """Everything the summary tables hold, in a comparable form."""
    tables = [
        (OrderDaySummary, ("day", "owner_id", "orders", "revenue")),
        (ProductMonthSummary, ("month", "owner_id", "product_id", "units", "revenue")),
        (ProductMonthTotal, ("month", "product_id", "units", "revenue")),
        (CategoryMonthSummary, ("month", "owner_id", "category", "units", "revenue")),
    ]
    return tuple(sorted(model.objects.values_list(*cols), key=repr) for model, cols in tables)


def assert_same_as_a_rebuild():
    """The incrementally refreshed rows are exactly what a rebuild from all orders gives."""
    refreshed = table_rows()
    summaries.rebuild_all()
    assert refreshed == table_rows()


def direct(f: reports.ReportFilter):
    """Revenue by month, rep, product and category computed in Python from the orders."""
    month, rep, product, units, category = (defaultdict(Decimal) for _ in range(5))
    for o in Order.objects.select_related("customer__owner").prefetch_related("lines__product"):
        if o.status in ("draft", "cancelled") or not (f.start_dt <= o.ordered_at < f.end_dt):
            continue
        owner = o.customer.owner
        if f.rep_id and (owner is None or owner.pk != f.rep_id):
            continue
        month[timezone.localtime(o.ordered_at).strftime("%Y-%m")] += o.total
        rep[owner.username if owner else "(no owner)"] += o.total
        for line in o.lines.all():
            product[line.product.sku] += line.quantity * line.unit_price
            units[line.product.sku] += line.quantity
            category[line.product.category] += line.quantity * line.unit_price
    return dict(month), dict(rep), dict(product), dict(units), dict(category)


def from_reports(f: reports.ReportFilter):
    products = reports.revenue_by_product(f).rows
    return (
        {r["month"]: r["revenue"] for r in reports.revenue_by_month(f).rows},
        {r["rep"]: r["revenue"] for r in reports.revenue_by_rep(f).rows},
        {r["sku"]: r["revenue"] for r in products},
        {r["sku"]: r["quantity"] for r in products},
        {r["category"]: r["revenue"] for r in reports.revenue_by_category(f).rows},
    )


def year(**kw) -> reports.ReportFilter:
    today = timezone.localdate()
    return reports.ReportFilter(start=today - timedelta(days=400), end=today, **kw)


@pytest.fixture
def shop(users):
    rep, peer = users[R], users["peer"]
    products = [
        ProductFactory(category="Tools", unit_price=Decimal("9.99")),
        ProductFactory(category="Food", unit_price=Decimal("3.10")),
        ProductFactory(category="Toys", unit_price=Decimal("12.00")),
    ]
    customers = [CustomerFactory(owner=rep), CustomerFactory(owner=peer), CustomerFactory()]
    return {"rep": rep, "peer": peer, "products": products, "customers": customers}


def line(product, quantity, price=None):
    return services.LineInput(
        product=product, quantity=quantity, unit_price=price or product.unit_price
    )


def test_orders_created_changed_and_cancelled_through_the_services(shop):
    p1, p2, p3 = shop["products"]
    c1, c2, c3 = shop["customers"]
    today = timezone.localdate()
    services.order_create(customer=c1, lines=[line(p1, 2), line(p2, 1)], ordered_at=at(today))
    second = services.order_create(
        customer=c2, lines=[line(p3, 5, Decimal("11.50"))], ordered_at=at(today - timedelta(40))
    )
    services.order_create(customer=c3, lines=[line(p2, 3)], ordered_at=at(today, 0, 0))
    f = year()
    assert from_reports(f) == direct(f)
    assert from_reports(year(rep_id=shop["rep"].pk)) == direct(year(rep_id=shop["rep"].pk))
    assert sum(r["revenue"] for r in reports.revenue_by_month(f).rows) == Decimal(
        "23.08"
    ) + Decimal("57.50") + Decimal("9.30")
    services.order_set_status(order=second, status="cancelled")
    assert from_reports(f) == direct(f)
    assert p3.sku not in {r["sku"] for r in reports.revenue_by_product(f).rows}
    services.order_set_status(order=second, status="completed")
    assert from_reports(f) == direct(f)
    assert_same_as_a_rebuild()


def test_a_won_deal_refreshes_the_summary(shop, pipeline):
    deal = make_deal(
        pipeline=pipeline,
        owner=shop["rep"],
        customer=shop["customers"][0],
        lines=[(Decimal("70.00"), 3)],
    )
    services.deal_move(deal=deal, stage=stage(pipeline, "Won"), user=shop["rep"])
    f = year(rep_id=shop["rep"].pk)
    assert {r["rep"]: r["revenue"] for r in reports.revenue_by_rep(f).rows} == {
        shop["rep"].username: Decimal("210.00")
    }
    assert from_reports(f) == direct(f)
    assert_same_as_a_rebuild()


def test_orders_changed_and_deleted_through_the_api(shop, api_for):
    p1, p2, p3 = shop["products"]
    client = api_for(Role.MANAGER)
    today = timezone.localdate()
    created = client.post(
        "/api/v1/orders/",
        {
            "customer": shop["customers"][0].pk,
            "ordered_at": at(today - timedelta(days=70)).isoformat(),
            "lines": [{"product": p1.pk, "quantity": 2}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    order_id = created.json()["id"]
    f = year()
    assert from_reports(f) == direct(f)
    # A new date (another month), another customer (another rep) and other products.
    changed = client.patch(
        f"/api/v1/orders/{order_id}/",
        {
            "ordered_at": at(today - timedelta(days=10)).isoformat(),
            "customer": shop["customers"][1].pk,
            "lines": [{"product": p2.pk, "quantity": 7}, {"product": p3.pk, "quantity": 1}],
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert from_reports(f) == direct(f)
    assert p1.sku not in {r["sku"] for r in reports.revenue_by_product(f).rows}
    assert_same_as_a_rebuild()
    assert client.delete(f"/api/v1/orders/{order_id}/").status_code == 204
    assert from_reports(f) == direct(f) == ({}, {}, {}, {}, {})
    assert table_rows() == ([], [], [], [])


def test_an_import_commit_and_its_undo(shop, tmp_path):
    p1, p2, _p3 = shop["products"]
    c1, c2, _c3 = shop["customers"]
    c1.external_id, c2.external_id = "C1", "C2"
    c1.save()
    c2.save()
    today = timezone.localdate()
    kept = services.order_create(
        customer=c1, lines=[line(p1, 1)], ordered_at=at(today - timedelta(days=5))
    )
    kept.external_id = "OLD"
    kept.save()
    new_day = (today - timedelta(days=95)).isoformat()
    rows = [
        # a new order over two lines, and the stored one moved to another month and product
        ["N1", "C2", f"{today.isoformat()} 09:00", p1.sku, "4", ""],
        ["N1", "C2", f"{today.isoformat()} 09:00", p2.sku, "1", "2.00"],
        ["OLD", "C1", f"{new_day} 10:00", p2.sku, "3", ""],
    ]
    path = tmp_path / "orders.csv"
    path.write_text(to_csv([dict(zip(ORDER_COLUMNS, r, strict=True)) for r in rows], ORDER_COLUMNS))
    result = run_import("orders", path, None, commit=True)
    assert (result.create, result.update, result.reject) == (1, 1, 0)
    f = year()
    assert from_reports(f) == direct(f)
    assert new_day[:7] in {r["month"] for r in reports.revenue_by_month(f).rows}
    assert_same_as_a_rebuild()
    undo_now(batch=ImportBatch.objects.get(pk=result.batch_id), user=shop["rep"])
    assert from_reports(f) == direct(f)
    assert Order.objects.get(external_id="OLD").lines.get().product == p1
    assert_same_as_a_rebuild()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 1, 10), date(2025, 3, 25)),  # cut months taken whole minus the outside
        (date(2025, 1, 25), date(2025, 3, 5)),  # cut months added from their lines
        (date(2025, 2, 1), date(2025, 2, 28)),  # one whole month
        (date(2025, 2, 14), date(2025, 2, 14)),  # one day
    ],
)
def test_periods_that_cut_months_equal_a_direct_computation(shop, start, end):
    p1, p2, p3 = shop["products"]
    c1, c2, c3 = shop["customers"]
    moments = [
        at(date(2025, 1, 9), 23, 59),
        at(date(2025, 1, 10), 0, 0),
        at(date(2025, 1, 24), 23, 59),
        at(date(2025, 1, 25), 0, 0),
        at(date(2025, 2, 14)),
        at(date(2025, 2, 28), 23, 59),
        at(date(2025, 3, 5), 23, 59),
        at(date(2025, 3, 6), 0, 0),
        at(date(2025, 3, 25), 23, 59),
        at(date(2025, 3, 26), 0, 0),
    ]
    for i, moment in enumerate(moments):
        services.order_create(
            customer=(c1, c2, c3)[i % 3],
            lines=[line((p1, p2, p3)[i % 3], 1 + i), line((p1, p2, p3)[(i + 1) % 3], 2)],
            ordered_at=moment,
        )
    for rep_id in (None, shop["rep"].pk):
        f = reports.ReportFilter(start=start, end=end, rep_id=rep_id)
        assert from_reports(f) == direct(f)
    assert_same_as_a_rebuild()


def test_month_plan_reads_whole_months_and_the_shorter_side_of_cut_ones():
    months, add, subtract = reports.month_plan(date(2025, 1, 10), date(2025, 3, 5))
    assert months == [date(2025, 1, 1), date(2025, 2, 1)]
    assert subtract == [(date(2025, 1, 1), date(2025, 1, 10))]
    assert add == [(date(2025, 3, 1), date(2025, 3, 6))]


def test_the_reports_run_a_constant_number_of_queries(shop, pipeline):
    p1, p2, p3 = shop["products"]
    today = timezone.localdate()
    f = reports.ReportFilter(start=today - timedelta(days=200), end=today, pipeline=pipeline)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            for build in reports.REPORTS.values():
                build(f)
        return len(ctx.captured_queries)

    services.order_create(customer=shop["customers"][0], lines=[line(p1, 1)], ordered_at=at(today))
    few = count()
    for i in range(40):
        services.order_create(
            customer=shop["customers"][i % 3],
            lines=[line(ProductFactory(), 1), line((p1, p2, p3)[i % 3], 2)],
            ordered_at=at(today - timedelta(days=5 * i)),
        )
    assert count() == few <= 16


def test_the_rebuild_command_restores_rows_written_around_the_services(shop):
    order = OrderFactory(customer=shop["customers"][0], status="completed")
    OrderLineFactory(order=order, product=shop["products"][0], quantity=3, unit_price=Decimal(2))
    order.recompute_total()
    order.save()
    f = year()
    assert reports.revenue_by_month(f).rows == []  # written around the services
    call_command("rebuild_sales_summaries", stdout=io.StringIO())
    assert from_reports(f) == direct(f)
    assert sum(r["revenue"] for r in reports.revenue_by_month(f).rows) == Decimal("6.00")
    assert OrderLine.objects.count() == 1


def test_revenue_follows_a_customer_to_a_new_owner(shop, users, django_capture_on_commit_callbacks):
    from customers import services as customer_services
    from customers.choices import BulkAction

    p1, p2, _p3 = shop["products"]
    c1, c2, c3 = shop["customers"]
    today = timezone.localdate()
    for i, customer in enumerate((c1, c1, c2, c3)):
        services.order_create(
            customer=customer,
            lines=[line(p1, 1 + i), line(p2, 2)],
            ordered_at=at(today - timedelta(days=30 * i)),
        )
    f = year()
    assert from_reports(f) == direct(f)
    # One customer given to the peer on its form.
    with django_capture_on_commit_callbacks(execute=True):
        c1.owner = shop["peer"]
        customer_services.customer_save(user=users[Role.MANAGER], customer=c1)
    assert from_reports(f) == direct(f)
    assert shop["rep"].username not in {r["rep"] for r in reports.revenue_by_rep(f).rows}
    assert_same_as_a_rebuild()
    # Two customers handed to the rep in one bulk action.
    with django_capture_on_commit_callbacks(execute=True):
        changed, _skipped = customer_services.customers_bulk_update(
            user=users[Role.MANAGER],
            ids=[c1.pk, c3.pk],
            action=BulkAction.ASSIGN_OWNER,
            value=shop["rep"],
        )
    assert changed == 2
    assert from_reports(f) == direct(f)
    assert from_reports(year(rep_id=shop["rep"].pk)) == direct(year(rep_id=shop["rep"].pk))
    assert_same_as_a_rebuild()


def test_a_merge_moves_the_dropped_customers_revenue_to_the_kept_owner(
    shop, users, django_capture_on_commit_callbacks
):
    from customers import services as customer_services

    p1, _p2, _p3 = shop["products"]
    keep, drop, _c3 = shop["customers"]  # owned by the rep and by the peer
    services.order_create(customer=drop, lines=[line(p1, 4)], ordered_at=at(timezone.localdate()))
    f = year()
    assert {r["rep"] for r in reports.revenue_by_rep(f).rows} == {shop["peer"].username}
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.customer_merge(user=users[Role.MANAGER], keep=keep, drop=drop)
    assert {r["rep"] for r in reports.revenue_by_rep(f).rows} == {shop["rep"].username}
    assert from_reports(f) == direct(f)
    assert_same_as_a_rebuild()


def test_a_new_order_recomputes_the_order_reports_and_keeps_the_deal_reports_cached(
    shop, pipeline, monkeypatch
):
    today = timezone.localdate()
    f = reports.ReportFilter(start=today - timedelta(days=30), end=today, pipeline=pipeline)
    first = reports.build_reports(f)
    computed = []
    for key, build in list(reports.REPORTS.items()):
        monkeypatch.setitem(
            reports.REPORTS, key, lambda f, key=key, build=build: computed.append(key) or build(f)
        )
    services.order_create(
        customer=shop["customers"][0], lines=[line(shop["products"][0], 3)], ordered_at=at(today)
    )
    after = reports.build_reports(f)
    assert set(computed) == reports.ORDER_REPORTS
    added = sum(r["revenue"] for r in after["revenue_by_month"].rows) - sum(
        r["revenue"] for r in first["revenue_by_month"].rows
    )
    assert added == Decimal("29.97")
