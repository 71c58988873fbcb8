"""The Celery app. Tasks are autodiscovered from each app's tasks.py.

Settings come from Django settings (CELERY_*): late acknowledgement with reject-on-worker-lost
and prefetch 1, so a task that dies with its worker is delivered again rather than lost; tasks
are written to be idempotent for that reason.
"""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Two queues, so a long analytics job never delays an email or a notification:
#   default    quick tasks (mail, notifications, retention): celery -A crm worker -Q default
#   analytics  heavy jobs (the analytics.tasks.* jobs, the backup): -Q analytics
# A worker started without -Q consumes both (make run, the tests' workers); production runs
# one pool per queue, on as many machines as needed (docs/deploy.md, "Scaling out").
# Each queue with its own exchange and routing key, so a message reaches one queue only.
app.conf.task_queues = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("analytics", Exchange("analytics"), routing_key="analytics"),
)
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "analytics.tasks.*": {"queue": "analytics"},
    "ops.tasks.backup_database_task": {"queue": "analytics"},
}

# The one beat schedule. Each entry names a task by its dotted path so this module imports
# no app code. Times are in settings.TIME_ZONE.
app.conf.beat_schedule = {
    # Expired sessions pile up in the database; clear them at night when nobody logs in.
    "nightly-clear-sessions": {
        "task": "crm.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=30),
    },
    # Old data past its retention period (ops.retention), after the sessions are cleared.
    "nightly-retention": {
        "task": "ops.tasks.retention_task",
        "schedule": crontab(hour=3, minute=45),
    },
    # Uploaded import files (they hold people's rows) past IMPORT_FILE_RETENTION_DAYS after
    # their import finished; after the general retention run, nobody imports at night.
    "nightly-import-files": {
        "task": "customers.import_files_retention_task",
        "schedule": crontab(hour=3, minute=50),
    },
    # A nightly database backup on the heavy queue, before the night's analytics jobs;
    # retention prunes old files. BACKUP_SCHEDULE_ENABLED=0 turns it into a no-op where
    # backups are taken outside the app.
    "nightly-backup": {
        "task": "ops.tasks.backup_database_task",
        "kwargs": {"scheduled": True},
        "schedule": crontab(hour=2, minute=15),
    },
    # Webhook deliveries whose task was lost (broker down when queued, worker killed) are
    # re-queued; every 5 minutes keeps the worst extra delay near WEBHOOK_STUCK_AFTER.
    "retry-stuck-webhooks": {
        "task": "crm.api.webhooks.retry_stuck_webhooks_task",
        "schedule": 300.0,
    },
    # Follow-up tasks fall due all day; every 5 minutes keeps a reminder at most 5 minutes
    # late, and each run is a single indexed query when nothing is due.
    "sales-task-reminders": {
        "task": "sales.tasks.send_task_reminders_task",
        "schedule": crontab(minute="*/5"),
    },
    # Very similar customer names in the same city (the duplicates page's pair list):
    # nightly in full, and every 10 minutes a cheap check that recomputes it when customers
    # changed since the last run, so an import's new near-duplicates show up soon after it.
    "nightly-similar-names": {
        "task": "customers.similar_names_task",
        "schedule": crontab(hour=0, minute=20),
    },
    "similar-names-after-changes": {
        "task": "customers.similar_names_task",
        "schedule": crontab(minute="*/10"),
        "kwargs": {"only_if_due": True},
    },
    # The sales reports read summary tables that every order write refreshes; a nightly
    # rebuild from all orders catches what went around the services (a customer given a new
    # owner, the admin, raw SQL). Before the analytics jobs, when almost nobody writes.
    "nightly-sales-summaries": {
        "task": "sales.tasks.rebuild_sales_summaries_task",
        "schedule": crontab(hour=0, minute=40),
    },
    # The analytics jobs, nightly after the day's orders are in and before people log on;
    # staggered so the two-core worker runs them one after another, not all at once. Each
    # entry queues a JobRun and runs it (skipped if a manager's run of that kind is active).
    # Customer value first: its RFM figures and predicted value are the most looked at.
    "nightly-analytics-customer-value": {
        "task": "analytics.tasks.scheduled_job_task",
        "schedule": crontab(hour=1, minute=0),
        "args": ("customer_value",),
    },
    # Churn scores every active customer as of today; its label needs last 90 days' orders.
    "nightly-analytics-churn": {
        "task": "analytics.tasks.scheduled_job_task",
        "schedule": crontab(hour=1, minute=10),
        "args": ("churn",),
    },
    # Segments move slowly, but a nightly run keeps new customers assigned.
    "nightly-analytics-segmentation": {
        "task": "analytics.tasks.scheduled_job_task",
        "schedule": crontab(hour=1, minute=20),
        "args": ("segmentation",),
    },
    # Cross-sell rules and each customer's recommendations from all order baskets.
    "nightly-analytics-association-rules": {
        "task": "analytics.tasks.scheduled_job_task",
        "schedule": crontab(hour=1, minute=30),
        "args": ("association_rules",),
    },
    # Revenue forecast: yesterday closes a week or a month now and then.
    "nightly-analytics-forecast": {
        "task": "analytics.tasks.scheduled_job_task",
        "schedule": crontab(hour=1, minute=40),
        "args": ("forecast",),
    },
    # Marketing: start scheduled campaigns when due, resume campaign batches whose retries
    # fell due (or whose task was lost) and re-queue lost single emails. Every minute so a
    # scheduled campaign starts within a minute of its time; a few indexed queries when idle.
    "marketing-tick": {
        "task": "marketing.tasks.marketing_tick_task",
        "schedule": 60.0,
    },
    # Service desk: escalate tickets that just missed a service-level target (each once) and
    # refresh the suggested-answers index when stale. Five minutes is the longest an agent
    # should learn late of a breach; the round is a few indexed queries when nothing is due.
    "service-desk-tick": {
        "task": "service.tasks.service_desk_tick_task",
        "schedule": crontab(minute="*/5"),
    },
}
