"""Settings shared by every environment. Every value that varies comes from the environment."""

import base64
import hashlib
import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from config.settings.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_time_zone

BASE_DIR = Path(__file__).resolve().parent.parent.parent
load_dotenv(BASE_DIR / ".env")

INSECURE_DEFAULT_SECRET_KEY = "django-insecure-coveris-local-only-change-me"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "csp",
    "pgtrigger",
    "rangefilter",  # date-range list filters in the admin
    "procrastinate.contrib.django",
    "pghistory",
    "import_export",  # spreadsheet import/export in the admin (apps/api/imports.py)
    # cross-cutting plumbing (management commands, checks)
    "backend",
    # domain
    "apps.users",
    "apps.api",
    "apps.fsm",
    "apps.audit_log",
    "apps.assignments",
    "apps.business_rules",
    "apps.offer",
    "apps.demand",
    "apps.tags",
]

MIDDLEWARE = [
    "backend.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "backend.middleware.StaticFilesMiddleware",  # WhiteNoise, async-capable
    "corsheaders.middleware.CorsMiddleware",
    "backend.middleware.ContentSecurityPolicyMiddleware",  # django-csp, settings policy built once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.middleware.HealthzMiddleware",  # before CommonMiddleware's Host validation
    "backend.middleware.APICommonMiddleware",  # CommonMiddleware without slash-redirects of unsafe /api/ requests
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backend.middleware.HistoryContextMiddleware",  # change-history context: actor, URL, request id
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backend.middleware.APIErrorMiddleware",
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

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL unset: an embedded SQLite file, so a newcomer runs the API with zero set-up.
DATABASE_URL = env_str("DATABASE_URL")


def database_from_url(url: str) -> dict:
    """Parse DATABASE_URL; PostgreSQL gets Django's psycopg pool and CONN_MAX_AGE=0 (ASGI-safe).

    Sizing (docs/stack/deployment.md): instances x WEB_CONCURRENCY x DATABASE_POOL_MAX_SIZE must stay at or below
    PostgreSQL's max_connections minus headroom (migrations, admin sessions, monitoring).
    """
    # CONN_HEALTH_CHECKS: every checkout from the pool is checked, so a connection the server dropped while idle
    # (restart, failover, pg_terminate_backend) is discarded, not handed to a request (backend/pool.py).
    config = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        # libpq's own bound on opening one connection (an unreachable host that drops packets would hang).
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
        # JIT compiles a report's plan in 0.3–0.6 s once its estimated cost passes jit_above_cost (every
        # 10,000-employee aggregate does) to save milliseconds of execution: off for this OLTP API (ADR 0012).
        options.setdefault("options", "-c jit=off")
        if env_bool("DATABASE_POOL", True):
            options["pool"] = {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
                # How long a request waits for a connection before answering 503 (backend/db.py).
                "timeout": env_float("DATABASE_POOL_TIMEOUT", 3.0),
            }
    return config


if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # Under ASGI every request has its own thread and connection. A deferred transaction that reads
            # and then writes cannot upgrade its lock and fails at once ("database is locked"); IMMEDIATE
            # takes the write lock at BEGIN and waits up to ``timeout`` seconds for it. WAL lets reads go on.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# Least privilege (docs/stack/deployment.md): the app connects with DATABASE_URL as a role that may only read and
# append audit rows; migrations run as the tables' owner through the "owner" alias (manage.py migrate --database
# owner, then manage.py grant_app_role --database owner --role <app role>). Same database, another role.
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL")
if DATABASE_URL and DATABASE_OWNER_URL:
    DATABASES["owner"] = {**database_from_url(DATABASE_OWNER_URL), "TEST": {"MIRROR": "default"}}
    DATABASES["owner"].get("OPTIONS", {}).pop("pool", None)  # one-off commands: no pool

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Faults: bounded waits, clean refusals (backend/db.py) ------------------------------------------
# A transaction PostgreSQL aborts with a deadlock or serialization failure runs at most this many times, then 409.
DATABASE_TRANSACTION_ATTEMPTS = 3
# Retry-After (seconds) on a 503 service_unavailable (database unreachable or pool exhausted).
SERVICE_UNAVAILABLE_RETRY_AFTER = env_int("SERVICE_UNAVAILABLE_RETRY_AFTER", 5)
# /readyz waits at most this long (seconds) for a database connection before answering 503.
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 2.0)

# --- Cache: Redis when configured (shared throttle counters across workers), else local memory --
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache with one client per worker (backend/cache.py, ADR 0034).
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "coveris"),
            # One pool per worker, not one connection per request (backend/cache.py, ADR 0031).
            "OPTIONS": {
                "socket_connect_timeout": 2,
                "socket_timeout": 2,
                "pool_class": "backend.cache.SharedConnectionPool",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "coveris"}}

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_ACCESS_LIFETIME_SECONDS = env_int("JWT_ACCESS_LIFETIME_SECONDS", 300)
if not 0 < JWT_ACCESS_LIFETIME_SECONDS <= 300:
    raise ImproperlyConfigured("JWT_ACCESS_LIFETIME_SECONDS must be between 1 and 300 (access tokens live ≤ 5 min)")
