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
    # Service desk: escalate tickets that just missed a service-level target (each once) and
    # refresh the suggested-answers index when stale. Five minutes is the longest an agent
    # should learn late of a breach; the round is a few indexed queries when nothing is due.
    "service-desk-tick": {
        "task": "service.tasks.service_desk_tick_task",
        "schedule": crontab(minute="*/5"),
    },
}
