"""The Celery app. Tasks are autodiscovered from each app's tasks.py.

Settings come from Django settings (CELERY_*): late acknowledgement with reject-on-worker-lost
and prefetch 1, so a task that dies with its worker is delivered again rather than lost; tasks
are written to be idempotent for that reason.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The one beat schedule. Each entry names a task by its dotted path so this module imports
# no app code. Times are in settings.TIME_ZONE.
app.conf.beat_schedule = {
    # Expired sessions pile up in the database; clear them at night when nobody logs in.
    "nightly-clear-sessions": {
        "task": "crm.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=30),
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
}
