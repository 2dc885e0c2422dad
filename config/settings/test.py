"""Test settings: SQLite unless DATABASE_URL points at PostgreSQL (CI does), fast hashing."""

from config.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "coveris-test"}}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "CRITICAL"}}
COVERIS_JOBS = "inline"
# No heartbeat thread: a second connection updating a row the test's transaction holds would wait on it.
COVERIS_PLAN_HEARTBEAT_SECONDS = 0
