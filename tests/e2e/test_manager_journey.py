"""The manager's day, as issue 12 describes it, with a real Celery worker beside the app, on
a desktop, on a phone and in Chinese: import a CSV with some bad rows, read the preview,
commit, download the rejected rows, run a job from the dashboard and watch its progress
bar finish, export a report.

The worker is a separate process, so it must reach the test database: PostgreSQL (what CI
runs on). On SQLite the test database lives in memory and no other process can see it.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from analytics.models import JobRun
from crm.celery import app as celery_app
from crm.roles import Role
from customers.models import Customer
from sales import summaries
from tests.e2e.conftest import VARIANTS
from tests.factories import CustomerFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker(live_server, settings, tmp_path):
    """A real worker on the test database and the configured broker; tasks leave the web
    process through the broker instead of running inline."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs the PostgreSQL test database (CI runs it)")
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.test_settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "-Q",
            "default,analytics",
            "--loglevel=INFO",
            "-n",
            f"e2e{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        deadline = time.monotonic() + 60
        while "ready." not in (tmp_path / "worker.log").read_text():
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.3)
        yield proc
    finally:
        celery_app.conf.task_always_eager = eager
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        with connection.cursor() as cursor:  # let the test database be dropped
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.mark.parametrize("variant", VARIANTS)
def test_manager_imports_runs_a_job_and_exports_a_report(
    open_session, variant, celery_worker, settings, tmp_path
):
    UserFactory(username="morgan", role=Role.MANAGER, password="correct-horse-battery")
    # Two years of orders: the forecast needs 20 complete months to judge itself.
    now = timezone.now()
    for month in range(26):
        customer = CustomerFactory()
        for day in (2, 11, 20):
            line = OrderLineFactory(
                order__customer=customer,
                order__ordered_at=now - timedelta(days=30 * month + day),
                unit_price=Decimal("40.00") + month,
            )
            line.order.recompute_total()
            line.order.save(update_fields=["total"])
    # Factories write around the order services: rebuild the report summaries, as the
    # nightly job does after writes the services did not see.
    summaries.rebuild_all()
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "external_id,name,email,phone,country\n"
        "W1,Wang Wei,WANG@example.com,(415) 555-2671,US\n"
        "W2,Bad Mail,not-an-email,,US\n"
        "W3,,nobody@example.com,,US\n"
        "W4,Li Na,li.na@example.com,+86 139 1234 5678,CN\n",
        encoding="utf-8",
    )

    s = open_session(variant)
    page = s.page
    s.log_in("morgan", "correct-horse-battery")

    # Import: the worker parses the file; the preview shows creates and rejects.
    s.goto("/customers/import/")
    page.set_input_files("input[type=file]", str(csv_file))
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=commit]", timeout=60_000)
    s.shot("import-preview")
    rejects = page.inner_text("[data-testid=rejects]")
    assert "not-an-email" in rejects and "3" in rejects  # row 3 has the bad email
    assert "wang@example.com" in page.inner_text("[data-testid=creates]")
    with page.expect_download() as download:
        page.click("[data-testid=download-rejects]")
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "not-an-email" in rejected and "W3" in rejected and "Wang Wei" not in rejected
    page.click("[data-testid=commit]")
    page.wait_for_selector("[data-testid=undo]", timeout=60_000)
    assert Customer.objects.get(external_id="W1").phone == "+14155552671"
    assert Customer.objects.get(external_id="W4").phone == "+8613912345678"
    assert not Customer.objects.filter(external_id__in=["W2", "W3"]).exists()

    # Run the forecast from the jobs page and watch the progress until it has finished.
    s.goto("/analytics/jobs/")
    page.locator("[data-testid=job-forecast] button[type=submit]").click()
    progress = page.locator("[data-testid=job-forecast] [data-testid=run-progress]")
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=90_000)
    s.shot("job-finished")
    run = JobRun.objects.get(kind="forecast")
    assert run.status == "succeeded" and run.progress == 100

    # Export a report as CSV.
    s.goto("/sales/reports/")
    with page.expect_download() as download:
        page.click("[data-testid=csv-revenue_by_month]")
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = report.strip().splitlines()
    assert rows[0] == "month,orders,revenue"
    assert len(rows) >= 13  # the default period: the last twelve months
    assert all(Decimal(row.split(",")[2]) > 0 for row in rows[1:])
    s.shot("reports")
