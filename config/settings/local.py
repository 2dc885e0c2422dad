"""Local development: DEBUG on, SQLite unless DATABASE_URL is set, relaxed CSP and cookies."""

from config.settings.base import *  # noqa: F403
from config.settings.base import CONTENT_SECURITY_POLICY, INSTALLED_APPS
from config.settings.env import env_list

DEBUG = True
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "0.0.0.0"])  # noqa: S104
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:3000", "http://localhost:5173"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", ["http://localhost:3000", "http://localhost:5173"])

# Relaxed CSP so local tooling (debug pages, browsable tools) works; production keeps the strict one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
    }
}

try:  # django-extensions is a dev-only dependency
    import django_extensions  # noqa: F401

    INSTALLED_APPS = [*INSTALLED_APPS, "django_extensions"]
except ImportError:  # pragma: no cover
    pass
