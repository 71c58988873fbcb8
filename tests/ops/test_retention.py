"""Data retention: each policy deletes what is past its period and keeps the rest."""

import os
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from ops import retention
from ops.models import WorkerHeartbeat
from ops.tasks import retention_task

pytestmark = pytest.mark.django_db


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


def _aged_file(path, days: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    stamp = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_the_nightly_job_deletes_only_what_is_past_its_period(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    now = timezone.now()
    expired, alive = _session(-timedelta(hours=1)), _session(timedelta(hours=1))
    old_log = AccessLog.objects.create(username="a", ip_address="10.0.0.1", user_agent="x")
    AccessLog.objects.filter(pk=old_log.pk).update(attempt_time=now - timedelta(days=200))
    new_log = AccessLog.objects.create(username="b", ip_address="10.0.0.2", user_agent="x")
    attempt = AccessAttempt.objects.create(
        username="a", ip_address="10.0.0.1", user_agent="x", failures_since_start=1
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=now - timedelta(days=31))
    WorkerHeartbeat.objects.create(
        hostname="gone@h", queues="default", pid=1, started_at=now, seen_at=now - timedelta(days=8)
    )
    WorkerHeartbeat.objects.create(
        hostname="alive@h", queues="default", pid=1, started_at=now, seen_at=now
    )
    old_backup = _aged_file(tmp_path / "backups" / "crm-20260101-000000.dump", 15)
    not_a_backup = _aged_file(tmp_path / "backups" / "notes.txt", 100)

    results = retention_task.delay().get()

    assert results["sessions"] == 1
    assert results["access_logs"] == 1
    assert results["login_attempts"] == 1
    assert results["worker_heartbeats"] == 1
    assert results["backups"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [alive]
    assert expired != alive
    assert list(AccessLog.objects.all()) == [new_log]
    assert not AccessAttempt.objects.exists()
    assert list(WorkerHeartbeat.objects.values_list("hostname", flat=True)) == ["alive@h"]
    assert not old_backup.exists() and not_a_backup.exists()


def test_periods_come_from_settings_and_negative_switches_off(settings):
    old_log = AccessLog.objects.create(username="a", ip_address="10.0.0.1", user_agent="x")
    AccessLog.objects.filter(pk=old_log.pk).update(attempt_time=timezone.now() - timedelta(days=20))
    settings.RETENTION_DAYS = {"access_logs": -1}
    assert "access_logs" not in retention.run_retention()
    settings.RETENTION_DAYS = {"access_logs": 10}
    assert retention.run_retention(only=["access_logs"]) == {"access_logs": 1}


def test_a_failing_policy_does_not_stop_the_others(monkeypatch):
    monkeypatch.setattr(retention, "_policies", dict(retention._policies))

    def broken(cutoff):
        raise RuntimeError("disk gone")

    retention.register_retention("broken", default_days=1, purge=broken)
    _session(-timedelta(days=1))
    results = retention.run_retention()
    assert results["broken"] == -1
    assert results["sessions"] == 1


def test_a_policy_for_a_model_not_installed_yet_is_harmless(monkeypatch):
    monkeypatch.setattr(retention, "_policies", {})
    retention.register_model_retention(
        "notifications", "notifications.Notification", "created_at", default_days=90
    )
    assert retention.run_retention() == {"notifications": 0}


def test_the_command_lists_and_runs_the_policies(capsys):
    call_command("run_retention", "--list")
    listing = capsys.readouterr().out
    for name in ("sessions", "access_logs", "backups", "worker_heartbeats"):
        assert name in listing
    call_command("run_retention", "--policy", "sessions")
    assert capsys.readouterr().out.strip() == "sessions: 0"
