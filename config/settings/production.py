"""Production (AWS App Runner): DEBUG off, PostgreSQL required, secure cookies, JSON logs, Cognito.

Refuses to start (ImproperlyConfigured naming the variable) when an essential is missing, so a
misconfigured deployment fails its health check instead of serving with unsafe defaults.
"""

import warnings

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    DATABASE_URL,
    DATABASES,
    INSECURE_DEFAULT_SECRET_KEY,
    LOGGING,
    REST_FRAMEWORK,
    SECRET_KEY,
)
from config.settings.env import env_bool, env_choice, env_int, env_list, env_str

DEBUG = False

MIN_SECRET_LENGTH = 50


def _require(name: str, ok: bool, why: str) -> None:
    if not ok:
        raise ImproperlyConfigured(f"{name} is required in production: {why}")


def _is_strong_secret(value: str) -> bool:
    """Django's own bar for check --deploy (security.W009): long, varied, not a generated insecure key."""
    return (
        len(value) >= MIN_SECRET_LENGTH
        and len(set(value)) >= 5
        and value != INSECURE_DEFAULT_SECRET_KEY
        and not value.startswith("django-insecure")
    )


# --- Essentials: no defaults in production ------------------------------------------------------
_require("DATABASE_URL", bool(DATABASE_URL), "set it to the PostgreSQL URL (postgres://user:pass@host:5432/db)")
# The audit trail's append-only guarantee lives in PostgreSQL triggers; SQLite would silently drop it.
_require(
    "DATABASE_URL",
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
    "it must point at PostgreSQL (postgres://...), not another database engine",
)
# Log tables accept TRUNCATE only in databases named test_* (the test runner's); production never is one.
_require(
    "DATABASE_URL",
    not str(DATABASES["default"].get("NAME", "")).startswith("test_"),
    "the database name must not start with test_ (reserved for test databases, where log tables may be truncated)",
)
_require(
    "DJANGO_SECRET_KEY",
    _is_strong_secret(SECRET_KEY),
    f"set a random value of at least {MIN_SECRET_LENGTH} characters (not the local default)",
)
# JWT_SIGNING_KEY is optional (it falls back to DJANGO_SECRET_KEY); when set it signs every HS256 token.
_JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY")
_require(
    "JWT_SIGNING_KEY",
    not _JWT_SIGNING_KEY or _is_strong_secret(_JWT_SIGNING_KEY),
    f"when set it must be a random value of at least {MIN_SECRET_LENGTH} characters (or leave it unset)",
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
_require("DJANGO_ALLOWED_HOSTS", bool(ALLOWED_HOSTS), "a comma-separated list of the hosts that serve the API")

# --- HTTPS everywhere; App Runner terminates TLS and forwards the scheme ---------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Health checks arrive over plain HTTP from inside the platform: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
AUTH_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Logs: one JSON object per line (CloudWatch parses them), request id included -----------------
LOG_FORMAT = env_choice("LOG_FORMAT", "json", ("json", "text"))
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
# The servers configure their own plain-text loggers before Django starts (granian in production, uvicorn
# for `serve` without --production); route them through the same handler so every line a worker writes once
# Django is loaded is one JSON object.
LOGGING["loggers"].update(
    {
        name: {"handlers": ["console"], "level": LOGGING["root"]["level"], "propagate": False}
        for name in ("_granian", "granian.access", "uvicorn", "uvicorn.access")
    }
)
# WhiteNoise serves static files (the admin's) with synchronous iterators; under ASGI Django warns
# on every such response. Harmless here, and it would drown the logs.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators", module="django.core.handlers.asgi"
)

# --- DRF -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    # Cognito verifies the SPA's bearer tokens; the cookie JWT class stays for the API's own login flow.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.authentication.CognitoJWTAuthentication",
        "backend.authentication.CookieJWTAuthentication",
    ],
}