JWT_REFRESH_LIFETIME_SECONDS = env_int("JWT_REFRESH_LIFETIME_SECONDS", 7 * 24 * 3600)

# Seconds a cached user snapshot (authentication without a query, apps.users.snapshots) may live. Changes
# invalidate it at once; this only bounds changes the cache could not hear about (Redis down at the time).
AUTH_USER_CACHE_SECONDS = env_int("AUTH_USER_CACHE_SECONDS", 300)
# A refresh token replayed more than this many seconds after it was rotated revokes its whole session
# (RFC 9700 §4.14); a replay within it is a concurrent refresh from another tab and is only refused.
JWT_REFRESH_REUSE_GRACE_SECONDS = env_int("JWT_REFRESH_REUSE_GRACE_SECONDS", 10)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_LIFETIME_SECONDS),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_LIFETIME_SECONDS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer", "JWT"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "CHECK_USER_IS_ACTIVE": True,
}

# Cookie names/domain for the SPA's cookie JWT flow (docs/stack/auth.md).
AUTH_COOKIE_ACCESS = env_str("AUTH_COOKIE_ACCESS", "coveris_access")
AUTH_COOKIE_REFRESH = env_str("AUTH_COOKIE_REFRESH", "coveris_refresh")
AUTH_COOKIE_DOMAIN = env_str("AUTH_COOKIE_DOMAIN") or None
AUTH_COOKIE_SECURE = env_bool("AUTH_COOKIE_SECURE", False)
AUTH_COOKIE_SAMESITE = "Lax"
AUTH_COOKIE_REFRESH_PATH = "/api/auth/"

# Cognito (production authentication); empty means "not configured".
COGNITO_REGION = env_str("COGNITO_REGION")
COGNITO_USER_POOL_ID = env_str("COGNITO_USER_POOL_ID")
COGNITO_APP_CLIENT_ID = env_str("COGNITO_APP_CLIENT_ID")
COGNITO_TOKEN_USE = env_choice("COGNITO_TOKEN_USE", "id", ("id", "access"))
COGNITO_ISSUER = env_str("COGNITO_ISSUER") or (
    f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}"
    if COGNITO_REGION and COGNITO_USER_POOL_ID
    else ""
)
COGNITO_JWKS_URL = env_str("COGNITO_JWKS_URL") or (f"{COGNITO_ISSUER}/.well-known/jwks.json" if COGNITO_ISSUER else "")
COGNITO_JWKS_CACHE_SECONDS = env_int("COGNITO_JWKS_CACHE_SECONDS", 3600)

# --- CSRF / CORS / CSP -------------------------------------------------------------------------
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_COOKIE_NAME = "csrftoken"
CSRF_HEADER_NAME = "HTTP_X_CSRFTOKEN"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_DOMAIN = env_str("CSRF_COOKIE_DOMAIN") or None
CSRF_FAILURE_VIEW = "backend.views.csrf_failure"

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/(api/.*|healthz|readyz)$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "origin",
    "user-agent",
    "x-change-reason",  # why a write is made (backend.audit.context)
    "x-csrftoken",
    "x-request-id",
    "x-requested-with",
)
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "X-Count-Estimated"]


def _csp_hashes(*texts: str) -> list[str]:
    return [f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" for text in texts]


# No inline code, except (ADR 0030; the browser tests fail on any refusal a page logs, docs/testing.md):
# - a <script>/<style> carrying this response's nonce (django-csp adds it to the header when a template reads
#   request.csp_nonce: the admin's date-range filters do);
# - the exact inline attributes django-import-export's pages carry ('unsafe-hashes' with their hashes): the import
#   preview's colours of new and removed values, and the export page's "Select all" box. Any other text is refused.
CSP_ATTRIBUTE_SCRIPTS = ("onSelectToggleChange(event)",)
CSP_ATTRIBUTE_STYLES = ("background:#e6ffe6;", "background:#ffe6e6;", "padding: 0;", "font-weight: bold;")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE, "'unsafe-hashes'", *_csp_hashes(*CSP_ATTRIBUTE_SCRIPTS)],
        "style-src": ["'self'", NONCE, "'unsafe-hashes'", *_csp_hashes(*CSP_ATTRIBUTE_STYLES)],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- I18N / static ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# Django's own zone stays UTC: the API answers datetimes in UTC with their offset, and the database session
