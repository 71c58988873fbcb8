"""Small overrides for the test suite; everything else comes from crm.settings."""

import os
from urllib.parse import urlsplit, urlunsplit

from .settings import *  # noqa: F403
from .settings import CACHES, REDIS_URL, STORAGES

# Plain storage: live_server would answer 404 for the manifest's hashed names.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks sent from code under test run inline; the browser tests start a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = False  # enabled per test where the lockout itself is tested
LANGUAGE_CODE = "en"
OTP_REQUIRED_ROLES = []  # enforced in the tests of two-factor itself

if REDIS_URL:
    # The cache is flushed before every test: keep it in a database of its own (15 unless
    # TEST_CACHE_REDIS_DB says otherwise, so parallel checkouts do not flush each other) so the
    # flush never touches the broker's queues.
    parts = urlsplit(REDIS_URL)
    cache_db = os.environ.get("TEST_CACHE_REDIS_DB", "15")
    CACHES = {
        "default": {
            **CACHES["default"],
            "LOCATION": urlunsplit(parts._replace(path=f"/{cache_db}")),
        }
    }

# Serve static files from the finders (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
