"""Dashboards in the browser, on the demo data with every job run: a manager reads the KPI
tiles and the charts, filters a chart, opens its table, runs a job from its panel and sees
the panel redraw; a rep opens their day and sees their own pipeline, tasks and customers."""

from datetime import date

import pytest
from django.conf import settings
from playwright.sync_api import expect

from analytics import services
from analytics.choices import JobKind, JobStatus
from analytics.demo.seed import seed_demo
from analytics.models import JobRun
from tests.e2e.conftest import VARIANTS
from tests.e2e.test_manager_journey import celery_worker  # noqa: F401 - a real worker

pytestmark = pytest.mark.django_db(transaction=True)

END = date(2026, 6, 30)
AS_OF = "2026-06-30T23:00:00"


@pytest.fixture
def demo_with_results(monkeypatch):
    """The XS demo data (300 customers, 3,000 orders) and a successful run of every job."""
    import pandas as pd

    seed_demo(scale="XS", seed=42, end=END, log=lambda *a: None)
    for kind in JobKind:
        run = services.start_job(
            kind=kind, parameters={"as_of": AS_OF, "min_customers": 100}, enqueue=False
        )
        assert services.execute_job_run(job_run_id=run.pk).status == JobStatus.SUCCEEDED
    # "Run now" in the browser runs the job inline (eager Celery) on the same fixed date.
    monkeypatch.setattr(services, "_as_of", lambda run: pd.Timestamp(AS_OF, tz="UTC"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_manager_reads_the_dashboard_and_a_rep_their_day(open_session, variant, demo_with_results):
    zh = variant[2] != "en"
    s = open_session(variant)
    page = s.page
    s.log_in("manager", settings.DEMO_PASSWORD)
    s.goto("/analytics/?period=365")

    # KPI tiles carry real figures and a trend.
    customers = page.locator("[data-testid=kpi-customers] .kpi-value")
    expect(customers).to_have_text("300")
    revenue = page.locator("[data-testid=kpi-revenue] .kpi-value").inner_text()
    assert any(ch.isdigit() and ch != "0" for ch in revenue), revenue
    expect(page.locator("[data-testid=kpi-churn_rate] .kpi-value")).not_to_have_text("—")

    # Every chart is drawn by Chart.js, with its job's figures beside it.
    for key in ("revenue", "churn", "rules", "satisfaction"):
        expect(page.locator(f"[data-testid=panel-{key}] canvas[data-drawn]")).to_have_count(1)
    # Segments: the sizes and the profiles radar.
    expect(page.locator("[data-testid=panel-segments] canvas[data-drawn]")).to_have_count(2)
    # The demo data ends in June: no ticket in the last 90 days, but some in the last year.
    expect(page.locator("[data-testid=panel-tickets] canvas")).to_have_count(0)
    page.select_option("[data-testid=filter-tickets] select", "365")
    expect(page.locator("[data-testid=panel-tickets] canvas[data-drawn]")).to_have_count(1)
    page.locator("[data-testid=table-tickets] summary").click()
    assert page.locator("[data-testid=table-tickets] tbody tr").count() == 5
    figures = page.locator("[data-testid=job-figures]").first.inner_text()
    assert "MAPE" in figures
    assert (
        "ROC AUC"
        in page.locator("[data-testid=panel-churn] [data-testid=job-figures]").inner_text()
    )
    s.shot("dashboard")

    # A filter redraws one panel; its table shows the numbers.
    with page.expect_response(lambda r: "/analytics/panels/rules/?f=25" in r.url):
        page.select_option("[data-testid=filter-rules] select", "25")
    expect(page.locator("[data-testid=table-rules] tbody tr")).to_have_count(25)
    expect(page.locator("[data-testid=panel-rules] canvas[data-drawn]")).to_have_count(1)
    page.locator("[data-testid=table-rules] summary").click()
    expect(page.locator("[data-testid=table-rules] tbody tr").first).to_be_visible()

    # Run the segmentation from its panel: the panel redraws with the new run's time.
    before = JobRun.objects.filter(kind="segmentation").count()
    with page.expect_response(lambda r: "/analytics/panels/segments/" in r.url, timeout=90_000):
        page.locator("[data-testid=run-segments]").click()
    expect(page.locator("[data-testid=run-segments]")).to_be_visible()
    expect(page.locator("[data-testid=panel-segments] canvas[data-drawn]")).to_have_count(2)
    assert JobRun.objects.filter(kind="segmentation", status="succeeded").count() == before + 1
    s.shot("dashboard-after-run")
    s.log_out()

    # The rep's day: their own pipeline, overdue tasks, customers at risk, offers.
    rep = open_session(variant)
    rep.log_in("rep", settings.DEMO_PASSWORD)
    labels = rep.nav_labels()
    assert any(("我的一天" if zh else "My day") in label for label in labels), labels
    rep.goto("/analytics/my-day/")
    expect(rep.page.locator("[data-testid=my-pipeline] canvas[data-drawn]")).to_have_count(1)
    total = rep.page.locator("[data-testid=pipeline-total]").inner_text()
    assert any(ch.isdigit() and ch != "0" for ch in total), total
    assert rep.page.locator("[data-testid=my-at-risk] tbody tr").count() >= 1
    assert rep.page.locator("[data-testid=my-recommendations] li").count() >= 1
    rep.shot("rep-my-day")
    rep.expect_status("/analytics/", 403)
    assert rep.goto("/analytics/").status == 403


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.parametrize("variant", VARIANTS[:1])
def test_manager_watches_a_job_run_from_its_panel_to_the_end(
    open_session, variant, demo_with_results
):
    """With a real worker: "Run now" puts a live progress bar in the panel, which polls until
    the run ends and then redraws the panel with the new run's figures."""
    s = open_session(variant)
    page = s.page
    s.log_in("manager", settings.DEMO_PASSWORD)
    s.goto("/analytics/")
    panel = page.locator("[data-testid=panel-segments]")
    page.locator("[data-testid=run-segments]").click()
    bar = panel.locator("[data-testid=run-progress]")
    expect(bar).to_be_visible()
    assert bar.get_attribute("data-status") in ("queued", "running", "succeeded")
    expect(panel.locator("[data-testid=run-segments]")).to_have_count(0)
    s.shot("job-running")
    # The bar goes; the panel is drawn again from the new results, ready for another run.
    expect(panel.locator("[data-testid=run-segments]")).to_be_visible(timeout=90_000)
    expect(panel.locator("canvas[data-drawn]")).to_have_count(2)
    run = JobRun.objects.filter(kind="segmentation").order_by("-pk").first()
    assert run.status == "succeeded" and run.started_by.username == "manager"
    s.shot("job-finished")
