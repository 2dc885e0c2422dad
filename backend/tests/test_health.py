"""/healthz answers while the process is up; /readyz answers 200 only when the database and the cache do."""

import pytest
from django.db import OperationalError, connections

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_auth(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_ok_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_503_when_the_database_is_unreachable(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    # The real check runs; only the connection's cursor fails, as it would with the server down.
    monkeypatch.setattr(connections["default"], "cursor", refuse)
    if getattr(connections["default"], "pool", None) is not None:  # PostgreSQL: the probe checks out of the pool
        monkeypatch.setattr(connections["default"].pool, "connection", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unreachable", "cache": "ok"}}
    assert "connection refused" not in response.content.decode(), "the reason goes to the logs only"
    assert int(response["Retry-After"]) > 0


def test_readyz_503_when_the_cache_is_unreachable(client, settings):
    # A real Redis client pointed at a port nothing listens on.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "cache": "unreachable"}}


def test_readyz_503_when_the_cache_loses_writes(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "read-back failed"}


def test_healthz_answers_a_probe_with_any_host(client):
    """Platform probes (App Runner) may send a Host outside DJANGO_ALLOWED_HOSTS; liveness must still answer."""
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8080")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_other_paths_still_validate_the_host(client):
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8080").status_code == 400
