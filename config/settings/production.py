"""Production (AWS App Runner): DEBUG off, PostgreSQL required, secure cookies, JSON logs, Cognito."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASE_URL, INSECURE_DEFAULT_SECRET_KEY, REST_FRAMEWORK, SECRET_KEY
from config.settings.env import env_bool, env_int, env_list, env_str

DEBUG = False


def _require(name: str, ok: bool, why: str) -> None:
    if not ok:
        raise ImproperlyConfigured(f"{name} is required in production: {why}")


_require("DATABASE_URL", bool(DATABASE_URL), "set it to the PostgreSQL URL (postgres://user:pass@host:5432/db)")
_require(
    "DJANGO_SECRET_KEY",
    bool(SECRET_KEY)
    and SECRET_KEY != INSECURE_DEFAULT_SECRET_KEY
    and not SECRET_KEY.startswith("django-insecure")
    and len(SECRET_KEY) >= 50
    and len(set(SECRET_KEY)) >= 5,
    "set a random value of at least 50 characters (not the local default)",
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
_require("DJANGO_ALLOWED_HOSTS", bool(ALLOWED_HOSTS), "a comma-separated list of the hosts that serve the API")

# HTTPS everywhere; App Runner terminates TLS and forwards the scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
AUTH_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405

# Cognito verifies the SPA's bearer tokens; the cookie JWT class stays for the API's own login flow.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.authentication.CognitoJWTAuthentication",
        "backend.authentication.CookieJWTAuthentication",
    ],
}
