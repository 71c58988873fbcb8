"""The managers' dashboard: KPI figures against direct computations, the job panels (empty,
failed, thin data, run now with progress), filters, CSV exports, roles, caching and query
counts."""

import csv
import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import dashboard, services
from analytics.choices import JobKind, JobStatus
from analytics.models import (
    AssociationRule,
    ChurnRate,
    CustomerScore,
    CustomerSegment,
    Forecast,
    JobRun,
    SatisfactionPeriod,
    Segment,
)
from crm.roles import Role
from customers.models import Customer
from sales.models import Deal, Order, PipelineStage
from service.models import Feedback, Ticket
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, TicketFactory
from tests.sales.factories import make_deal, make_pipeline
from tests.service.factories import FeedbackFactory

pytestmark = pytest.mark.django_db

URL = "/analytics/"
NOW = timezone.now()


def _ok_run(kind, **fields):
    fields.setdefault("finished_at", timezone.now())
    return JobRun.objects.create(kind=kind, status=JobStatus.SUCCEEDED, progress=100, **fields)


# --- KPI figures --------------------------------------------------------------------------


def _random_history(rng: random.Random, users):
    """Customers, orders, deals, tickets, feedback and churn rates spread over 200 days."""
    customers = []
    for i in range(40):
        c = CustomerFactory(owner=users[Role.SALES_REP] if i % 2 else users["peer"])
        Customer.objects.filter(pk=c.pk).update(
            created_at=NOW - timedelta(days=rng.randint(0, 200))
        )
        customers.append(c)
    for _ in range(150):
        OrderFactory(
            customer=rng.choice(customers),
            ordered_at=NOW - timedelta(days=rng.uniform(0, 200)),
            status=rng.choice(["completed", "completed", "shipped", "cancelled", "draft"]),
            total=Decimal(rng.randint(100, 90000)) / 100,
        )
    pipeline = make_pipeline()
    stages = {s.name: s for s in PipelineStage.objects.filter(pipeline=pipeline)}
    for _ in range(25):
        deal = make_deal(pipeline=pipeline, owner=users[Role.SALES_REP], customer=customers[0])
        name = rng.choice(["Lead", "Proposal", "Won", "Lost"])
        created = NOW - timedelta(days=rng.uniform(0, 200))
        closed = None
        if name in ("Won", "Lost"):
            closed = created + timedelta(days=rng.uniform(0, (NOW - created).days))
        Deal.objects.filter(pk=deal.pk).update(
            stage=stages[name],
            created_at=created,
            closed_at=closed,
            amount=Decimal(rng.randint(0, 500000)) / 100,
        )
    for _ in range(60):
        created = NOW - timedelta(days=rng.uniform(0, 200))
        resolved = None
        if rng.random() < 0.7:
            resolved = created + timedelta(hours=rng.uniform(1, 200))
            resolved = min(resolved, NOW - timedelta(minutes=1))
        responded = created + timedelta(hours=rng.uniform(0, 10))
        TicketFactory(
            customer=rng.choice(customers),
            category=rng.choice(["question", "complaint", "technical"]),
            status="resolved" if resolved else rng.choice(["new", "open", "pending"]),
            created_at=created,
            resolved_at=resolved,
            first_response_due=created + timedelta(hours=4) if rng.random() < 0.8 else None,
            first_responded_at=min(responded, NOW),
            resolution_due=created + timedelta(hours=48) if rng.random() < 0.9 else None,
        )
    for _ in range(80):
        FeedbackFactory(
            customer=rng.choice(customers),
            csat=rng.randint(1, 5),
            nps=rng.choice([None, *range(11)]),
            submitted_at=NOW - timedelta(days=rng.uniform(0, 200)),
        )
    for m in range(1, 9):
        month = date(2026, m, 1)
        active = rng.randint(100, 200)
        ChurnRate.objects.create(
            month=month,
            active_customers=active,
            churned_customers=rng.randint(0, 40),
            rate=0,  # the page sums customers, never averages stored rates
        )


