"""Settings for sleekbatch, read from the environment.

With nothing set this is the *embedded default*: SQLite under ``var/`` and a
filesystem kombu transport, so a fresh clone runs without any server. With
``DATABASE_URL`` (postgres) and ``CELERY_BROKER_URL`` / ``REDIS_URL`` set it is
the *production profile*.
"""

import base64
import binascii
import copy
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# A relative SLEEKBATCH_VAR_DIR (var/demo) is taken from the repository root and made absolute,
# so every process agrees on it and the file cache gets the absolute path it needs (caches.W003).
VAR_DIR = (BASE_DIR / os.environ.get("SLEEKBATCH_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The embedded default (no DATABASE_URL: `make demo`, `make up` on a fresh clone) may run on
# the repository's key; anything else must bring its own (see secret_key_problem below).
EMBEDDED_PROFILE = not os.environ.get("DATABASE_URL")
EMBEDDED_SECRET_KEY = "insecure-embedded-default-key-change-me-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or EMBEDDED_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    "django_celery_beat",
    "sleekbatch",
    "suppliers",
    "orders",
    "batches",
    "analytics",
]

MIDDLEWARE = [
    "sleekbatch.middleware.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "sleekbatch.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The business events' covering index (INCLUDE quantity) is index-only on PostgreSQL and a
# plain index on SQLite; Django warns of the latter on every command.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

ROOT_URLCONF = "sleekbatch.urls"
WSGI_APPLICATION = "sleekbatch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sleekbatch" / "templates"],
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

# --- Database -----------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL)
    except Exception as exc:  # dj_database_url raises bare ValueErrors/KeyErrors
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "sleekbatch.sqlite3")}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets the web process read while a worker writes; IMMEDIATE takes the
        # write lock at BEGIN so two writers queue on busy_timeout instead of
        # failing with "database is locked" when a read transaction upgrades.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-sleekbatch.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Web processes use Django's psycopg pool; Celery workers switch to one
    # persistent connection per child at start (see sleekbatch/celery.py).
    if env_bool("SLEEKBATCH_DB_POOL", True):
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 8, "timeout": 5}}
    else:
        _db["CONN_MAX_AGE"] = None
        _db["CONN_HEALTH_CHECKS"] = True
    _test_suffix = os.environ.get("SLEEKBATCH_TEST_DB_SUFFIX", "")
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}{_test_suffix}"}
else:
    raise ImproperlyConfigured(f"DATABASE_URL: unsupported engine {_db['ENGINE']!r} (use postgres:// or sqlite://)")

DATABASES = {"default": _db}

# --- Secret key: refuse to start on a key anyone can read ---------------------------

# Django's own bar (check --deploy W009): 50 characters, 5 distinct ones, not "django-insecure-".
SECRET_KEY_MIN_LENGTH = 50
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "insecure", "placeholder", "example", "secret-key")


def secret_key_problem(key: str | None) -> str | None:
    """Why a key must not sign production sessions, or None when it may."""
    if not key:
        return "SECRET_KEY is not set"
    lowered = key.lower()
    if key == EMBEDDED_SECRET_KEY or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "SECRET_KEY is a placeholder"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        return f"SECRET_KEY is too short (at least {SECRET_KEY_MIN_LENGTH} characters, 5 distinct)"
    return None


if not DEBUG and not EMBEDDED_PROFILE:
    _key_problem = secret_key_problem(os.environ.get("SECRET_KEY"))
    if _key_problem:
        raise ImproperlyConfigured(
            f"{_key_problem}: outside DEBUG and the embedded default, set SECRET_KEY to a random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

# --- Field encryption at rest (sleekbatch/encryption.py) ------------------------------

# Fernet keys, newest first: the first encrypts, every one decrypts (rotation: put a new key in
# front, run `manage.py rotate_field_keys`, then drop the old one). The embedded and DEBUG
# profiles derive a dev key from SECRET_KEY; production refuses to start without its own.
FIELD_ENCRYPTION_KEYS = env_list("SLEEKBATCH_FIELD_KEYS", "")
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG and not EMBEDDED_PROFILE:
        raise ImproperlyConfigured(
            "SLEEKBATCH_FIELD_KEYS is not set: outside DEBUG and the embedded default, give the key(s) that "
            "encrypt supplier bank and contact data, newest first, e.g. python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'"
        )
    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"sleekbatch dev field key:{SECRET_KEY}".encode()).digest()).decode()
    ]


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError):
        return False


