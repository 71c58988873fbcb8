"""Settings for the CRM, read from the environment (a `.env` file is read when present).

With nothing set the app runs on embedded defaults: SQLite and a Celery broker on the
file system, so `make run` works on a bare machine. `DATABASE_URL` switches to PostgreSQL,
`REDIS_URL` to Redis as broker and cache. `DEBUG=0` gives the production settings.
Every variable is listed with its default in `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of the embedded defaults (SQLite, broker, uploads)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

# A development key is only acceptable while DEBUG is on; production must set its own.
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "dev-only-key-change-me" * 3)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "simple_history",
    "crm",
    "customers",
    "sales",
    "service",
    "analytics",
    "marketing",
    "ops",
]

MIDDLEWARE = [
    # First, so that every response (errors too) carries a request id and is counted.
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.security.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "crm.security.OTPRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "crm.db_router.ReplicaPinMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)

# Database: SQLite under var/ unless DATABASE_URL is given (postgres://user@host:port/name).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crm.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
# Optional read replica (a PostgreSQL standby): dashboards and reports opt in to reading
# from it (crm/db_router.py); writes, and reads right after a user's write, use default.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    # Tests read the replica alias from the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["crm.db_router.ReplicaRouter"]
# After a write, a user's replica-eligible pages read the primary this long (about the worst
# replication lag accepted).
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="crm"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: its defaults (3 failures, locked until an admin resets) lock people out for
# good; 5 failures per username and address, then a 15-minute cool-off.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Login history for admins: every success is in the access log, and every failure in the
# failure log (the attempt counters above are reset on success, so they are no history).
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Internationalisation: English and Simplified Chinese, chosen by the user.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Money and phone numbers.
CURRENCY = env.str("CURRENCY", default="USD")
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
NODE_MODULES = BASE_DIR / "node_modules"
# Third-party assets come from npm (package.json, installed by `make setup`), served from
# node_modules; the whole dist folders are exposed so their .map files resolve too.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"
# Days an import's uploaded file and rejected-rows file are kept after the batch finished
# (committed, cancelled, failed or undone); a nightly task deletes them. Negative: forever.
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=90)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: console by default; EMAIL_URL=smtp+tls://user:password@host:587 in production.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The public address of the app, for links in emails (survey links, escalations).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Days after a completed order to send the customer a satisfaction survey; 0 = never.
SURVEY_AFTER_ORDER_DAYS = env.int("SURVEY_AFTER_ORDER_DAYS", default=0)
# Email to customers and campaigns (marketing app). Attachments of one email together stay
# under this size: most mail servers refuse messages above 10-25 MB once base64 adds a third.
EMAIL_ATTACHMENTS_MAX_MB = env.int("EMAIL_ATTACHMENTS_MAX_MB", default=10)
# A send that fails is tried again after 1, 2, 4... times this many seconds, up to this many
# attempts in all, then marked failed (and shown so) rather than dropped.
EMAIL_SEND_MAX_ATTEMPTS = env.int("EMAIL_SEND_MAX_ATTEMPTS", default=4)
EMAIL_RETRY_BASE_SECONDS = env.int("EMAIL_RETRY_BASE_SECONDS", default=60)
# Campaigns go out in batches of this size, at most this many messages a minute (the mail
# provider's limit; one batch task per CAMPAIGN_BATCH_SIZE / rate minutes).
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=100)
CAMPAIGN_RATE_PER_MINUTE = env.int("CAMPAIGN_RATE_PER_MINUTE", default=600)

# Celery: Redis when REDIS_URL is set, else kombu's file-system transport (needs no server).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange bindings (kombu writes them in the working directory otherwise).
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True  # results live in the database (JobRun), not the broker
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# Our JSON log lines (LOGGING below) for the worker too, instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Operations: worker heartbeats for /readyz, metrics access, backups, data retention.
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=30)
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)
# Queues /readyz wants a live worker on; empty = every queue in crm/celery.py.
READYZ_QUEUES = env.list("READYZ_QUEUES", default=[])
# Addresses or networks that may read /metrics without logging in (admins always may).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
BACKUP_DIR = env.path("BACKUP_DIR", default=VAR_DIR / "backups")
# Days to keep per retention policy (`manage.py run_retention --list`), e.g. access_logs=90.
RETENTION_DAYS = {k: int(v) for k, v in env.dict("RETENTION_DAYS", default={}).items()}
# The nightly backup through Celery beat; turn off when backups are taken outside the app.
BACKUP_SCHEDULE_ENABLED = env.bool("BACKUP_SCHEDULE_ENABLED", default=True)

# REST API (/api/v1/): token or session authentication, the role rules of crm.roles,
# per-token throttles, cursor pagination, OpenAPI schema at /api/schema/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api.throttling.BurstRateThrottle",
        "crm.api.throttling.SustainedRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.CrmAutoSchema",
    # JSON in: other systems send JSON, and JSON keeps the documented types (form posts
    # would make every number a string).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Per token (per user for browser sessions): a burst window and a daily ceiling.
API_THROTTLE_RATES = {
    "burst": env.str("API_THROTTLE_BURST", default="100/10s"),
    "sustained": env.str("API_THROTTLE_DAILY", default="100000/day"),
}
API_BULK_MAX_ROWS = 1000
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": (
        "Customers, interactions, products, orders, deals, tasks, tickets with their "
        "comments, feedback, users and the analytics results of the CRM. "
        "Every request is made as a user (an API token from /accounts/tokens/ as "
        "`Authorization: Bearer <token>`, or a browser session) and sees and changes exactly "
        "what that user may in the app. Lists use cursor pagination (`next`/`previous`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {"SegmentNameEnum": "analytics.choices.SegmentName"},
}
# Outgoing webhooks: attempts per delivery, backoff (base doubling up to the cap), timeout.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = 30
WEBHOOK_RETRY_MAX_SECONDS = 3600
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_STUCK_AFTER_SECONDS = 600

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-pass-123")

# Benchmark-only endpoints (the constant baseline page of `make bench`); off in production.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

# Sessions: logged out after 30 idle minutes, and after 12 hours whatever the activity.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True

# Two-factor (TOTP): required for these roles; on by default in production only, so the
# demo logs in without an authenticator app.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=[] if DEBUG else ["manager", "admin"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="CRM")

# Content Security Policy: scripts only from this site (no inline scripts anywhere);
# inline style attributes stay allowed for Bootstrap's components.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and scrapers call these over plain HTTP inside the network (load balancer,
    # container health checks, Prometheus): answer them instead of redirecting.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# One JSON object per line in production (LOG_FORMAT=json), readable text in development;
# every line carries the request id (ops.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
AXES_VERBOSE = False
# The audit trail is read-only: no "revert" in the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True
