"""Settings for the DeltaCrown activity ledger.

The embedded default needs nothing but Python: SQLite, an in-process channel layer, jobs inline.
Production is configured from the environment: DATABASE_URL, REDIS_URL, CELERY_BROKER_URL.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Off unless asked for: scripts/serve asks for it on a local machine.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "strawberry_django",
    "channels",  # live feed: channel layers for GraphQL subscriptions (owner: live feed)
    "ledger",
    "esports.profiles",
    "esports.teams",
    "esports.tournaments",
    "esports.economy",
    "esports.achievements",
    "esports.social",  # follows between players (owner: follows)
    "graphql_api",
    "web",  # profile page at /u/<username>/ (owner: profile page)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ (admin, GraphiQL, the profile page's JS) in every mode, from STATIC_ROOT
    # after `collectstatic` and, where that was not run, from the apps' own static folders.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL; the default is a SQLite file.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Parallel test runs (several developers or CI jobs on one server) each need their own test DB.
if os.environ.get("DJANGO_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DJANGO_TEST_DB_NAME"]}
# DATABASE_REPLICA_URL (optional, same form as DATABASE_URL): a streaming replica of that
# database. Feed, stats, history, leaderboard and period reads of API queries go to it; writes,
# jobs, subscriptions and a viewer's reads for READ_YOUR_WRITES_SECONDS after their own mutation
# stay on the primary (ledger/routing.py, graphql_api/replica.py, docs/decisions/0019). Unset:
# no router, one database, nothing changes. Tests never create it: it mirrors the test database.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL") or None
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["ledger.routing.ReadRouter"]
# After a mutation, that viewer's reads stay on the primary for this many seconds (1 to 300): set
# it above the replica lag you alert on.
READ_YOUR_WRITES_SECONDS = int(os.environ.get("READ_YOUR_WRITES_SECONDS", "10"))
if not 1 <= READ_YOUR_WRITES_SECONDS <= 300:
    raise ImproperlyConfigured("READ_YOUR_WRITES_SECONDS must be between 1 and 300.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Production runs `collectstatic` (deploy/start does); finders keep a plain checkout working too.
WHITENOISE_USE_FINDERS = True
# WhiteNoise's file responses iterate synchronously; under ASGI Django buffers them through a
# thread and warns on every static file. Our static files are small: the warning is noise.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

# --- Ledger -----------------------------------------------------------------------------------
# Key for the one-way digests by which the ledger remembers erased subjects (GDPR Art. 17)
# without keeping who they were. Set it once in production and never rotate it: a new key
# forgets earlier erasures.
LEDGER_ERASURE_KEY = os.environ.get("LEDGER_ERASURE_KEY", SECRET_KEY)

# --- Ledger operations: jobs, Celery, nightly reconcile (owner: ledger operations) -------------
# With CELERY_BROKER_URL set (redis://... or amqp://...), ledger jobs run on a Celery worker
# (`celery -A config worker`); unset, they run inline in the process that asked (embedded default).
# The nightly reconcile runs from Celery beat (`celery -A config beat`) at 03:00 UTC. Without
# Celery, use cron instead:
#   0 3 * * * cd /app && .venv/bin/python manage.py reconcile_user_stats --fix >> reconcile.log 2>&1
from celery.schedules import crontab  # noqa: E402

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULE = {
    "ledger-nightly-reconcile": {
        "task": "ledger.nightly_reconcile",
        "schedule": crontab(hour=3, minute=0),
    },
    "ledger-make-event-months": {
        "task": "ledger.make_event_months",
        "schedule": crontab(hour=2, minute=30),
    },
    "ledger-archive": {
        "task": "ledger.scheduled_archive",
        "schedule": crontab(hour=4, minute=0),
    },
}
# GDPR export jobs write their documents here; the API serves them for download.
LEDGER_EXPORT_DIR = Path(os.environ.get("LEDGER_EXPORT_DIR", BASE_DIR / "var" / "exports"))
# The archive (docs/operations.md, "Archive"): events of whole months older than
# LEDGER_ARCHIVE_AFTER_DAYS move from the events table to compressed files in LEDGER_ARCHIVE_DIR
# (one per month, a manifest with checksums), daily from Celery beat at 04:00 UTC, or with
# `manage.py archive_activity --before DATE`. Without Celery, use cron as for the reconcile.
LEDGER_ARCHIVE_DIR = Path(os.environ.get("LEDGER_ARCHIVE_DIR", BASE_DIR / "var" / "archive"))
LEDGER_ARCHIVE_AFTER_DAYS = int(os.environ.get("LEDGER_ARCHIVE_AFTER_DAYS", "730"))
# A running job holds a lease on its row that its worker renews every third of this many seconds;
# once a lease has expired (its worker was killed), the next worker to sweep (each does every
# quarter lease) takes the job again from its checkpoints. An attempt that fails or whose worker
# dies counts; after LEDGER_JOB_MAX_ATTEMPTS the job ends FAILED. docs/decisions/0013.
LEDGER_JOB_LEASE_SECONDS = float(os.environ.get("LEDGER_JOB_LEASE_SECONDS", "60"))
LEDGER_JOB_MAX_ATTEMPTS = int(os.environ.get("LEDGER_JOB_MAX_ATTEMPTS", "3"))
# PostgreSQL keeps events in one partition a month (docs/decisions/0014): `make_event_months`
# (beat, daily; `migrate` too) makes this month's and this many more ahead, so live recording
# never has to. A backfill makes the past months it needs as it records them.
LEDGER_EVENT_MONTHS_AHEAD = int(os.environ.get("LEDGER_EVENT_MONTHS_AHEAD", "3"))
# The lease, not the broker, decides who runs a job: a task is acknowledged when it starts
# (acks_late off), so a worker's death never makes the broker run it again at an hour's delay
# (Redis' visibility timeout); each worker process reserves one message at a time, so few wait
# in a worker that may die.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- GraphQL API (owner: GraphQL API) -------------------------------------------------------------
# WIN_RATE leaderboard ranks only players with at least this many matches played.
LEADERBOARD_MIN_MATCHES = int(os.environ.get("LEADERBOARD_MIN_MATCHES", "10"))

# --- Live feed: channel layers and WebSocket origins (owner: live feed) ---------------------------
# REDIS_URL set: channels-redis, so subscribers on every ASGI worker process hear every commit.
# Unset: the in-memory layer (the embedded default; one process only). socket_timeout None:
# redis-py 8's default 5 s socket timeout silently drops a subscriber idle longer than that.
REDIS_URL = os.environ.get("REDIS_URL") or None
CHANNEL_LAYERS = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "asgi"),
            },
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
# Browser pages on other origins allowed to open /graphql/ WebSockets (comma-separated, e.g.
# https://app.example.com). Same-origin pages and native clients (no Origin header) always may.
GRAPHQL_WS_ALLOWED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("GRAPHQL_WS_ALLOWED_ORIGINS", "").split(",")
    if origin.strip()
]
# An open WebSocket re-checks its token or session this often (seconds, jittered ±20%), and at
# once when the user's tokens are revoked, they log out or their account changes.
GRAPHQL_WS_REAUTH_SECONDS = float(os.environ.get("GRAPHQL_WS_REAUTH_SECONDS", "60"))

# --- Production: TLS, proxies, logs, metrics (owner: production readiness) ----------------------
# See docs/operations.md. `manage.py check --deploy --fail-level WARNING` passes with:
#   DJANGO_SECRET_KEY=<50+ random chars> DJANGO_ALLOWED_HOSTS=ledger.example.com DJANGO_SECURE=1
#   DJANGO_HSTS_PRELOAD=1 (once the domain is HTTPS-only for good)
INSTALLED_APPS += ["config"]  # registers the deploy checks of config/checks.py; no models
# DJANGO_SECURE=1: served over TLS, so plain HTTP redirects to HTTPS (the probes and the scrape,
# which come from inside the network, excepted). Cookies are Secure and HSTS is sent whenever
# DEBUG is off (HSTS only ever goes out on HTTPS responses).
SECURE = env_bool("DJANGO_SECURE", False)
SECURE_SSL_REDIRECT = SECURE
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE or not DEBUG
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if (SECURE or not DEBUG) else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from clients):
# DJANGO_SECURE_PROXY_SSL_HEADER=1. Off by default: trusting the header without such a proxy
# lets any client claim HTTPS.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]
# Logs: JSON lines with request id and GraphQL operation (LOG_FORMAT=json, the default unless
# DEBUG) or plain text; both redact personal data (config/logging.py).
from config.logging import lean_records, logging_config  # noqa: E402

MIDDLEWARE.insert(0, "config.logging.request_context_middleware")
lean_records()
LOGGING = logging_config(
    json_logs=os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json") == "json",
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
# Celery workers log through LOGGING above instead of installing their own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics: PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself) makes it sum every
# process of the machine; scrapes send `Authorization: Bearer <METRICS_TOKEN>`. Unset: 403 for
# everyone, unless DEBUG (check --deploy fails without it).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
# The profile page's Content-Security-Policy: it loads its script, style and data from this
# origin only (and opens a WebSocket to it). check --deploy fails if it is emptied.
PAGE_CONTENT_SECURITY_POLICY = os.environ.get(
    "PAGE_CONTENT_SECURITY_POLICY",
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
)
# --- Connections and admission (owner: HTTP path, issue 13; docs/operations.md) -----------------
# PostgreSQL: psycopg's pool, on unless DATABASE_POOL=0. Django's async views run a request's ORM
# calls on a thread of that request, so a persistent thread-local connection is never reused and
# every request would connect anew; under load those connections outnumbered max_connections
# (HTTP 500 "too many clients"). The pool holds at most DATABASE_POOL_MAX per process, whatever
# the concurrency. No health check per checkout (a round trip per request, 8% of a worker's time
# in the profile): the pool drops connections that come back broken and recycles idle ones.
# Celery's prefork children each open their own pool (celery.fixups.django closes the parent's).
DATABASE_POOL = env_bool("DATABASE_POOL", True) and DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
)
DATABASE_POOL_MAX = int(os.environ.get("DATABASE_POOL_MAX", "10"))
if DATABASE_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "1")),
        "max_size": DATABASE_POOL_MAX,
        # a request that still finds no connection after this long fails: admission control
        # below keeps requests from queueing in the pool, so this is only for the unexpected
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        "max_idle": 300,
    }
if DATABASE_POOL and DATABASE_REPLICA_URL:  # the replica's connections: the same pool options
    DATABASES["replica"]["CONN_MAX_AGE"] = 0
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["replica"].setdefault("OPTIONS", {})["pool"] = dict(
        DATABASES["default"]["OPTIONS"]["pool"]
    )
# PostgreSQL sessions (docs/decisions/0030). A feed page on monthly partitions is a statement
# prepared on its connection (ledger/selectors/prepared.py: psycopg prepares only when given a
# threshold) and run with a generic plan, planned once over every month and pruned when it runs.
# Django binds every other statement on the client, so nothing else is prepared and
# plan_cache_mode reaches only those statements and PL/pgSQL's (whose plans do not depend on
# values). Not with server_side_binding: every ORM statement would then run a generic plan.
# constraint_exclusion=off: no table is partitioned by inheritance (declarative partitions are
# pruned by their bounds), and refuting the events' CHECK constraints month by month was a third
# of the planning of a query over partitions.
for _alias, _database in DATABASES.items():
    _options = _database.setdefault("OPTIONS", {})
    if _database["ENGINE"].endswith("postgresql") and not _options.get("server_side_binding"):
        _options.setdefault("prepare_threshold", 5)
        _options["options"] = " ".join(
            [
                _options.get("options", ""),
                "-c plan_cache_mode=force_generic_plan -c constraint_exclusion=off",
            ]
        ).strip()
# HTTP admission (config/admission.py): requests served at once per process (each holds at most
# one connection: by default the pool's size), how many may wait for a turn and for how long;
# beyond either, 503 with Retry-After.
HTTP_CONCURRENCY = int(os.environ.get("HTTP_CONCURRENCY", str(DATABASE_POOL_MAX)))
HTTP_QUEUE = int(os.environ.get("HTTP_QUEUE", "2000"))
HTTP_QUEUE_SECONDS = float(os.environ.get("HTTP_QUEUE_SECONDS", "20"))
# Bearer tokens seen by this process are trusted without a query for at most this many seconds
# (graphql_api/auth/cache.py): revocation and user changes evict them at once on every process
# that hears the announcement; this is the bound when it is not heard. 0 turns the cache off.
API_TOKEN_CACHE_SECONDS = float(os.environ.get("API_TOKEN_CACHE_SECONDS", "10"))
API_TOKEN_CACHE_SIZE = int(os.environ.get("API_TOKEN_CACHE_SIZE", "10000"))
# /graphql/ runs through this list only (config/handlers.py): Django's hooks, in the event loop.
API_MIDDLEWARE = [
    "config.logging.request_context_middleware",
    "config.middleware.SecurityMiddleware",
    "config.middleware.SessionMiddleware",
    "config.middleware.CsrfCookieMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.XFrameOptionsMiddleware",
]
# A POST of one operation with a bearer token this process knows skips Django's handler and
# strawberry's view, running the same hooks, schema and response code (config/fast_path.py,
# decision 0032); off in DEBUG. API_FAST_PATH=0 sends every request through the handler.
API_FAST_PATH = env_bool("API_FAST_PATH", True)
