"""Settings behave per environment: production refuses unsafe configuration, local runs with zero set-up.

Settings modules read the environment once, at import, so each case imports them in a fresh
interpreter with a controlled environment (no inherited variables, no .env file).
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.base import database_from_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PRODUCTION = "config.settings.production"
LOCAL = "config.settings.local"
TIMEOUT = 60

REALISTIC_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": PRODUCTION,
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",  # `check` does not connect
    "DJANGO_ALLOWED_HOSTS": "api.coveris.example",
    "CORS_ALLOWED_ORIGINS": "https://app.coveris.example",
    "CSRF_TRUSTED_ORIGINS": "https://app.coveris.example",
}


def _clean_env(**variables: str) -> dict[str, str]:
    """Only what a Python process needs, plus ``variables``; python-dotenv is told not to read .env."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR") if key in os.environ}
    env["PYTHON_DOTENV_DISABLED"] = "1"
    env.update(variables)
    return env


def _start(args: list[str], **variables: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=_clean_env(**variables),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(args: list[str], **variables: str) -> subprocess.CompletedProcess:
    process = _start(args, **variables)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


DJANGO_SETUP = ["-c", "import django; django.setup()"]

# (case id, overrides on the realistic environment, the variable the refusal must name)
REFUSALS = [
    ("no-database-url", {"DATABASE_URL": ""}, "DATABASE_URL"),
    ("sqlite-database-url", {"DATABASE_URL": "sqlite:////tmp/coveris.sqlite3"}, "DATABASE_URL"),
    ("default-secret-key", {"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
    ("short-secret-key", {"DJANGO_SECRET_KEY": "too-short-but-not-empty"}, "DJANGO_SECRET_KEY"),
    ("no-allowed-hosts", {"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
    ("long-access-tokens", {"JWT_ACCESS_LIFETIME_SECONDS": "301"}, "JWT_ACCESS_LIFETIME_SECONDS"),
    ("weak-jwt-signing-key", {"JWT_SIGNING_KEY": "secret"}, "JWT_SIGNING_KEY"),
    ("test-database-name", {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test_coveris"}, "DATABASE_URL"),
]


@pytest.fixture(scope="module")
def refusal_outcomes() -> dict[str, subprocess.CompletedProcess]:
    """Start every refusal case at once (they are independent), then collect: the module stays fast."""
    started = {case: _start(DJANGO_SETUP, **{**REALISTIC_PRODUCTION_ENV, **env}) for case, env, _ in REFUSALS}
    outcomes = {}
    for case, process in started.items():
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        outcomes[case] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return outcomes


@pytest.mark.parametrize(("case", "variable"), [(case, variable) for case, _, variable in REFUSALS])
def test_production_refuses_to_start_naming_the_variable(refusal_outcomes, case, variable):
    outcome = refusal_outcomes[case]
    assert outcome.returncode != 0, f"{case}: production settings loaded\n{outcome.stdout}"
    last_line = outcome.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line, outcome.stderr
    assert variable in last_line, outcome.stderr


def test_production_passes_check_deploy_with_a_realistic_environment():
    outcome = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **REALISTIC_PRODUCTION_ENV)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "no issues" in outcome.stdout


_DUMP = """
import json
from django.conf import settings as s
db, cache = s.DATABASES["default"], s.CACHES["default"]
print(json.dumps({
    "debug": s.DEBUG,
    "engine": db["ENGINE"],
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "pool": db.get("OPTIONS", {}).get("pool"),
    "transaction_mode": db.get("OPTIONS", {}).get("transaction_mode"),
    "cache_backend": cache["BACKEND"],
    "cache_location": cache.get("LOCATION"),
    "cache_key_prefix": cache.get("KEY_PREFIX"),
    "cache_pool_class": cache.get("OPTIONS", {}).get("pool_class"),
    "auth_classes": s.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
    "trusted_proxies": s.TRUSTED_PROXIES,
    "auth_cookie_secure": s.AUTH_COOKIE_SECURE,
    "csrf_cookie_secure": s.CSRF_COOKIE_SECURE,
    "session_cookie_secure": s.SESSION_COOKIE_SECURE,
    "log_formatter": s.LOGGING["handlers"]["console"]["formatter"],
    "staticfiles": s.STORAGES["staticfiles"]["BACKEND"],
    "cors": s.CORS_ALLOWED_ORIGINS,
}))
"""


def _dump_settings(**variables: str) -> dict:
    outcome = _run(["-c", _DUMP], **variables)
    assert outcome.returncode == 0, outcome.stderr
    return json.loads(outcome.stdout)


def test_production_settings_with_redis_use_the_pool_redis_and_secure_defaults():
    dumped = _dump_settings(**REALISTIC_PRODUCTION_ENV, REDIS_URL="redis://cache.internal:6379/0")

    assert dumped["debug"] is False
    assert dumped["engine"] == "django.db.backends.postgresql"
    assert dumped["conn_max_age"] == 0
    assert dumped["pool"] == {"min_size": 1, "max_size": 10, "timeout": 3.0}
    assert dumped["cache_backend"] == "backend.cache.RedisCache"  # one client per worker (ADR 0034)
    assert dumped["cache_location"] == "redis://cache.internal:6379/0"
    assert dumped["cache_key_prefix"] == "coveris"
    assert dumped["cache_pool_class"] == "backend.cache.SharedConnectionPool"  # one pool per worker (ADR 0031)
    assert dumped["auth_classes"][0] == "backend.authentication.CognitoJWTAuthentication"
    assert dumped["trusted_proxies"] == []  # the socket peer is the client unless proxies are configured
    assert dumped["auth_cookie_secure"] is dumped["csrf_cookie_secure"] is dumped["session_cookie_secure"] is True
    assert dumped["log_formatter"] == "json"
    assert dumped["staticfiles"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert dumped["cors"] == ["https://app.coveris.example"]


def _env_example_values() -> dict[str, str]:
    """Every assignment in .env.example, the commented-out ones included (they are documented examples)."""
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2).strip()
    return values


def test_local_settings_with_env_example_values_but_no_database_or_redis_use_sqlite_and_local_memory():
    example = _env_example_values()
    assert len(example) > 40  # every documented value parses (bools, ints, lifetimes) in this run
    dumped = _dump_settings(**{**example, "DJANGO_SETTINGS_MODULE": LOCAL, "DATABASE_URL": "", "REDIS_URL": ""})

    assert dumped["debug"] is True
    assert dumped["engine"] == "django.db.backends.sqlite3"
    # ASGI serves each request on its own thread: writers must queue for SQLite's lock, not fail with a 500.
    assert dumped["transaction_mode"] == "IMMEDIATE"
    assert dumped["cache_backend"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_from_url_gives_postgres_the_psycopg_pool_and_no_persistent_connections(monkeypatch):
    for name in ("DATABASE_POOL", "DATABASE_POOL_MIN_SIZE", "DATABASE_POOL_MAX_SIZE", "DATABASE_POOL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "4")

    config = database_from_url("postgres://coveris:pw@db.internal:5432/coveris")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "coveris"
    assert config["HOST"] == "db.internal"
    assert config["CONN_MAX_AGE"] == 0  # the pool owns connections; persistent ones leak under ASGI
    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 3.0}
    assert config["OPTIONS"]["connect_timeout"] == 5
    # Every checkout is checked (a connection the server dropped while idle is discarded): backend/pool.py.
    assert config["CONN_HEALTH_CHECKS"] is True


def test_database_from_url_without_pool_when_disabled_or_not_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL", "false")
    assert "pool" not in database_from_url("postgres://coveris@db.internal/coveris").get("OPTIONS", {})

    monkeypatch.setenv("DATABASE_POOL", "true")
    sqlite = database_from_url("sqlite:////tmp/coveris.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in sqlite.get("OPTIONS", {})


def test_trusted_proxies_are_cidrs_and_a_typo_stops_start_up():
    dumped = _dump_settings(**REALISTIC_PRODUCTION_ENV, TRUSTED_PROXIES="10.0.0.0/8, 2001:db8::/32")
    assert dumped["trusted_proxies"] == ["10.0.0.0/8", "2001:db8::/32"]

    outcome = _run(["-c", _DUMP], **REALISTIC_PRODUCTION_ENV, TRUSTED_PROXIES="10.0.0.0/8,not-a-network")
    assert outcome.returncode != 0
    assert "TRUSTED_PROXIES" in outcome.stderr