for _position, _field_key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    if not _is_fernet_key(_field_key):
        raise ImproperlyConfigured(
            f"SLEEKBATCH_FIELD_KEYS: key {_position} is not a Fernet key (32 url-safe base64 bytes, "
            "as Fernet.generate_key() prints)"
        )

# A read replica of the same database: report queries and other heavy reads go there
# (sleekbatch/db.py). Tests treat it as a mirror of "default".
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    try:
        _replica = dj_database_url.parse(DATABASE_REPLICA_URL)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a valid database URL: {exc}") from exc
    if _replica["ENGINE"] != _db["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the same database engine as DATABASE_URL")
    for _key in ("OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        if _key in _db:
            _replica[_key] = copy.deepcopy(_db[_key])
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["sleekbatch.db.ReadReplicaRouter"]
IS_POSTGRES = _db["ENGINE"] == "django.db.backends.postgresql"

# `make bench` measures the API against a bare view that INSERTs orders for a fixed buyer
# without authentication (bench/ceiling.py). It is mounted only with this flag, and only
# on a bench database (the bench refuses any other, too): never in production.
BENCH_VIEWS = env_bool("SLEEKBATCH_BENCH_VIEWS", False)
if BENCH_VIEWS and "bench" not in Path(str(_db["NAME"])).name:
    raise ImproperlyConfigured("SLEEKBATCH_BENCH_VIEWS mounts unauthenticated bench views: only on a *bench* database")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # File-based so that the web process, workers and beat share one cache
    # (throttle counters, the pooling trigger) without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or (REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The filesystem transport polls its folder; the default 1 s would add
        # up to a second of latency to every hop of the embedded demo.
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
    for _folder in (_broker_dir / "out", _broker_dir / "processed", _broker_dir / "control"):
        _folder.mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # How long a message taken by a worker that died stays invisible (Redis broker) before
        # it is delivered again. It must exceed the longest task time limit plus the longest
        # retry countdown (a worker holds a retried task until its countdown ends), or Redis
        # redelivers a task that is still running; beyond that it only delays redelivery.
        # Pooling does not wait for it: the workers' watchdog re-requests a drain (docs/reliability.md).
        "visibility_timeout": 600,
    }
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(hours=1)
# Nothing reads task results: work is recorded on its rows and as JobRun. Storing them cost
# a write per task, and a failed write turned a drain that had pooled its orders into a
# failed job. A caller that wants one asks (apply_async(ignore_result=False)) and needs
# CELERY_RESULT_BACKEND set (the integration tests do).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Tasks here hold DB locks for short, bounded slices; prefetching more than one
# would let a busy child sit on messages another child could run now.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY", 2))
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_DEFAULT_QUEUE = "orders"
CELERY_WORKER_SEND_TASK_EVENTS = True  # Flower
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker connection dropped tries again every second (Celery's default waits
# 2, 4, 6 … s, which delayed pooling 8 s after a 20 s Redis outage); see sleekbatch/celery.py.
CELERY_WORKER_CONSUMER = "sleekbatch.celery:PromptReconnectConsumer"
BROKER_RECONNECT_INTERVAL_SECONDS = 1.0
# Transient errors (database, broker, network) retry until this long after the first try,
# waiting a random time between the floor and min(cap, base × 2^retries) before each try:
# longer than a database restart or a broker failover, shorter than a human would wait.
TASK_RETRY_BUDGET_SECONDS = int(os.environ.get("SLEEKBATCH_TASK_RETRY_BUDGET_SECONDS", 180))
TASK_RETRY_BASE_SECONDS = 1.0
TASK_RETRY_FLOOR_SECONDS = 0.5
TASK_RETRY_MAX_SECONDS = 30.0
# Every worker runs its watchdog checks (sleekbatch/watchdog.py) this often, beside its tasks:
# the pooling check is one indexed query, so a short period costs little and bounds how
# long an order waits after a lost or stranded pooling message.
WORKER_WATCHDOG_INTERVAL_SECONDS = float(os.environ.get("SLEEKBATCH_WORKER_WATCHDOG_INTERVAL_SECONDS", 2))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers log through Django's LOGGING (JSON lines with correlation ids).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery would log each write to stdout as a separate WARNING record (a traceback
# becomes dozens of JSON lines); output that is not logging stays plain output.
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

TASK_QUEUES = ("orders", "orchestration", "analytics", "reports")
# Routes by task-name prefix; task names are stable strings ("orders.…").
CELERY_TASK_ROUTES = {
    "orders.*": {"queue": "orders"},
    "batches.*": {"queue": "orchestration"},
    "suppliers.*": {"queue": "analytics"},  # scorecards and supplier alerts
    "analytics.*": {"queue": "analytics"},
    "reports.*": {"queue": "reports"},
}

# --- Domain tuning --------------------------------------------------------------

# How long a batch collects orders before the sweep decides on it. Shorter means
# faster delivery; longer means fuller batches and fewer cancellations.
BATCH_WINDOW = timedelta(seconds=int(os.environ.get("SLEEKBATCH_BATCH_WINDOW_SECONDS", 72 * 3600)))
# Decision thresholds, in percent of the target quantity (inclusive lower bounds).
BATCH_CONFIRM_FILL_PERCENT = int(os.environ.get("SLEEKBATCH_CONFIRM_FILL_PERCENT", 75))
BATCH_REVIEW_FILL_PERCENT = int(os.environ.get("SLEEKBATCH_REVIEW_FILL_PERCENT", 50))
BATCH_NEARING_FILL_PERCENT = int(os.environ.get("SLEEKBATCH_NEARING_FILL_PERCENT", 60))
# Largest single order accepted; keeps one buyer from swamping a supplier run.
ORDER_MAX_QUANTITY = int(os.environ.get("SLEEKBATCH_ORDER_MAX_QUANTITY", 10_000))
ORDER_BULK_MAX = 1000
# Retry-After of the 503 that order intake answers while the database is down: about a
# database restart, so a client's first retry is likely to succeed.
DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5
# Buyer margin over the supplier's tier price and the surcharge per extra style.
PRICING_MARGIN = os.environ.get("SLEEKBATCH_PRICING_MARGIN", "0.15")
PRICING_STYLE_SURCHARGE = os.environ.get("SLEEKBATCH_PRICING_STYLE_SURCHARGE", "0.50")

# --- Analytics ---------------------------------------------------------------------

# Business events (sleekbatch.BusinessEvent) written beside pooling and the batch transitions.
# Off only to measure what they cost (the bench's pool phase runs both ways).
BUSINESS_EVENTS = env_bool("SLEEKBATCH_BUSINESS_EVENTS", True)

# Job runs older than this are deleted by the daily analytics.prune_job_runs: job metrics
# look back at most this far, and a busy month is a few million rows.
JOB_RUN_RETENTION = timedelta(days=int(os.environ.get("SLEEKBATCH_JOB_RUN_RETENTION_DAYS", 30)))
# Rows per delete transaction: ~50 ms each on PostgreSQL, short enough not to hold up workers.
JOB_RUN_PRUNE_CHUNK = 10_000
# The widest window GET /api/metrics/jobs/ answers for (it reads every run in it).
JOB_METRICS_MAX_WINDOW = timedelta(days=31)
# Daily rollups count days in this zone (an IANA name).
ANALYTICS_TIME_ZONE = os.environ.get("SLEEKBATCH_ANALYTICS_TIME_ZONE", "UTC")
# Days per rollup statement (and transaction): four days of 170,000 orders a day take ~1 s on
# PostgreSQL; fewer days per chunk means shorter transactions and more progress lines.
ROLLUP_CHUNK_DAYS = 4
# Chunks rolled up side by side on PostgreSQL, each on its own connection: one per core of the
# database host (an INSERT … SELECT runs on one core).
ROLLUP_PARALLEL_CHUNKS = int(os.environ.get("SLEEKBATCH_ROLLUP_PARALLEL_CHUNKS", 2))
# The incremental rollup also re-reads events recorded this long before its previous run
# started: longer than any transaction that writes events stays open (task time limit).
ROLLUP_RECORDED_LAG = timedelta(minutes=10)
# GET /metrics: a scraper sends "Authorization: Bearer <this>" (ops tokens work too).
METRICS_SCRAPE_TOKEN = os.environ.get("SLEEKBATCH_METRICS_TOKEN", "")
# Order and batch counts are shared through the cache this long: counting millions of
# orders by status takes ~0.5 s, too much for every scrape of every Prometheus replica.
METRICS_DATABASE_CACHE_SECONDS = 15
# A worker is up while its last heartbeat (every 2 s) is younger than this.
METRICS_WORKER_UP_SECONDS = 60
# The widest range GET /api/analytics/daily/ answers for.
ANALYTICS_DAILY_MAX_DAYS = 366

# --- Suppliers: delivery checks, the scorecard, alerts, matching ------------------------

# A delivery whose units differ from the ordered quantity by more than this is refused as a
# typo (a 400): wide enough for the usual over/under-run of a production lot, narrow enough to
# catch an extra digit.
SUPPLIER_DELIVERY_TOLERANCE_PERCENT = int(os.environ.get("SLEEKBATCH_SUPPLIER_DELIVERY_TOLERANCE_PERCENT", 20))
# The scorecard covers the supplier orders delivered in the last N days: longer is steadier,
# shorter reacts faster to a supplier that got better or worse.
SUPPLIER_SCORE_WINDOW_DAYS = int(os.environ.get("SLEEKBATCH_SUPPLIER_SCORE_WINDOW_DAYS", 90))
# Memory PostgreSQL may use to sort the window's acknowledgement times in the nightly scoring run
# (SET LOCAL, that transaction only): 2,000,000 of them sort in memory within 64 MB; below that
# the sort spills to disk and takes several times as long.
SUPPLIER_SCORING_WORK_MEM_MB = int(os.environ.get("SLEEKBATCH_SUPPLIER_SCORING_WORK_MEM_MB", 64))
# Below this many deliveries in the window a supplier is "new": no score rather than a guess.
SUPPLIER_SCORE_MIN_DELIVERIES = int(os.environ.get("SLEEKBATCH_SUPPLIER_SCORE_MIN_DELIVERIES", 3))
# A delivery up to this many days after the promised date still counts as on time.
SUPPLIER_ON_TIME_GRACE_DAYS = int(os.environ.get("SLEEKBATCH_SUPPLIER_ON_TIME_GRACE_DAYS", 1))
# Weights of the score's parts (any non-negative numbers; the score divides by their sum).
SUPPLIER_SCORE_WEIGHTS = {
    "on_time": float(os.environ.get("SLEEKBATCH_SUPPLIER_WEIGHT_ON_TIME", 40)),
    "quality": float(os.environ.get("SLEEKBATCH_SUPPLIER_WEIGHT_QUALITY", 30)),
    "fill": float(os.environ.get("SLEEKBATCH_SUPPLIER_WEIGHT_FILL", 20)),
    "responsiveness": float(os.environ.get("SLEEKBATCH_SUPPLIER_WEIGHT_RESPONSIVENESS", 10)),
}
# Quality part: 1 at 0 defects, falling linearly to 0 at this many defective parts per million.
SUPPLIER_DEFECT_PPM_ZERO_QUALITY = int(os.environ.get("SLEEKBATCH_SUPPLIER_DEFECT_PPM_ZERO_QUALITY", 50_000))
# Responsiveness part: 1 when the median acknowledgement takes up to the first figure (hours),
# falling linearly to 0 at the second.
SUPPLIER_ACKNOWLEDGE_HOURS_TARGET = float(os.environ.get("SLEEKBATCH_SUPPLIER_ACKNOWLEDGE_HOURS_TARGET", 24))
SUPPLIER_ACKNOWLEDGE_HOURS_LIMIT = float(os.environ.get("SLEEKBATCH_SUPPLIER_ACKNOWLEDGE_HOURS_LIMIT", 168))
# Alerts: on-time rate under / defect ppm over these (besides any drop of standing).
SUPPLIER_ALERT_ON_TIME_BELOW = float(os.environ.get("SLEEKBATCH_SUPPLIER_ALERT_ON_TIME_BELOW", 0.80))
SUPPLIER_ALERT_DEFECT_PPM_ABOVE = int(os.environ.get("SLEEKBATCH_SUPPLIER_ALERT_DEFECT_PPM_ABOVE", 20_000))
# Matching: among offers priced within this percentage of the cheapest, the better score wins.
SUPPLIER_MATCH_PRICE_BAND_PERCENT = float(os.environ.get("SLEEKBATCH_SUPPLIER_MATCH_PRICE_BAND_PERCENT", 2))
# The score a new supplier (too few deliveries to be scored) is ranked at in that band: neutral,
# so a newcomer is neither favoured over a proven supplier nor shut out by one in "watch".
SUPPLIER_MATCH_NEW_SUPPLIER_SCORE = float(os.environ.get("SLEEKBATCH_SUPPLIER_MATCH_NEW_SUPPLIER_SCORE", 50))

# --- Reports ------------------------------------------------------------------------

# Generated report files live in Django's default storage (MEDIA_ROOT on the filesystem by
# default; point STORAGES at object storage in a multi-host deployment).
MEDIA_ROOT = Path(os.environ.get("SLEEKBATCH_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# Widest date range one report may cover: a longer one is a 400, so nobody queues a
# multi-year scan by mistake.
REPORT_MAX_RANGE_DAYS = int(os.environ.get("SLEEKBATCH_REPORT_MAX_RANGE_DAYS", 366))
# A PDF of more rows than this is refused with a pointer to XLSX: ~40 rows a page, so the
# default is ~500 pages, past which nobody reads a PDF and its build time stops being small.
REPORT_PDF_MAX_ROWS = int(os.environ.get("SLEEKBATCH_REPORT_PDF_MAX_ROWS", 20_000))
# Rows fetched per round trip from the server-side cursor: larger is fewer round trips,
# smaller keeps the worker's memory flat (2,000 rows of 13 columns is well under 2 MB).
REPORT_CHUNK_ROWS = int(os.environ.get("SLEEKBATCH_REPORT_CHUNK_ROWS", 2000))
# How often a running report stores its progress: each store is one UPDATE.
REPORT_PROGRESS_EVERY_ROWS = int(os.environ.get("SLEEKBATCH_REPORT_PROGRESS_EVERY_ROWS", 20_000))
# Files are deleted this long after they were produced (the row stays, marked expired).
REPORT_RETENTION_DAYS = int(os.environ.get("SLEEKBATCH_REPORT_RETENTION_DAYS", 30))
# An emailed report larger than this goes as a signed download link instead of an attachment.
REPORT_EMAIL_MAX_ATTACHMENT_BYTES = int(
    os.environ.get("SLEEKBATCH_REPORT_EMAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
)
# How long such a link works.
REPORT_LINK_MAX_AGE_SECONDS = int(os.environ.get("SLEEKBATCH_REPORT_LINK_MAX_AGE_SECONDS", 7 * 24 * 3600))
# Where links in emails point (the address people reach the web process at).
PUBLIC_BASE_URL = os.environ.get("SLEEKBATCH_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Report generation may run longer than the default task limits (a year of orders).
REPORT_TASK_SOFT_TIME_LIMIT = int(os.environ.get("SLEEKBATCH_REPORT_TASK_SOFT_TIME_LIMIT", 1800))
# A TrueType font with wide Unicode coverage for PDFs (buyer and supplier names are not ASCII);
# ReportLab's bundled Vera (Latin only) is the fallback when it is missing.
REPORT_PDF_FONT = os.environ.get(
    "SLEEKBATCH_REPORT_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"
)

# --- Mail: failed jobs notify ADMINS ("Name <addr>,Name <addr>") -------------------------

ADMINS = [tuple(item.rsplit(" ", 1)) for item in env_list("ADMINS", "Operations ops@localhost")]
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", "sleekbatch@localhost")
# Django's error mail (a 500, a failing management command): secrets redacted, and
# one mail per distinct error per ERROR_MAIL_REPEAT_SECONDS, at most
# ERROR_MAIL_MAX_PER_HOUR in all (sleekbatch/error_reports.py). Longer or fewer
# means a quieter inbox and a later word about a second, different error.
DEFAULT_EXCEPTION_REPORTER = "sleekbatch.error_reports.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "sleekbatch.error_reports.RedactingExceptionReporterFilter"
ERROR_MAIL_REPEAT_SECONDS = int(os.environ.get("SLEEKBATCH_ERROR_MAIL_REPEAT_SECONDS", 600))
ERROR_MAIL_MAX_PER_HOUR = int(os.environ.get("SLEEKBATCH_ERROR_MAIL_MAX_PER_HOUR", 20))
# Largest request body (Django's default, named): a bulk of 1,000 orders is ~200 KB. Larger is a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# At most one failed-job mail per task name in this many seconds; the next one carries the
# count held back. Shorter tells staff sooner that a job still fails; longer means fewer mails.
JOB_FAILURE_MAIL_INTERVAL_SECONDS = int(os.environ.get("SLEEKBATCH_JOB_FAILURE_MAIL_INTERVAL_SECONDS", 600))

# --- HTTPS and browser protections (manage.py check --deploy passes with these) ----------

# On by default outside DEBUG in the production profile, which runs behind a TLS-terminating
# proxy that sets X-Forwarded-Proto. SLEEKBATCH_HTTPS=0 serves that profile over plain HTTP
# on one's own machine (the tests and the bench do; so does a local `docker compose up`).
HTTPS = env_bool("SLEEKBATCH_HTTPS", not EMBEDDED_PROFILE and not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    # Trusted only because gunicorn is reachable through the proxy alone, which sets the header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes come from inside the network, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    # A year, subdomains too, preload-ready. Lower SLEEKBATCH_HSTS_SECONDS while first trying HTTPS:
    # browsers remember the value and refuse plain HTTP for that long.
    SECURE_HSTS_SECONDS = int(os.environ.get("SLEEKBATCH_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# HTML pages only (sleekbatch.middleware.ContentSecurityPolicyMiddleware). Inline styles stay
# allowed (the admin and the dashboard's SVG use style attributes); inline scripts do not.
CONTENT_SECURITY_POLICY = os.environ.get(
    "SLEEKBATCH_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

# --- Admin login lockout (sleekbatch/login_guard.py) ---------------------------------

# Wrong passwords allowed per username / per client address in a window before the rest
# of the window is locked. Lower stops guessing sooner; higher spares a user who mistypes.
LOGIN_FAILURE_LIMIT_PER_USERNAME = int(os.environ.get("SLEEKBATCH_LOGIN_FAILURES_PER_USERNAME", 5))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("SLEEKBATCH_LOGIN_FAILURES_PER_ADDRESS", 20))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("SLEEKBATCH_LOGIN_LOCKOUT_SECONDS", 900))

# --- REST framework ---------------------------------------------------------------

REST_FRAMEWORK = {
    # DRF's token authentication with the user's roles read in the same query and remembered
    # briefly per process (see that module for how revocations take effect).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sleekbatch.authentication.TokenWithRolesAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only; duplicate keys, NUL, lone surrogates and deep nesting are a 400 (sleekbatch/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["sleekbatch.parsers.StrictJSONParser"],
    # DRF's negotiation, with JSON chosen at once for a client that asks for nothing else.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "sleekbatch.negotiation.JSONFirstContentNegotiation",
    "EXCEPTION_HANDLER": "sleekbatch.api_errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "sleekbatch.api_docs.SleekbatchAutoSchema",
    # Per user on the shared cache (sleekbatch/throttling.py); 429 with Retry-After beyond a rate.
    # "user"/"anon" count every request; a view's scope counts as well. Higher rates let one
    # client take more of the web tier; lower ones slow down a legitimate integration.
    "DEFAULT_THROTTLE_CLASSES": ["sleekbatch.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("SLEEKBATCH_THROTTLE_USER", "1200/min"),
        "anon": os.environ.get("SLEEKBATCH_THROTTLE_ANON", "60/min"),
        # POST /api/orders/: 10 orders a second, sustained, per buyer.
        "orders_submit": os.environ.get("SLEEKBATCH_THROTTLE_ORDERS_SUBMIT", "600/min"),
        # POST /api/orders/bulk/: up to 1,000 orders each.
        "orders_bulk": os.environ.get("SLEEKBATCH_THROTTLE_ORDERS_BULK", "30/min"),
        # POST /api/batches/{id}/approve|cancel|extend/: a person deciding, or a script gone wrong.
        "review_decisions": os.environ.get("SLEEKBATCH_THROTTLE_REVIEW_DECISIONS", "60/min"),
        # Report requests (each a background job): views set throttle_scope = "reports".
        "reports": os.environ.get("SLEEKBATCH_THROTTLE_REPORTS", "30/hour"),
    },
    # Client addresses for the anonymous rate: REMOTE_ADDR, or the address this many proxies
    # back in X-Forwarded-For (never the header as sent, which a client could vary at will).
    "NUM_PROXIES": int(os.environ.get("SLEEKBATCH_NUM_PROXIES", 0)),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "sleekbatch API",
    "DESCRIPTION": (
        "Buyers submit orders and follow them and their batches; operations staff decide the review queue. "
        "Authenticate with `Authorization: Token …` (`manage.py create_api_user NAME --role buyer` prints one), "
        "or log in at /api-auth/login/ to use the browsable API."
    ),
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Operations are documented with their real error bodies (sleekbatch/api_docs.py).
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- i18n, static -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve admin assets straight from the apps: `make up` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "/admin/login/"
# Where the landing page sends operations staff for Flower (its own basic-auth login).
FLOWER_URL = os.environ.get("FLOWER_URL", "http://127.0.0.1:5555/")

# --- Logging: JSON lines with the correlation id --------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "correlation": {"()": "sleekbatch.logging.CorrelationIdFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"json": {"()": "sleekbatch.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["correlation"]},
        "mail_admins": {
            "level": "ERROR",
            "class": "sleekbatch.error_reports.RateLimitedAdminEmailHandler",
            "filters": ["require_debug_false"],
        },
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default "django" logger (console under DEBUG + unlimited mail):
        # its records reach the JSON console through the root, and mail is rate-limited.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        # A foreign Host header is a client's mistake or a scanner, not an error to mail (or log) each time.
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
        # gunicorn: one JSON line per record (sleekbatch/gunicorn_conf.py points its loggers here).
        "gunicorn.error": {"level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        # The pool logs every failed reconnect; the failure itself surfaces once.
        "psycopg.pool": {"level": "ERROR"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Buyer notifications ---------------------------------------------------------------

# Emails sent per mailer transaction and mail connection: larger chunks mean fewer round trips
# to the mail server, smaller ones less to send again after a crash mid-chunk.
NOTIFICATION_EMAIL_CHUNK = int(os.environ.get("SLEEKBATCH_NOTIFICATION_EMAIL_CHUNK", 100))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sleekbatch <orders@localhost>")
