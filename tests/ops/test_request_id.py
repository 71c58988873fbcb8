"""Request ids: taken from X-Request-ID or made, sent back, put on log lines and carried
into Celery tasks."""

import json
import logging
from types import SimpleNamespace

import pytest
from celery import shared_task

from ops import celery_signals
from ops.context import current_request_id, request_id_context
from ops.logs import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db

seen_in_task: list = []


@shared_task(name="tests.ops.record_request_id_task")
def record_request_id_task():
    logging.getLogger("tests.ops").info("inside the task")
    seen_in_task.append(current_request_id())


def test_a_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_the_callers_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-42.abc"})
    assert response["X-Request-ID"] == "edge-42.abc"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_log_lines_carry_the_request_id(client, caplog, monkeypatch):
    from crm import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    with caplog.at_level(logging.INFO):
        response = client.get("/healthz", headers={"X-Request-ID": "rid-from-proxy"})
    assert response.status_code == 503
    record = next(r for r in caplog.records if r.name == "django.request")
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "rid-from-proxy"
    assert line["level"] == "ERROR"


def test_publishing_a_task_adds_the_request_id_header():
    headers = {}
    with request_id_context("web-123"):
        celery_signals.add_request_id_header(headers=headers)
    assert headers["request_id"] == "web-123"
    # A header already there (a task sent from a task) is kept.
    celery_signals.add_request_id_header(headers=headers)
    assert headers["request_id"] == "web-123"


def test_a_worker_runs_the_task_under_the_request_id_of_its_message():
    task = SimpleNamespace(name="x_task", request=SimpleNamespace(request_id="web-123"))
    celery_signals.task_started(task_id="t1", task=task)
    try:
        assert current_request_id() == "web-123"
        record = logging.makeLogRecord({"msg": "working"})
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
        assert (line["request_id"], line["task_id"], line["task_name"]) == (
            "web-123",
            "t1",
            "x_task",
        )
    finally:
        celery_signals.task_finished(task_id="t1", task=task, state="SUCCESS")
    assert current_request_id() is None


def test_a_task_sent_during_a_request_logs_its_request_id(caplog):
    seen_in_task.clear()
    with caplog.at_level(logging.INFO), request_id_context("req-7"):
        record_request_id_task.delay()
    assert seen_in_task == ["req-7"]
    record = next(r for r in caplog.records if r.getMessage() == "inside the task")
    assert record.request_id == "req-7"
    assert record.task_name == "tests.ops.record_request_id_task"


def test_the_json_formatter_keeps_extra_fields_and_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.makeLogRecord(
            {"msg": "failed %s", "args": ("x",), "exc_info": sys.exc_info(), "path": "/tmp/a"}
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed x"
    assert line["path"] == "/tmp/a"
    assert "ValueError: boom" in line["exc_info"]