def _expected(days: int) -> dict:
    """The same figures the long way: Python over every row."""
    start, end = NOW - timedelta(days=days), NOW
    prev = start - timedelta(days=days)

    def in_(t, a, b):
        return t is not None and a <= t < b

    counted = [o for o in Order.objects.all() if o.status not in ("draft", "cancelled")]
    deals = list(Deal.objects.select_related("stage"))
    tickets = list(Ticket.objects.all())
    feedback = list(Feedback.objects.all())

    def sla(a, b):
        done = [t for t in tickets if in_(t.resolved_at, a, b) and t.resolution_due]
        met = [
            t
            for t in done
            if t.resolved_at <= t.resolution_due
            and (t.first_response_due is None or t.first_responded_at <= t.first_response_due)
        ]
        return round(100 * len(met) / len(done), 1) if done else None

    def csat(a, b):
        got = [f for f in feedback if in_(f.submitted_at, a, b)]
        return round(100 * sum(f.csat >= 4 for f in got) / len(got), 1) if got else None

    def nps(a, b):
        got = [f.nps for f in feedback if in_(f.submitted_at, a, b) and f.nps is not None]
        if not got:
            return None
        return round(100 * (sum(n >= 9 for n in got) - sum(n <= 6 for n in got)) / len(got))

    months = max(1, round(days / 30.4))
    rates = list(ChurnRate.objects.order_by("-month"))

    def churn(rows):
        act = sum(r.active_customers for r in rows)
        return round(100 * sum(r.churned_customers for r in rows) / act, 1) if act else None

    return {
        "customers": (
            Customer.objects.count(),
            sum(c.created_at < start for c in Customer.objects.all()),
        ),
        "active_customers": (
            len({o.customer_id for o in counted if in_(o.ordered_at, start, end)}),
            len({o.customer_id for o in counted if in_(o.ordered_at, prev, start)}),
        ),
        "revenue": (
            sum((o.total for o in counted if in_(o.ordered_at, start, end)), Decimal(0)),
            sum((o.total for o in counted if in_(o.ordered_at, prev, start)), Decimal(0)),
        ),
        "pipeline": (
            sum((d.amount for d in deals if d.stage.outcome == "open"), Decimal(0)),
            sum(
                (
                    d.amount
                    for d in deals
                    if d.created_at < start and (d.closed_at is None or d.closed_at >= start)
                ),
                Decimal(0),
            ),
        ),
        "open_tickets": (
            sum(t.status in ("new", "open", "pending", "reopened") for t in tickets),
            sum(
                t.created_at < start
                and (t.resolved_at is None or t.resolved_at >= start)
                and (t.closed_at is None or t.closed_at >= start)
                for t in tickets
            ),
        ),
        "sla": (sla(start, end), sla(prev, start)),
        "csat": (csat(start, end), csat(prev, start)),
        "nps": (nps(start, end), nps(prev, start)),
        "churn_rate": (churn(rates[:months]), churn(rates[months : 2 * months])),
    }


@pytest.mark.parametrize("days", [30, 90])
def test_kpis_equal_direct_computations_on_the_same_rows(users, days):
    _random_history(random.Random(days), users)
    figures = {k.key: (k.value, k.previous) for k in dashboard.kpis(days=days, now=NOW)}
    expected = _expected(days)
    assert figures == expected
    # The data is not trivial: the figures move between the periods.
    assert figures["revenue"][0] > 0 and figures["revenue"][1] > 0
    assert figures["sla"][0] is not None and figures["csat"][0] is not None


def test_kpi_tiles_show_values_and_trends(client_for, users):
    _random_history(random.Random(5), users)
    html = client_for(Role.MANAGER).get(URL + "?period=90").content.decode()
    for key in (
        "customers",
        "active_customers",
        "revenue",
        "pipeline",
        "open_tickets",
        "sla",
        "csat",
        "nps",
        "churn_rate",
    ):
        assert f'data-testid="kpi-{key}"' in html
    kpi = {k.key: k for k in dashboard.kpis(days=90)}["revenue"]
    assert f"{kpi.value:,}" in html and f"{kpi.previous:,}" in html
    assert "Last 90 days" in html
    # An unknown period falls back to the default instead of failing.
    assert client_for(Role.MANAGER).get(URL + "?period=x").status_code == 200


