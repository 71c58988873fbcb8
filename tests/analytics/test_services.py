"""Running jobs end to end on the database: results, idempotence, failure safety, refusals."""

from unittest import mock

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics import services
from analytics.choices import JobKind, JobStatus
from analytics.models import (
    AssociationRule,
    ChurnRate,
    CustomerScore,
    CustomerSegment,
    Forecast,
    JobRun,
    Recommendation,
    Segment,
)
from analytics.tasks import run_job_task
from sales.models import OrderLine
from tests.analytics.conftest import AS_OF

PARAMS = {"as_of": AS_OF, "min_customers": 100}


def run_now(kind, **extra):
    run = services.start_job(kind=kind, parameters={**PARAMS, **extra}, enqueue=False)
    return services.execute_job_run(job_run_id=run.pk)


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        (JobKind.SEGMENTATION, CustomerSegment),
        (JobKind.ASSOCIATION_RULES, Recommendation),
        (JobKind.FORECAST, Forecast),
        (JobKind.CHURN, ChurnRate),
        (JobKind.CUSTOMER_VALUE, CustomerScore),
    ],
)
def test_each_job_runs_and_writes_its_results(seeded, kind, model):
    run = run_now(kind)
    assert run.status == JobStatus.SUCCEEDED, run.message
    assert run.progress == 100
    assert run.duration_seconds > 0 and run.peak_memory_mb > 0
    assert run.started_at and run.finished_at
    assert run.metrics["rows_read"] and set(run.metrics["seconds"]) == {"load", "compute", "write"}
    assert model.objects.exists()
    assert run.summary()


def test_results_have_the_expected_shape(seeded):
    for kind in JobKind:
        assert run_now(kind).status == JobStatus.SUCCEEDED
    assert Segment.objects.count() == JobRun.objects.get(kind="segmentation").metrics["k"]
    assert sum(Segment.objects.values_list("size", flat=True)) == CustomerSegment.objects.count()
    rule = AssociationRule.objects.first()
    assert rule.lift > 1 and rule.antecedents and rule.consequents
    rec = Recommendation.objects.first()
    bought = set(
        OrderLine.objects.filter(order__customer_id=rec.customer_id).values_list(
            "product_id", flat=True
        )
    )
    assert rec.product_id not in bought
    future = Forecast.objects.filter(granularity="month", row_kind="future")
    assert future.count() == 6
    assert all(f.lower <= f.predicted <= f.upper for f in future)
    score = CustomerScore.objects.exclude(churn_probability=None).exclude(r_score=None).first()
    assert score is not None, "value and churn columns live side by side"
    assert score.predicted_value_12m is not None and score.loyalty_tier
    assert isinstance(score.churn_drivers, list)


def _snapshot():
    return (
        list(
            CustomerScore.objects.order_by("customer_id").values_list(
                "customer_id", "r_score", "f_score", "m_score", "historic_value", "loyalty_tier"
            )
        ),
        list(
            AssociationRule.objects.order_by("-lift", "id").values_list(
                "antecedents", "consequents", "confidence"
            )
        ),
        list(
            Recommendation.objects.order_by("customer_id", "rank").values_list(
                "customer_id", "product_id"
            )
        ),
    )


def test_a_rerun_leaves_the_same_results(seeded):
    run_now(JobKind.CUSTOMER_VALUE)
    run_now(JobKind.ASSOCIATION_RULES)
    first = _snapshot()
    values_first = dict(CustomerScore.objects.values_list("customer_id", "predicted_value_12m"))
    run_now(JobKind.CUSTOMER_VALUE)
    run_now(JobKind.ASSOCIATION_RULES)
    assert _snapshot() == first
    values_again = dict(CustomerScore.objects.values_list("customer_id", "predicted_value_12m"))
    assert values_again == values_first


