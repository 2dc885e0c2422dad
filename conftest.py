"""Shared pytest fixtures: API clients per role, cache reset, and the PostgreSQL-only marker."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (triggers, exclusion constraints, row locks or concurrency); "
        "set DATABASE_URL=postgres://... to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def csrf_client() -> APIClient:
    """A client that enforces CSRF like a browser would."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def make_user(db):
    from apps.users.tests.factories import UserFactory

    def _make(role: str = "admin", **kwargs):
        return UserFactory(role=role, **kwargs)

    return _make


@pytest.fixture
def auth_client(make_user):
    """``auth_client(role)`` → (client authenticated with a bearer token, user)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.users.snapshots import user_snapshot_get

    def _client(role: str = "admin", user=None, **kwargs):
        user = user or make_user(role, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        # A signed-in user's snapshot is cached after their first request (0 queries to authenticate);
        # warming it here keeps query counts about the endpoint, equal from the first request on.
        user_snapshot_get(user.pk)
        return client, user

    return _client