# --- roles --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SUPPORT_AGENT])
def test_dashboard_panels_and_exports_are_for_managers_and_admins(client_for, role):
    client = client_for(role)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("analytics:dashboard_panel", args=["churn"])).status_code == 403
    assert client.get(reverse("analytics:dashboard_csv", args=["churn"])).status_code == 403
    assert client.get(reverse("analytics:dashboard_csv", args=["at_risk"])).status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_see_every_panel(client_for, role):
    html = client_for(role).get(URL).content.decode()
    for key in dashboard.CHARTS:
        assert f'data-testid="panel-{key}"' in html
        assert f'data-testid="csv-{key}"' in html


def test_unknown_panel_or_export_is_404(client_for):
    client = client_for(Role.MANAGER)
    assert client.get(reverse("analytics:dashboard_panel", args=["nope"])).status_code == 404
    assert client.get(reverse("analytics:dashboard_csv", args=["nope"])).status_code == 404


# --- job panels: empty, failed, thin, running --------------------------------------------


def test_before_any_job_ran_each_panel_says_so_and_offers_run_now(client_for):
    html = client_for(Role.MANAGER).get(URL).content.decode()
    assert html.count('data-testid="never-run"') == 5
    assert "Revenue forecast has not run yet" in html
    assert html.count("No figures yet.") == 5  # every job panel; tickets has its categories
    for key in ("revenue", "segments", "churn", "rules", "satisfaction"):
        assert f'data-testid="run-{key}"' in html


def test_failed_run_shows_its_error_beside_the_previous_results(client_for):
    ok = _ok_run(JobKind.SEGMENTATION, metrics={"k": 2, "customers": 30, "rows_read": {"a": 7}})
    Segment.objects.create(run=ok, number=1, name="high_regular", size=12, profile={})
    JobRun.objects.create(
        kind=JobKind.SEGMENTATION,
        status=JobStatus.FAILED,
        message="MemoryError: out of memory",
        finished_at=timezone.now(),
    )
    html = client_for(Role.MANAGER).get(URL).content.decode()
    assert 'data-testid="job-failed"' in html and "MemoryError: out of memory" in html
    assert "The figures below are from the last successful run." in html
    assert "High-value regulars" in html and "7 rows read" in html


def test_thin_data_warning_and_quality_figures(client_for):
    _ok_run(
        JobKind.FORECAST,
        metrics={
            "month": {
                "model": {"mape": 7.5},
                "seasonal_naive": {"mape": 12.25},
                "next_total": 1000,
                "beats_baseline": True,
            },
            "rows_read": {"orders": 1234},
        },
    )
    _ok_run(
        JobKind.CHURN,
        metrics={"roc_auc": 0.8123, "precision": 0.7, "recall": 0.6, "rows_read": {"o": 5}},
    )
    JobRun.objects.create(
        kind=JobKind.CHURN,
        status=JobStatus.INSUFFICIENT_DATA,
        metrics={
            "insufficient": {
                "code": "churn_customers",
                "params": {"minimum": 200, "months": 6, "found": 12},
            }
        },
        finished_at=timezone.now(),
    )
    html = client_for(Role.MANAGER).get(URL).content.decode()
    assert "MAPE, model:</span>" not in html  # figures are inline on the panel
    assert "MAPE, model: <strong>7.5%</strong>" in html
    assert "MAPE, seasonal-naive: <strong>12.2%</strong>" in html
    assert "beats the seasonal-naive baseline" in html and "1,234 rows read" in html
    assert "ROC AUC: <strong>0.812</strong>" in html
    assert 'data-testid="job-thin"' in html
    assert "Churn needs at least 200 customers with 6 months of history" in html


