"""Settings for Wix Backup Manager.

This is the only module that reads environment variables (architecture.md, habit 8). Every value
has a default that makes `make run` work untouched; production sets the environment instead.
django-environ raises on malformed values, so a typo fails at start-up rather than at 3 a.m.

Importing it reads and never writes: every process (web, worker, beat, each test, each command)
imports it, so a write here raced between processes and failed on a read-only deployment. The
files it may read (the keys under VAR_DIR) are made by `manage.py init_keys` (backupapp/management).
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# --- Keys -------------------------------------------------------------------------------------
# Each key comes from the environment, else from its file under VAR_DIR, which
# `manage.py init_keys` creates once (0600, never overwritten; `make run` and the compose file's
# migrate job run it first). Neither: start-up fails saying what to do, rather than a process
# inventing a key of its own that the other processes would not share.
SECRET_KEY_FILE = VAR_DIR / "secret_key"
FERNET_KEY_FILE = VAR_DIR / "fernet_key"
# Django imports these settings before it runs any command, so the command that creates the key
# files would be refused by the very check it exists to satisfy. For that one command (argv is
# `manage.py init_keys` or `django-admin init_keys`) a missing key is allowed: the settings then
# hold no usable key (Django refuses an empty SECRET_KEY wherever one is used), and init_keys
# itself needs only VAR_DIR.
_MAKING_KEYS = sys.argv[1:2] == ["init_keys"]


def _key_file(path: Path) -> str:
    return path.read_text().strip() if path.is_file() else ""


def _missing_key(variable: str, path: Path) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{variable} is not set and {path} does not exist: run `python manage.py init_keys` "
        f"(it creates the key files under VAR_DIR={VAR_DIR}), or set {variable}."
    )


def _secret_key() -> str:
    key = env.str("DJANGO_SECRET_KEY", default="") or _key_file(SECRET_KEY_FILE)
    if not key and not _MAKING_KEYS:
        raise _missing_key("DJANGO_SECRET_KEY", SECRET_KEY_FILE)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Sign-in throttling (the "Sign-in protection" section below).
    "axes",
    # Only for its management commands (init_keys); it has no models.
    "backupapp",
    "sites",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Content-Security-Policy on every answer (the "Security headers" section below).
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backupapp.urls"
WSGI_APPLICATION = "backupapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # `{% url %}` reversing each pattern once per process (backupapp/urltag.py).
            "builtins": ["backupapp.urltag"],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock when a transaction starts, so two processes never
            # deadlock upgrading a read lock; WAL lets readers proceed while one process writes.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The pages' batched reads (sites/batch.py) are prepared on the server, so PostgreSQL parses
# and plans them once per connection. Turn off behind a connection pooler in transaction mode
# that cannot keep prepared statements (PgBouncer before 1.21).
DATABASE_PREPARED_READS = env.bool("DATABASE_PREPARED_READS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic fills it in production (the Dockerfile sets STATIC_ROOT outside the var/ volume, so
# a new image brings its own files). WhiteNoise warns while it is missing, so `manage.py init_keys`
# creates it for `make run` and the tests; settings create nothing.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# --- Sign-in protection -----------------------------------------------------------------------
# django-axes counts failed sign-ins per (username, client address): after AXES_FAILURE_LIMIT
# failures that pair is refused (429) for AXES_COOLOFF_TIME, even with the right password.
# Pairing both means a stranger guessing cannot lock an owner out from elsewhere, and one address
# cannot try unlimited passwords against one account.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is REMOTE_ADDR only: X-Forwarded-For is whatever the client says unless a
# proxy we run sets it, so trusting it by default would let anyone dodge the lock-out. Behind a
# reverse proxy set DJANGO_PROXY_COUNT to the number of proxies in front of the app.
_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
if _PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = _PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- Cookies, HTTPS and security headers ------------------------------------------------------
# Always on: scripts never read the session or CSRF cookie (the CSRF token reaches htmx through
# `hx-headers` on <body>), and both stay on same-site requests.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_SECONDS", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HTTPS-only settings need TLS in front of the app, which only the operator knows about:
# DJANGO_HTTPS=1 in production (docker-compose behind a TLS proxy; `manage.py check --deploy`
# passes only then). `make run` and the tests serve plain HTTP on 127.0.0.1, so it is off there.
HTTPS = env.bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
    # Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's).
    if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A strict Content-Security-Policy (django-csp 4): scripts, styles and fetches from this origin
# only; no inline script or style, no eval (base.html configures htmx with allowEval: false and
# includeIndicatorStyles: false), no framing, forms post here only. A page that injected markup
# (a hostile collection name that escaped escaping) still could not run it.
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_NONE],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
        "base-uri": [_NONE],
        "object-src": [_NONE],
    },
}

CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://"),
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same, keeping one Redis client per pool rather than making one per call.
    CACHES["default"]["BACKEND"] = "backupapp.cache.RedisCache"
# Every request reads its session, the live polls every 2 s included: from a cache all processes
# share (Redis in production) that is a query fewer per request (backupapp/sessions.py: the
# database stays the source of truth, and serves alone while the cache is down). A per-process
# memory cache would let a signed-out session live on in the other processes, so with one the
# sessions stay in the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHES["default"]["BACKEND"].endswith((".LocMemCache", ".DummyCache"))
    else "backupapp.sessions"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes says "BEGIN version ..." at INFO on every start; its lock-out warnings still show.
    # Celery writes two INFO lines per task (received, succeeded): with a poll every few seconds
    # per site that is most of a worker's log and a measurable share of its CPU (bench/scale.py).
    # The engine logs each operation's outcome instead (engine/states.py); failing tasks still
    # log at ERROR.
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes.apps": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
# JSON only: tasks take ids, never pickled objects (architecture.md, habit 4).
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"

# --- The emulator (wixemulator/) --------------------------------------------------------------
# Off unless asked for: a deployment serves real Wix only, with no emulator tables, no /sandbox/
# routes and no emulator URL its sites may point at. `make run`, the tests (pyproject.toml's
# [tool.pytest.ini_options] env) and CI turn it on; so does WIXEMULATOR_ENABLED=1 in compose.
WIXEMULATOR_ENABLED = env.bool("WIXEMULATOR_ENABLED", default=False)
if WIXEMULATOR_ENABLED:
    INSTALLED_APPS.append("wixemulator")
# The product's business clock (sites/clock.py: schedules, how old a copy is): the real time,
# unless this names another, imported by string. "wixemulator.clock.now" follows the emulator's
# global clock, so moving Wix's time moves the product's (development and tests only): refused
# without the emulator, so a deployment always keeps the real clock.
WBM_CLOCK = env.str("WBM_CLOCK", default="")
if WBM_CLOCK and not WIXEMULATOR_ENABLED:
    raise ImproperlyConfigured(
        f"WBM_CLOCK={WBM_CLOCK!r} needs WIXEMULATOR_ENABLED: only the emulator's clock may "
        "replace the real one, in development and tests. Unset WBM_CLOCK."
    )
# Where the worker reaches the emulator: this server's /sandbox. Spelled out, not derived from
# PORT alone, because honcho gives each `make run` process a PORT of its own and compose's worker
# reaches the web service by name.
WIXEMULATOR_BASE_URL = env.str(
    "WIXEMULATOR_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}/sandbox"
)

# --- Wix --------------------------------------------------------------------------------------
# The only hosts the worker may call, and the choices of the connect form: a site's base URL must
# be one of these (no SSRF through a site's settings). The emulator's URL is among them by default
# only while the emulator is on. Set but empty counts as unset (compose passes it through empty):
# an empty list would only refuse every site.
WIX_ALLOWED_BASE_URLS = env.list("WIX_ALLOWED_BASE_URLS", default=[]) or [
    "https://www.wixapis.com",
    *([WIXEMULATOR_BASE_URL] if WIXEMULATOR_ENABLED else []),
]

# Seconds a backup, restoration and deletion take on the emulator; each site may override them.
WIXEMULATOR_BACKUP_SECONDS = env.float("WIXEMULATOR_BACKUP_SECONDS", default=3.0)
WIXEMULATOR_RESTORE_SECONDS = env.float("WIXEMULATOR_RESTORE_SECONDS", default=5.0)
WIXEMULATOR_DELETE_SECONDS = env.float("WIXEMULATOR_DELETE_SECONDS", default=1.0)
# Lifetime of the emulator's OAuth tokens; Wix's is 4 hours.
WIXEMULATOR_TOKEN_SECONDS = env.int("WIXEMULATOR_TOKEN_SECONDS", default=14400)
# Wix allows about 200 requests per minute per site.
WIXEMULATOR_RATE_LIMIT = env.int("WIXEMULATOR_RATE_LIMIT", default=200)

# --- Snapshots (sites/snapshots/, docs/snapshots.md) ------------------------------------------
# Where snapshots are stored: a folder (relative to the project, or absolute), or an
# S3-compatible bucket as `s3://bucket` or `s3://bucket/prefix`. Nothing is created here: the
# folder appears with the first snapshot.
_SNAPSHOTS = env.str("WBM_SNAPSHOT_STORAGE", default="") or str(VAR_DIR / "snapshots")
WBM_SNAPSHOT_STORAGE = _SNAPSHOTS if _SNAPSHOTS.startswith("s3://") else str(BASE_DIR / _SNAPSHOTS)
# S3 only. Empty endpoint: AWS itself; empty keys: boto3's own chain (an instance role).
WBM_SNAPSHOT_S3_ENDPOINT_URL = env.str("WBM_SNAPSHOT_S3_ENDPOINT_URL", default="")
WBM_SNAPSHOT_S3_REGION = env.str("WBM_SNAPSHOT_S3_REGION", default="")
WBM_SNAPSHOT_S3_ACCESS_KEY_ID = env.str("WBM_SNAPSHOT_S3_ACCESS_KEY_ID", default="")
WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY = env.str("WBM_SNAPSHOT_S3_SECRET_ACCESS_KEY", default="")

# --- Secrets at rest --------------------------------------------------------------------------
# Fernet keys for API keys and app secrets stored in the database. The first key encrypts; every
# key decrypts, so a key is rotated without downtime: put the new key first, run
# `manage.py rotate_secrets`, then drop the old key. Without the variable, the one key in
# FERNET_KEY_FILE (made by `manage.py init_keys`, see "Keys" above).


def _fernet_keys() -> list[str]:
    keys = env.list("SECRETS_ENCRYPTION_KEYS", default=[])
    if keys:
        return keys
    key = _key_file(FERNET_KEY_FILE)
    if not key and not _MAKING_KEYS:
        raise _missing_key("SECRETS_ENCRYPTION_KEYS", FERNET_KEY_FILE)
    return [key] if key else []


SECRETS_ENCRYPTION_KEYS = _fernet_keys()

# --- The operations engine (sites/tasks.py) ---------------------------------------------------
# How often beat runs the sweeper that submits due operations and polls Wix (seconds).
# How many on-demand backups Wix keeps per site (a new one beyond evicts the oldest); read only by
# sites/rules.py. Wix's number today; a setting so the product follows if Wix changes it.
WBM_ON_DEMAND_SLOTS = env.int("WBM_ON_DEMAND_SLOTS", default=3)
# How long a create whose answer was lost may still turn into a backup at Wix: the engine never
# sends it again, and adopts the first on-demand backup Wix lists as requested since, until then
# (docs/wix-backups-api.md). Wix was seen making one 12 s late; 10 minutes leaves a wide margin.
WBM_CREATE_LANDING_SECONDS = env.int("WBM_CREATE_LANDING_SECONDS", default=600)
WBM_SWEEP_INTERVAL = env.float("WBM_SWEEP_INTERVAL", default=2.0)
# First poll of a submitted operation comes this soon; later polls back off up to the maximum.
WBM_POLL_INTERVAL = env.float("WBM_POLL_INTERVAL", default=2.0)
WBM_POLL_MAX_INTERVAL = env.float("WBM_POLL_MAX_INTERVAL", default=60.0)
# An operation Wix has not finished after this long fails with a message saying so.
WBM_OPERATION_DEADLINE = env.int("WBM_OPERATION_DEADLINE", default=6 * 3600)
# Transient failures to submit are retried this many times (with backoff) before giving up.
WBM_MAX_SUBMIT_ATTEMPTS = env.int("WBM_MAX_SUBMIT_ATTEMPTS", default=12)
# A worker holds an operation this long while it talks to Wix; a crashed worker's claim expires.
WBM_CLAIM_SECONDS = env.int("WBM_CLAIM_SECONDS", default=90)
# A site showing PENDING work that no operation of ours drives (an AUTO backup, a restore
# started in Wix) is refreshed this often until it ends.
WBM_WATCH_INTERVAL = env.float("WBM_WATCH_INTERVAL", default=10.0)
# Every connected site is refreshed this often (spread out), to see AUTO backups and changes.
WBM_SYNC_INTERVAL = env.int("WBM_SYNC_INTERVAL", default=15 * 60)
# How often the beat tick looks for due schedules (seconds).
WBM_SCHEDULE_TICK = env.float("WBM_SCHEDULE_TICK", default=5.0)
# A worker taking a snapshot holds it this long past its last page read (each page renews the
# hold); a crashed worker's snapshot is resumed by another once it expires. Longer than the
# slowest page read with its retries.
WBM_SNAPSHOT_LEASE_SECONDS = env.int("WBM_SNAPSHOT_LEASE_SECONDS", default=300)
# A snapshot failing this many times in a row without reading a page (Wix or the storage down)
# fails for good; any page read starts the count again.
WBM_SNAPSHOT_MAX_ATTEMPTS = env.int("WBM_SNAPSHOT_MAX_ATTEMPTS", default=8)
# Items per bulk save or remove call of a restore from a snapshot (Wix takes at most 1000): a
# checkpoint follows each call. The tests use fewer, to see several calls on a small site.
WBM_RESTORE_BULK_ITEMS = min(max(env.int("WBM_RESTORE_BULK_ITEMS", default=1000), 1), 1000)
# Wix app OAuth credentials (optional): with them, sites can connect by app instance id.
WIX_APP_ID = env.str("WIX_APP_ID", default="")
WIX_APP_SECRET = env.str("WIX_APP_SECRET", default="")
# Timeouts of every call to Wix: (connect, read) seconds.
WIX_TIMEOUT = (
    env.float("WIX_CONNECT_TIMEOUT", default=5.0),
    env.float("WIX_READ_TIMEOUT", default=20.0),
)

# --- Alerts (sites/alerts_models.py, docs/architecture.md) ---------------------------------------
# E-mail goes through Django's backend: SMTP with these settings; `make run` sets EMAIL_BACKEND to
# the product's mailbox (sites/mailbox.py), whose page shows what would have been sent.
# Set but empty counts as unset (compose passes these through empty).
EMAIL_BACKEND = (
    env.str("EMAIL_BACKEND", default="") or "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="") or "localhost"
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = (
    env.str("DEFAULT_FROM_EMAIL", default="") or "Wix Backup Manager <alerts@localhost>"
)
# Webhook URLs resolving to loopback, private, link-local or reserved addresses are refused (no
# request forgery through a channel) unless this is on: for development and tests only.
WBM_WEBHOOK_ALLOW_PRIVATE = env.bool("WBM_WEBHOOK_ALLOW_PRIVATE", default=False)
WBM_WEBHOOK_TIMEOUT = env.float("WBM_WEBHOOK_TIMEOUT", default=10.0)
# How often the beat checks every site for incidents, and hands undelivered alerts to workers.
WBM_ALERT_CHECK_INTERVAL = env.float("WBM_ALERT_CHECK_INTERVAL", default=60.0)
WBM_ALERT_SWEEP_INTERVAL = env.float("WBM_ALERT_SWEEP_INTERVAL", default=5.0)
# A worker sending an alert holds it this long; attempts (backoff up to 5 minutes) before a
# delivery is given up: 288 is about a day of an unreachable mail server or webhook.
WBM_ALERT_CLAIM_SECONDS = env.int("WBM_ALERT_CLAIM_SECONDS", default=60)
WBM_ALERT_MAX_ATTEMPTS = env.int("WBM_ALERT_MAX_ATTEMPTS", default=288)

CELERY_BEAT_SCHEDULE = {
    # One sweep claims every due operation and issues one list call per site (architecture.md).
    "sweep": {"task": "sites.tasks.sweep", "schedule": WBM_SWEEP_INTERVAL},
    # Spreads periodic refreshes of all sites; each site's own next_sync_at decides if it is due.
    "sync-due-sites": {"task": "sites.tasks.sync_due_sites", "schedule": 30.0},
    # Every site's backup and snapshot schedules: one tick claims the due rows
    # (sites/engine/schedules.py), so a schedule runs within this many seconds of its time.
    "schedules": {"task": "sites.tasks.run_due_schedules", "schedule": WBM_SCHEDULE_TICK},
    # Every site's retention rules, also applied after each snapshot; hourly catches rules
    # changed and snapshots aged out of a period (sites/engine/snapshot_prune.py).
    "prune-snapshots": {"task": "sites.tasks.prune_due_snapshots", "schedule": 3600.0},
    # Alerts: one task for every site's stale, unreachable and key incidents, and the outbox's
    # undelivered alerts handed to workers (sites/engine/alert_checks.py, outbox.py).
    "check-incidents": {
        "task": "sites.tasks.check_incidents",
        "schedule": WBM_ALERT_CHECK_INTERVAL,
    },
    "deliver-alerts": {
        "task": "sites.tasks.deliver_due_alerts",
        "schedule": WBM_ALERT_SWEEP_INTERVAL,
    },
}
# Snapshot work (taking, verifying, pruning) runs on a queue of its own, so a snapshot of a large
# site never makes a status poll wait: run a worker for it (`-Q snapshots`, scripts/run and
# docker-compose.yml) or have one worker consume both (`-Q celery,snapshots`, the tests).
CELERY_TASK_ROUTES = {
    name: {"queue": "snapshots"}
    for name in (
        "sites.tasks.snapshot_operation",
        "sites.tasks.prune_snapshots",
        "sites.tasks.prune_due_snapshots",
    )
}
# A task is acknowledged after it ran, so a worker killed mid-task has it redelivered; tasks are
# idempotent (compare-and-swap transitions) so a redelivery is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Celery's Django fixup closes the database connection before and after every task unless this
# is set: every task then opened a new PostgreSQL connection, a third of the worker's CPU per
# backup (bench/scale.py). Set, the fixup closes only every this many tasks, and between tasks
# backupapp/celery.py applies Django's own rules instead (CONN_MAX_AGE, health checks, a broken
# connection closed), as after each web request.
CELERY_DB_REUSE_MAX = 1000
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueuing from a web request must fail fast when Redis is down: the operation row is already
# committed and the sweeper submits it once Redis is back.
# Unacknowledged tasks of a killed worker come back after visibility_timeout; the sweeper does not
# wait for that (expired claims are picked up again), this only bounds duplicates.
# The retry options bound how long publishing blocks a web request while Redis is down (about
# half a second), since the operation row is already safe in the database.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": 600,
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_PUBLISH_RETRY = False
