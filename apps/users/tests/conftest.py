"""Fixtures for the auth tests: URLs, a login helper and cookie readers."""

import pytest
from django.conf import settings

from apps.users.tests.factories import DEFAULT_PASSWORD

LOGIN_URL = "/api/auth/login/"
REFRESH_URL = "/api/auth/refresh/"
LOGOUT_URL = "/api/auth/logout/"
ME_URL = "/api/auth/me/"
CSRF_URL = "/api/auth/csrf/"
TOKEN_URL = "/api/auth/token/"


def assert_error(response, status: int, code: str) -> dict:
    """The response has this status and the one error shape with this code; returns the error body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


def cookie_value(client, name: str) -> str:
    """The value the client would send for this cookie ("" when absent or deleted)."""
    morsel = client.cookies.get(name)
    return morsel.value if morsel is not None else ""


@pytest.fixture
def login():
    """``login(client, user)`` → the login response; the client now carries the auth cookies."""

    def _login(client, user, password: str = DEFAULT_PASSWORD, **extra):
        response = client.post(LOGIN_URL, {"email": user.email, "password": password}, format="json", **extra)
        assert response.status_code == 200, response.content
        assert cookie_value(client, settings.AUTH_COOKIE_ACCESS)
        assert cookie_value(client, settings.AUTH_COOKIE_REFRESH)
        return response

    return _login


@pytest.fixture
def token_pair(make_user):
    """``token_pair(user=None)`` → (user, TokenPair) issued by the service (no login throttle spent)."""
    from apps.users import services

    def _pair(user=None):
        user = user or make_user("employee")
        return user, services.token_pair_issue(user=user)

    return _pair