def test_a_job_killed_mid_way_leaves_the_previous_results(seeded):
    run_now(JobKind.ASSOCIATION_RULES)
    run_now(JobKind.CUSTOMER_VALUE)
    before = _snapshot()
    real = services.bulk_insert
    calls = {"n": 0}

    def dies_on_second_write(model, frame, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise MemoryError("worker killed")
        return real(model, frame, **kwargs)

    with mock.patch.object(services, "bulk_insert", side_effect=dies_on_second_write):
        failed = run_now(JobKind.ASSOCIATION_RULES)  # rules written, recommendations die
    assert failed.status == JobStatus.FAILED
    assert "worker killed" in failed.message
    calls["n"] = 1
    with mock.patch.object(services, "bulk_insert", side_effect=dies_on_second_write):
        assert run_now(JobKind.CUSTOMER_VALUE).status == JobStatus.FAILED
    assert _snapshot() == before


def _result_indexes() -> set[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'analytics_%%'"
        )
        return set(cursor.fetchall())


def test_writers_leave_every_index_of_the_result_tables_in_place(seeded):
    """The writers drop the result tables' secondary indexes for the bulk load and build
    them again before committing; a writer that fails rolls the drop back."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("indexes are rebuilt on PostgreSQL only")
    before = _result_indexes()
    assert any("customer_id, rank" in d for _, d in before)
    for kind in JobKind:
        assert run_now(kind).status == JobStatus.SUCCEEDED
    assert _result_indexes() == before
    with mock.patch.object(services, "_drop_orphans", side_effect=MemoryError("killed")):
        assert run_now(JobKind.ASSOCIATION_RULES).status == JobStatus.FAILED
    assert _result_indexes() == before
    assert Recommendation.objects.exists()


def test_rows_of_a_customer_deleted_while_the_job_ran_are_not_written(seeded):
    """The result tables' customer keys are checked by the writer, not by a trigger per
    row: a customer gone between loading and writing leaves no row behind."""
    gone = 10**9

    def with_a_deleted_customer(real):
        def load():
            frame = real()
            extra = frame.iloc[:1].copy()
            extra["customer_id"] = gone
            return pd.concat([frame, extra], ignore_index=True)

        return load

    loaders = services.loaders
    with (
        mock.patch.object(
            loaders,
            "load_customer_order_summary",
            with_a_deleted_customer(loaders.load_customer_order_summary),
        ),
        mock.patch.object(
            loaders,
            "load_customer_order_totals",
            with_a_deleted_customer(loaders.load_customer_order_totals),
        ),
    ):
        assert run_now(JobKind.CUSTOMER_VALUE).status == JobStatus.SUCCEEDED
        assert run_now(JobKind.SEGMENTATION).status == JobStatus.SUCCEEDED
    assert CustomerScore.objects.exists() and CustomerSegment.objects.exists()
    assert not CustomerScore.objects.filter(customer_id=gone).exists()
    assert not CustomerSegment.objects.filter(customer_id=gone).exists()


def test_churn_and_value_keep_each_others_columns(seeded):
    run_now(JobKind.CHURN)
    churn_before = dict(CustomerScore.objects.values_list("customer_id", "churn_probability"))
    run_now(JobKind.CUSTOMER_VALUE)
    after = dict(CustomerScore.objects.values_list("customer_id", "churn_probability"))
    assert {k: v for k, v in after.items() if v is not None} == churn_before
    assert CustomerScore.objects.exclude(r_score=None).exists()


def test_a_second_start_of_the_same_kind_is_refused(seeded, users):
    from crm.roles import Role

    first = services.start_job(kind="forecast", user=users[Role.MANAGER], enqueue=False)
    with pytest.raises(services.JobAlreadyActive) as exc:
        services.start_job(kind="forecast", user=users[Role.MANAGER], enqueue=False)
    assert exc.value.run == first
    services.start_job(kind="churn", enqueue=False)  # other kinds are free
    services.execute_job_run(job_run_id=first.pk)
    assert services.start_job(kind="forecast", enqueue=False).pk != first.pk


def test_a_run_whose_worker_was_lost_does_not_block_forever(db):
    old = timezone.now() - timezone.timedelta(hours=3)
    lost = JobRun.objects.create(
        kind="forecast", status="running", started_at=old, heartbeat_at=old
    )
    new = services.start_job(kind="forecast", enqueue=False)
    lost.refresh_from_db()
    assert lost.status == JobStatus.FAILED and new.status == JobStatus.QUEUED


@pytest.mark.parametrize("kind", list(JobKind))
def test_too_little_data_says_so_plainly(db, kind):
    run = run_now(kind)
    assert run.status == JobStatus.INSUFFICIENT_DATA
    assert "needs at least" in run.message or "need at least" in run.message
    assert run.display_message == run.message


def test_the_task_runs_the_job_and_is_idempotent(seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_job(kind="forecast", parameters=PARAMS)
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED
    finished = run.finished_at
    assert run_job_task(run.pk) == JobStatus.SUCCEEDED  # a redelivered message does nothing
    run.refresh_from_db()
    assert run.finished_at == finished


def test_progress_is_recorded_as_the_job_goes(seeded):
    seen = []
    real = services._progress_recorder

    def spy(run_id):
        record = real(run_id)

        def wrapped(pct, stage):
            record(pct, stage)
            seen.append(JobRun.objects.get(pk=run_id).progress)

        return wrapped

    with mock.patch.object(services, "_progress_recorder", spy):
        run_now(JobKind.SEGMENTATION)
    assert seen and 0 < max(seen) < 100
    assert seen == sorted(seen)


def test_run_job_command(seeded, capsys):
    call_command("run_job", "forecast", "--sync")
    out = capsys.readouterr().out
    assert "forecast: succeeded" in out and "peak memory" in out
    call_command("run_job", "churn")
    assert "Queued churn as run" in capsys.readouterr().out
    assert JobRun.objects.get(kind="churn").status == JobStatus.QUEUED


def test_beat_runs_every_job_nightly():
    from crm.celery import app

    entries = [
        e
        for e in app.conf.beat_schedule.values()
        if e["task"] == "analytics.tasks.scheduled_job_task"
    ]
    assert sorted(e["args"][0] for e in entries) == sorted(JobKind.values)
    assert "analytics.tasks.scheduled_job_task" in app.tasks


def test_scheduled_task_runs_a_job_or_skips_when_one_is_active(seeded, monkeypatch):
    import pandas as pd

    from analytics.tasks import scheduled_job_task

    monkeypatch.setattr(services, "_as_of", lambda run: pd.Timestamp(AS_OF, tz="UTC"))
    assert scheduled_job_task("forecast") == JobStatus.SUCCEEDED
    run = JobRun.objects.get(kind="forecast")
    assert run.started_by is None and Forecast.objects.exists()
    services.start_job(kind="forecast", enqueue=False)
    assert scheduled_job_task("forecast") == "skipped"


def test_recommendations_are_written_with_their_rule_figures_in_order(seeded):
    """The writer sends each distinct rule's figures once and joins them in the database:
    every row still gets its own confidence, lift and antecedents, in the frame's order."""
    from analytics.jobs.association_rules import RulesResult
    from customers.models import Customer
    from sales.models import Product

    c1, c2 = Customer.objects.order_by("id").values_list("id", flat=True)[:2]
    p1, p2, p3, p4 = Product.objects.order_by("id").values_list("id", flat=True)[:4]
    rec = pd.DataFrame(
        {
            "customer_id": [c2, c1, c1],
            "product_id": [p1, p1, p2],
            "rank": [1, 1, 2],
            "confidence": [0.5, 0.5, 0.1234567890123],
            "lift": [2.0, 2.0, 1.0000000001],
            "because": [(p3,), (p3,), (p3, p4)],
        }
    )
    rules = pd.DataFrame(
        columns=["antecedents", "consequents", "support", "confidence", "lift", "baskets"]
    )
    run = run_now(JobKind.ASSOCIATION_RULES)
    services.write_rules(run=run, result=RulesResult(rules=rules, recommendations=rec))
    rows = list(
        Recommendation.objects.order_by("id").values_list(
            "customer_id", "product_id", "rank", "confidence", "lift", "because"
        )
    )
    assert rows == [
        (c2, p1, 1, 0.5, 2.0, [p3]),
        (c1, p1, 1, 0.5, 2.0, [p3]),
        (c1, p2, 2, 0.1234567890123, 1.0000000001, [p3, p4]),
    ]