def test_run_now_from_a_panel_shows_live_progress_and_refuses_a_second_start(client_for):
    client = client_for(Role.MANAGER)
    start = reverse("analytics:jobrun_start")
    response = client.post(start, {"kind": "churn"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    run = JobRun.objects.get(kind="churn")
    assert run.status == JobStatus.QUEUED and run.started_by.username == "manager"
    # The progress bar polls the existing progress endpoint while the run is active.
    assert reverse("analytics:jobrun_progress", args=[run.pk]) in html
    assert 'hx-trigger="every 2s"' in html and 'data-status="queued"' in html
    assert "HX-Trigger" not in response.headers
    # The page drawn now shows the bar in the panel, not a second button.
    page = client.get(URL).content.decode()
    assert 'data-testid="run-churn"' not in page and 'data-testid="run-segments"' in page

    again = client.post(start, {"kind": "churn"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="run-refused"' in again and "already queued" in again
    assert JobRun.objects.filter(kind="churn").count() == 1

    # Running: the bar moves; finished: the fragment stops polling and tells the panel.
    progress = reverse("analytics:jobrun_progress", args=[run.pk])
    JobRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, progress=55)
    running = client.get(progress, HTTP_HX_REQUEST="true")
    assert 'value="55"' in running.content.decode() and "HX-Trigger" not in running.headers
    JobRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCEEDED, progress=100, finished_at=timezone.now()
    )
    done = client.get(progress, HTTP_HX_REQUEST="true")
    assert done.headers["HX-Trigger"] == "job-finished-churn"
    assert "every 2s" not in done.content.decode()
    panel = client.get(reverse("analytics:dashboard_panel", args=["churn"])).content.decode()
    assert 'hx-trigger="job-finished-churn from:body"' in panel
    assert 'data-testid="run-churn"' in panel  # ready to run again


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SUPPORT_AGENT])
def test_run_now_is_refused_to_reps_and_agents(client_for, role):
    response = client_for(role).post(
        reverse("analytics:jobrun_start"), {"kind": "churn"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_run_now_runs_the_job_and_the_panel_shows_its_results(
    seeded, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    import pandas as pd

    from tests.analytics.conftest import AS_OF

    monkeypatch.setattr(services, "_as_of", lambda run: pd.Timestamp(AS_OF, tz="UTC"))
    client = client_for(Role.MANAGER)
    before = client.get(reverse("analytics:dashboard_panel", args=["revenue"])).content.decode()
    assert "has not run yet" in before
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("analytics:jobrun_start"), {"kind": "forecast"}, HTTP_HX_REQUEST="true"
        )
    run = JobRun.objects.get(kind="forecast")
    assert run.status == JobStatus.SUCCEEDED, run.message
    after = client.get(reverse("analytics:dashboard_panel", args=["revenue"])).content.decode()
    assert "has not run yet" not in after and "MAPE, model" in after
    future = Forecast.objects.filter(granularity="month", row_kind="future").first()
    assert future.period_start.strftime("%Y-%m") in after
    assert response.status_code == 200


# --- caching ------------------------------------------------------------------------------


def test_job_results_are_cached_until_a_job_finishes(client_for, monkeypatch):
    run = _ok_run(JobKind.SEGMENTATION)
    segment = Segment.objects.create(run=run, number=1, name="mid_regular", size=41, profile={})
    client = client_for(Role.MANAGER)
    panel = reverse("analytics:dashboard_panel", args=["segments"])
    assert ">41<" in client.get(panel).content.decode()
    Segment.objects.filter(pk=segment.pk).update(size=77)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(panel).content.decode()
    assert ">41<" in html  # from the cache...
    assert not any("analytics_segment" in q["sql"] for q in queries.captured_queries)
    # ...until a job finishes (a stand-in job, so the test needs no data to segment).
    monkeypatch.setitem(services.JOBS, JobKind.CHURN, lambda run, progress: {})
    queued = services.start_job(kind=JobKind.CHURN, enqueue=False)
    assert services.execute_job_run(job_run_id=queued.pk).status == JobStatus.SUCCEEDED
    assert ">77<" in client.get(panel).content.decode()


# --- filters and tables -------------------------------------------------------------------


def _scores(n, owner=None, recency_step=10):
    customers = [CustomerFactory(owner=owner) for _ in range(n)]
    CustomerScore.objects.bulk_create(
        [
            CustomerScore(
                customer=c,
                recency_days=i * recency_step,
                churn_probability=(i % 10) / 10 + 0.05,
                churn_drivers=[{"feature": "recency_days", "value": i * 10.0, "effect": 0.2}],
                predicted_value_12m=Decimal(1000 - i),
            )
            for i, c in enumerate(customers)
        ]
    )
    return customers


def test_segment_filter_counts_customers_who_ordered_recently(client_for):
    run = _ok_run(JobKind.SEGMENTATION)
    segment = Segment.objects.create(
        run=run, number=1, name="mid_regular", size=30, profile={"frequency": 5, "monetary": 80}
    )
    customers = _scores(30)
    CustomerSegment.objects.bulk_create(
        [CustomerSegment(customer=c, segment=segment) for c in customers]
    )
    recent = CustomerScore.objects.filter(recency_days__lte=90).count()
    assert 0 < recent < 30
    client = client_for(Role.MANAGER)
    html = client.get(reverse("analytics:dashboard_panel", args=["segments"]) + "?f=3")
    assert f">{recent}<" in html.content.decode()
    assert 'value="3" selected' in html.content.decode()
    assert 'id="chart-segments-profile"' in html.content.decode()  # the profiles radar
    # An unknown filter value is the default, not an error.
    fallback = client.get(reverse("analytics:dashboard_panel", args=["segments"]) + "?f=zz")
    assert fallback.status_code == 200 and 'value="all" selected' in fallback.content.decode()


def test_churn_distribution_and_at_risk_list_with_reasons(client_for, users):
    customers = _scores(40, owner=users[Role.SALES_REP])
    _ok_run(JobKind.CHURN)
    html = client_for(Role.MANAGER).get(URL).content.decode()
    rows = dashboard.churn_rows("all")
    assert [r["customers"] for r in rows] == [4] * 10
    at_risk = CustomerScore.objects.filter(churn_probability__gte=0.5)
    assert at_risk.count() == 20
    # The most valuable at-risk customer first, with the model's reason.
    top = at_risk.order_by("-predicted_value_12m").first()
    name = Customer.objects.get(pk=top.customer_id).name
    assert name in html and "Days since last order: " in html
    assert len(customers) == 40


# --- CSV ----------------------------------------------------------------------------------


def _read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_exports_escape_formulas_and_match_the_tables(client_for):
    run = _ok_run(JobKind.ASSOCIATION_RULES)
    a = ProductFactory(name='=HYPERLINK("http://x")')
    b = ProductFactory(name="Cable")
    AssociationRule.objects.create(
        run=run,
        antecedents=[a.pk],
        consequents=[b.pk],
        antecedent_size=1,
        support=0.0123,
        confidence=0.456,
        lift=3.21,
        baskets=17,
    )
    client = client_for(Role.MANAGER)
    response = client.get(reverse("analytics:dashboard_csv", args=["rules"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = _read_csv(response)
    assert rows[0] == ["if_bought", "then_also", "support", "confidence", "lift", "baskets"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "Cable", "0.0123", "0.456", "3.21", "17"]


def test_at_risk_csv_has_every_at_risk_customer(client_for):
    _scores(60)
    response = client_for(Role.MANAGER).get(reverse("analytics:dashboard_csv", args=["at_risk"]))
    rows = _read_csv(response)
    assert rows[0][:3] == ["customer_id", "name", "owner"]
    assert len(rows) - 1 == CustomerScore.objects.filter(churn_probability__gte=0.5).count() == 30


def test_revenue_and_satisfaction_csv_follow_the_filter(client_for):
    run = _ok_run(JobKind.FORECAST)
    for i in range(30):
        Forecast.objects.create(
            run=run,
            granularity="month",
            period_start=date(2024 + i // 12, i % 12 + 1, 1),
            row_kind="history",
            actual=Decimal("100.50") + i,
        )
    Forecast.objects.create(
        run=run,
        granularity="month",
        period_start=date(2026, 7, 1),
        row_kind="future",
        predicted=Decimal("200"),
        lower=Decimal("150"),
        upper=Decimal("250"),
    )
    for m in range(1, 13):
        SatisfactionPeriod.objects.create(month=date(2025, m, 1), responses=m, csat=4.0, nps=10)
    client = client_for(Role.MANAGER)
    rows = _read_csv(client.get(reverse("analytics:dashboard_csv", args=["revenue"]) + "?f=12"))
    assert len(rows) - 1 == 13  # 12 months of history and the future month
    assert rows[-1][:2] == ["2026-07", "Forecast"] and rows[-1][3:6] == [
        "200.00",
        "150.00",
        "250.00",
    ]
    rows = _read_csv(client.get(reverse("analytics:dashboard_csv", args=["satisfaction"]) + "?f=6"))
    assert [r[0] for r in rows[1:]] == [f"2025-{m:02d}" for m in range(7, 13)]


def test_tickets_by_category_counts_the_period(client_for):
    for days, category in [
        (5, "complaint"),
        (10, "complaint"),
        (50, "question"),
        (400, "question"),
    ]:
        TicketFactory(category=category, created_at=NOW - timedelta(days=days))
    rows = {r["category"]: r["tickets"] for r in dashboard.ticket_rows("90")}
    assert rows["Complaint"] == 2 and rows["Question"] == 1 and rows["Technical support"] == 0
    rows = {r["category"]: r["tickets"] for r in dashboard.ticket_rows("30")}
    assert rows["Question"] == 0


# --- query counts -------------------------------------------------------------------------


def _results(n: int, users):
    """n of everything the dashboard reads, so an N+1 would show (replacing the monthly
    tables, as the jobs do)."""
    Forecast.objects.all().delete()
    SatisfactionPeriod.objects.all().delete()
    runs = {kind: _ok_run(kind, metrics={"rows_read": {"x": n}}) for kind in JobKind}
    products = ProductFactory.create_batch(n + 1)
    segments = [
        Segment.objects.create(
            run=runs[JobKind.SEGMENTATION], number=i, name="mid_regular", size=i, profile={}
        )
        for i in range(1, n + 1)
    ]
    customers = _scores(n, owner=users[Role.SALES_REP])
    CustomerSegment.objects.bulk_create(
        [CustomerSegment(customer=c, segment=segments[i % n]) for i, c in enumerate(customers)]
    )
    AssociationRule.objects.bulk_create(
        [
            AssociationRule(
                run=runs[JobKind.ASSOCIATION_RULES],
                antecedents=[products[i].pk],
                consequents=[products[i + 1].pk],
                antecedent_size=1,
                support=0.1,
                confidence=0.5,
                lift=1 + i,
                baskets=i,
            )
            for i in range(n)
        ]
    )
    for i in range(n):
        Forecast.objects.create(
            run=runs[JobKind.FORECAST],
            granularity="month",
            period_start=date(2020 + i // 12, i % 12 + 1, 1),
            row_kind="history",
            actual=Decimal(i),
        )
        SatisfactionPeriod.objects.create(month=date(2020 + i // 12, i % 12 + 1, 1), responses=i)
        TicketFactory(customer=customers[i])


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_the_data(
    client_for, users, django_assert_max_num_queries
):
    from django.core.cache import cache

    client = client_for(Role.MANAGER)
    _results(3, users)
    cache.clear()
    small = _count(client, URL)
    _results(40, users)
    cache.clear()
    large = _count(client, URL)
    assert small == large
    cache.clear()
    with django_assert_max_num_queries(24):
        client.get(URL)  # cold cache: every chart read once
    cached = _count(client, URL)
    assert cached < large  # job results come from the cache
