"""/metrics: Prometheus figures for admins and the allowed private addresses only."""

import pytest
from celery import shared_task

from crm.roles import Role

pytestmark = pytest.mark.django_db


@shared_task(name="tests.ops.failing_task")
def failing_task():
    raise RuntimeError("this task always fails")


@shared_task(name="tests.ops.quick_task")
def quick_task():
    return 1


def test_anonymous_callers_from_elsewhere_get_404(client):
    assert client.get("/metrics").status_code == 404


def test_a_manager_gets_404(client_for):
    assert client_for(Role.MANAGER).get("/metrics").status_code == 404


def test_admins_see_the_metrics(client_for):
    response = client_for(Role.ADMIN).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_an_allowed_network_needs_no_login(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.1").status_code == 404
    # A forged X-Forwarded-For does not count: only the connection's address.
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="192.168.1.1", headers={"X-Forwarded-For": "10.1.2.3"}
        ).status_code
        == 404
    )


def test_requests_are_counted_by_view_and_status(client, client_for, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    client.get("/healthz")
    client.get("/no-such-page/")
    text = client.get("/metrics").content.decode()
    assert 'crm_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert 'crm_http_requests_total{method="GET",status="404",view="<unmatched>"}' in text
    assert 'crm_http_request_duration_seconds_bucket{le="0.01",method="GET",view="healthz"}' in text


def test_task_durations_failures_and_queue_lengths(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    quick_task.delay()
    # As a worker runs it: the failure is recorded, not raised into the caller.
    assert failing_task.apply(throw=False).failed()
    text = client.get("/metrics").content.decode()
    assert (
        'crm_celery_task_duration_seconds_count{state="SUCCESS",task="tests.ops.quick_task"}'
        in text
    )
    assert (
        'crm_celery_task_duration_seconds_count{state="FAILURE",task="tests.ops.failing_task"}'
        in text
    )
    assert 'crm_celery_task_failures_total{task="tests.ops.failing_task"}' in text
    assert 'crm_celery_queue_length{queue="default"}' in text
    assert 'crm_celery_queue_length{queue="analytics"}' in text
    assert "crm_broker_up 1.0" in text


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_queue_lengths_count_waiting_messages(own_redis, monkeypatch):
    from crm.celery import app
    from ops.metrics import queue_lengths

    monkeypatch.setattr(app.conf, "broker_url", own_redis.url)
    with app.connection_for_write() as conn:
        for _ in range(3):
            app.send_task("analytics.tasks.some_job_task", connection=conn)
        app.send_task("ops.tasks.retention_task", connection=conn)
    try:
        assert queue_lengths() == {"default": 1, "analytics": 3}
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    own_redis.stop()
    try:
        assert queue_lengths() is None
    finally:
        own_redis.start()
