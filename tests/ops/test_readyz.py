"""/readyz: database, broker, migrations applied and a live worker on every queue."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from crm.celery import app
from ops import health
from ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_workers(settings):
    """Not eager: tasks would go to real workers, so readiness needs their heartbeats."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    now = timezone.now()
    for name, queues in (("fast@host", "default"), ("heavy@host", "analytics")):
        WorkerHeartbeat.objects.create(
            hostname=name, queues=queues, pid=1, started_at=now, seen_at=now
        )


def test_ready_when_everything_answers(client, with_workers):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "migrations": "ok",
        "workers": "ok",
        "down": [],
        "queues": {"default": "ok", "analytics": "ok"},
    }


def test_not_ready_when_a_queue_has_no_live_worker(client, with_workers, settings):
    stale = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 1)
    WorkerHeartbeat.objects.filter(hostname="heavy@host").update(seen_at=stale)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["workers"]
    assert body["queues"] == {"default": "ok", "analytics": "no worker"}


def test_not_ready_while_a_migration_is_unapplied(client, with_workers, monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    MigrationRecorder(connection).record_unapplied("ops", "0001_worker_heartbeat")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"
    assert response.json()["down"] == ["migrations"]
    MigrationRecorder(connection).record_applied("ops", "0001_worker_heartbeat")
    assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_database_is_down(client, with_workers, monkeypatch):
    from crm import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    monkeypatch.setattr(health, "_database_ok", lambda: False)
    body = client.get("/readyz").json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["database", "migrations", "workers"]
    assert body["migrations"] == "unknown"


def test_503_while_our_redis_is_stopped_and_200_when_it_is_back(
    client, with_workers, own_redis, monkeypatch
):
    monkeypatch.setattr(app.conf, "broker_url", own_redis.url)
    assert client.get("/readyz").status_code == 200
    own_redis.stop()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["down"] == ["broker"]
        assert response.json()["broker"] == "down"
    finally:
        own_redis.start()
    assert client.get("/readyz").status_code == 200


def test_eager_mode_needs_no_worker(client):
    assert client.get("/readyz").json()["workers"] == "ok"


def test_heartbeat_rows_are_written_and_removed_by_the_worker_hooks(settings):
    from ops import heartbeat

    worker = heartbeat.WorkerIdentity(hostname="w1@host", queues=["analytics", "default"])
    heartbeat.record_heartbeat(worker)
    row = WorkerHeartbeat.objects.get(hostname="w1@host")
    assert row.queue_names == ["analytics", "default"]
    assert heartbeat.queues_without_worker(["default", "analytics", "other"]) == ["other"]
    heartbeat.forget_worker("w1@host")
    assert not WorkerHeartbeat.objects.exists()
