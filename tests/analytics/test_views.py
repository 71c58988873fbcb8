"""The job list page, run-now button, progress fragment and the customer-page panels."""

import pytest
from django.urls import reverse

from analytics import services
from analytics.choices import JobKind, JobStatus
from analytics.models import CustomerScore, JobRun
from crm.roles import Role
from customers.models import Customer
from tests.analytics.conftest import AS_OF
from tests.factories import CustomerFactory

JOBS_URL = "/analytics/jobs/"


def _finished_run(kind="forecast", **fields):
    return JobRun.objects.create(kind=kind, status=JobStatus.SUCCEEDED, progress=100, **fields)


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SUPPORT_AGENT])
def test_job_pages_are_for_managers_and_admins_only(client_for, role):
    client = client_for(role)
    assert client.get(JOBS_URL).status_code == 403
    assert client.post(reverse("analytics:jobrun_start"), {"kind": "churn"}).status_code == 403
    run = _finished_run()
    assert client.get(reverse("analytics:jobrun_progress", args=[run.pk])).status_code == 403
    assert not JobRun.objects.filter(kind="churn").exists()


def test_job_list_shows_every_job_and_the_history(client_for, django_assert_max_num_queries):
    for i in range(30):
        _finished_run(
            kind=list(JobKind)[i % 5], metrics={"k": 4, "customers": 10}, duration_seconds=1.5
        )
    client = client_for(Role.MANAGER)
    with django_assert_max_num_queries(15):
        response = client.get(JOBS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    for kind in JobKind:
        assert f'data-testid="job-{kind.value}"' in html
    assert html.count('data-testid="run-progress"') == 5 + 20  # latest per job + one page
    assert "Run now" in html
    assert client.get(JOBS_URL + "?page=2").status_code == 200


def test_run_now_queues_a_run_and_refuses_a_second_politely(client_for):
    client = client_for(Role.MANAGER)
    assert client.get(reverse("analytics:jobrun_start")).status_code == 405
    response = client.post(reverse("analytics:jobrun_start"), {"kind": "churn"}, follow=True)
    run = JobRun.objects.get(kind="churn")
    assert run.status == JobStatus.QUEUED and run.started_by.username == Role.MANAGER.value
    assert "queued as run" in response.content.decode()
    response = client.post(reverse("analytics:jobrun_start"), {"kind": "churn"}, follow=True)
    assert response.status_code == 200
    assert "already queued" in response.content.decode()
    assert JobRun.objects.filter(kind="churn").count() == 1
    assert client.post(reverse("analytics:jobrun_start"), {"kind": "nonsense"}).status_code == 400


def test_run_now_runs_the_job_through_celery(
    seeded, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    # The eager task runs at commit; the demo data ends on a fixed date, so pin "today".
    import pandas as pd

    monkeypatch.setattr(services, "_as_of", lambda run: pd.Timestamp(AS_OF, tz="UTC"))
    client = client_for(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:jobrun_start"), {"kind": "forecast"})
    assert response.url == JOBS_URL
    run = JobRun.objects.get(kind="forecast")
    assert run.status == JobStatus.SUCCEEDED, run.message
    html = client.get(reverse("analytics:jobrun_progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in html and "MAPE" in html


def test_progress_fragment_polls_while_active(client_for):
    run = JobRun.objects.create(kind="churn", status=JobStatus.RUNNING, progress=40)
    client = client_for(Role.ADMIN)
    html = client.get(reverse("analytics:jobrun_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html and 'value="40"' in html
    assert client.get(reverse("analytics:jobrun_progress", args=[99999])).status_code == 404


def test_insufficient_data_message_shows(client_for):
    JobRun.objects.create(
        kind="churn",
        status=JobStatus.INSUFFICIENT_DATA,
        message="x",
        metrics={
            "insufficient": {
                "code": "churn_customers",
                "params": {"minimum": 200, "months": 6, "found": 12},
            }
        },
    )
    html = client_for(Role.MANAGER).get(JOBS_URL).content.decode()
    assert "Churn needs at least 200 customers with 6 months of history" in html


def test_analytics_dashboard_still_works_and_links_to_jobs(client_for):
    response = client_for(Role.MANAGER).get("/analytics/")
    assert response.status_code == 200 and JOBS_URL in response.content.decode()


# --- customer page panels -----------------------------------------------------------------


def test_panels_show_empty_states_before_any_job_ran(client_for, users):
    customer = CustomerFactory(owner=users[Role.SALES_REP])
    html = client_for(Role.MANAGER).get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="panel-insights"' in html and 'data-testid="panel-recommendations"' in html
    assert "Not segmented yet" in html
    assert "No value figures yet" in html
    assert "No churn score" in html
    assert "No recommendations yet" in html


def test_panels_show_results_with_reasons(seeded, client_for, django_assert_max_num_queries):
    for kind in JobKind:
        run = services.start_job(
            kind=kind, parameters={"as_of": AS_OF, "min_customers": 100}, enqueue=False
        )
        assert services.execute_job_run(job_run_id=run.pk).status == JobStatus.SUCCEEDED
    score = (
        CustomerScore.objects.exclude(churn_drivers=None)
        .exclude(predicted_value_12m=None)
        .order_by("-churn_probability")
        .first()
    )
    customer = Customer.objects.get(pk=score.customer_id)
    from analytics.models import Recommendation

    with_recs = Customer.objects.get(
        pk=Recommendation.objects.values_list("customer_id", flat=True)[0]
    )
    client = client_for(Role.MANAGER)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "Not segmented yet" not in html and "No value figures yet" not in html
    assert f"{round(100 * score.churn_probability)}%" in html
    assert 'data-testid="churn-drivers"' in html
    assert "RFM" in html
    with django_assert_max_num_queries(32):
        html = client.get(with_recs.get_absolute_url()).content.decode()
    assert "often also buys this" in html


def test_panel_queries_do_not_grow_with_results(client_for, users, django_assert_num_queries):
    from analytics.models import Recommendation
    from tests.factories import ProductFactory

    customer = CustomerFactory(owner=users[Role.SALES_REP])
    client = client_for(Role.MANAGER)
    client.get(customer.get_absolute_url())  # warm caches (content types, sessions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        client.get(customer.get_absolute_url())
    products = [ProductFactory() for _ in range(8)]
    for rank, p in enumerate(products[:5], start=1):
        Recommendation.objects.create(
            customer=customer,
            product=p,
            rank=rank,
            confidence=0.5,
            lift=2.0,
            because=[products[5].pk, products[6].pk],
        )
    CustomerScore.objects.create(
        customer=customer,
        r_score=5,
        f_score=4,
        m_score=3,
        historic_value=100,
        predicted_value_12m=50,
        loyalty_tier="champion",
        churn_probability=0.7,
        churn_drivers=[{"feature": "recency_days", "value": 120, "effect": 0.2}],
        value_scored_at="2026-06-30T00:00:00Z",
    )
    with django_assert_num_queries(len(empty.captured_queries) + 1):  # + product names
        html = client.get(customer.get_absolute_url()).content.decode()
    assert "Days since last order" in html and "(+20)" in html and "70%" in html


def test_reps_see_scores_of_their_own_customers_only_and_agents_none(client_for, users):
    own = CustomerFactory(owner=users[Role.SALES_REP])
    other = CustomerFactory(owner=users["peer"])
    rep = client_for(Role.SALES_REP)
    assert 'data-testid="panel-insights"' in rep.get(own.get_absolute_url()).content.decode()
    assert 'data-testid="panel-insights"' not in rep.get(other.get_absolute_url()).content.decode()
    agent = client_for(Role.SUPPORT_AGENT)
    assert 'data-testid="panel-insights"' not in agent.get(own.get_absolute_url()).content.decode()