# runs in UTC. The organisation's day (what "today" is, the clock-in day, the default effective date) is
# COVERIS_TIME_ZONE, overridable per org unit; see backend/timezones.py and docs/time-zones.md.
TIME_ZONE = "UTC"
COVERIS_TIME_ZONE = env_time_zone("COVERIS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Auto-plan and the job queue (docs/planning.md) --------------------------------------------
# How plan solving runs: "queue" (procrastinate on PostgreSQL; a worker runs `manage.py procrastinate worker`),
# "thread" (in the web process, for local use with nothing else running), "inline" (during the request: tests).
# "auto": queue on PostgreSQL, thread on SQLite.
COVERIS_JOBS = env_choice("COVERIS_JOBS", "auto", ("auto", "queue", "thread", "inline"))
COVERIS_PLAN_TIME_LIMIT = env_int("COVERIS_PLAN_TIME_LIMIT", 10)
COVERIS_PLAN_HEARTBEAT_SECONDS = env_int("COVERIS_PLAN_HEARTBEAT_SECONDS", 5)
COVERIS_PLAN_STALE_SECONDS = env_int("COVERIS_PLAN_STALE_SECONDS", 60)
# When the workers run the full audit-chain walk (cron, UTC; apps/audit_log/tasks.py): nightly at 02:30.
COVERIS_AUDIT_VERIFY_CRON = env_str("COVERIS_AUDIT_VERIFY_CRON", "30 2 * * *")
# Spreadsheet imports with more data rows than this run as import jobs on the same queue (apps/api/jobs.py).
COVERIS_IMPORT_QUEUE_ROWS = env_int("COVERIS_IMPORT_QUEUE_ROWS", 500)
DATABASE_ROUTERS = ["backend.db_routers.PostgresOnlyAppsRouter"]
# procrastinate finds the tasks in each app's tasks.py; jobs are kept a while for the admin, then deleted.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"

# --- DRF -----------------------------------------------------------------------------------------
COVERIS_PAGE_SIZE = env_int("COVERIS_PAGE_SIZE", 25)
COVERIS_MAX_PAGE_SIZE = 100
# Lists count exactly up to this many rows; above it the count is the planner's estimate (backend/pagination.py).
COVERIS_EXACT_COUNT_LIMIT = 10_000
# A list's count and page statements compiled once per query state, not per request (backend/statements.py,
# ADR 0039); off only to measure what it saves.
COVERIS_STATEMENT_CACHE = True

# Networks (CIDRs) of the reverse proxies in front of the app. Only a request whose socket peer is in one
# of them has its X-Forwarded-For read (right to left, skipping these networks); anyone else is the client.
# Default none: the socket peer is the client. App Runner: docs/stack/deployment.md.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _cidr in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES must be comma-separated CIDRs, got {_cidr!r}") from _exc

# Failed sign-ins on one email, from all clients together, before each further failure locks it for an
# exponentially growing time (1 min, 2, 4 … 1 h). Far above typing mistakes: see backend/signin.py, ADR 0021.
SIGNIN_EMAIL_FAILURE_CEILING = env_int("SIGNIN_EMAIL_FAILURE_CEILING", 50)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["backend.renderers.JSONRenderer"],  # DRF's bytes, through orjson (ADR 0031)
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # DRF's negotiation, its answer kept per Accept header, format and renderers (ADR 0051)
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backend.negotiation.CachedContentNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": ["backend.authentication.CookieJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["backend.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "backend.pagination.CoverisPagination",
    "PAGE_SIZE": COVERIS_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "backend.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "backend.throttles.CoverisAnonRateThrottle",
        "backend.throttles.CoverisUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_RATE_ANON", "100/hour"),
        "user": env_str("THROTTLE_RATE_USER", "1000/hour"),
        "login": env_str("THROTTLE_RATE_LOGIN", "5/hour"),
        "login_client": env_str("THROTTLE_RATE_LOGIN_CLIENT", "20/hour"),
        "token_refresh": env_str("THROTTLE_RATE_TOKEN_REFRESH", "20/hour"),
        "logout": env_str("THROTTLE_RATE_LOGOUT", "20/hour"),
        "audit_verify": env_str("THROTTLE_RATE_AUDIT_VERIFY", "60/hour"),
        "schema": env_str("THROTTLE_RATE_SCHEMA", "300/hour"),
    },
    "EXCEPTION_HANDLER": "backend.exceptions.coveris_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "backend.schema.CoverisAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Coveris API",
    "DESCRIPTION": "Workforce coverage: positions, employees, assignments, rules, hours ledger, audit trail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema is public: a stale cookie or token must not turn it into a 401.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVERS": [{"url": "/", "description": "The origin that serves this document"}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.postprocess_lint_fixes",
    ],
    # Two choice sets share the field name "status": name each enum after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "CoverageStatusEnum": "apps.demand.choices.CoverageStatus",
        "PlanStatusEnum": "apps.demand.choices.PlanStatus",
    },
}

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))  # "json" in production

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.logging.RequestIDFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# django-pghistory (the change history, apps/audit_log/models.py): an event's time is the moment of the change
# (clock_timestamp()), not its transaction's start, so changes made in one transaction keep their order in time.
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"
# The request context (actor, URL, request id) is attached to write requests only. pghistory's default includes GET,
# which prefixes every query of every read with a set_config() call for triggers that reads never fire (ADR 0025).
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Signed audit digests (backend/audit/checkpoints.py): "id:secret[,id:secret...]", the first signs, all verify.
AUDIT_DIGEST_KEYS = env_str("AUDIT_DIGEST_KEYS", "")
# The most rows of one table a verify request walks (the rest waits for the next checkpoint or the command).
AUDIT_VERIFY_MAX_ROWS = env_int("AUDIT_VERIFY_MAX_ROWS", 100_000)
