"""GET /api/auth/me/ with each credential, and CSRF on cookie-authenticated unsafe requests."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.users.tests.conftest import CSRF_URL, LOGOUT_URL, ME_URL, REFRESH_URL, assert_error, cookie_value

pytestmark = pytest.mark.django_db


# --- /api/auth/me/ --------------------------------------------------------------------------------


def test_me_with_the_access_cookie(api_client, make_user, login):
    user = make_user("manager")
    login(api_client, user)

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == user.id
    assert response.json()["role"] == "manager"


@pytest.mark.parametrize("scheme", ["Bearer", "JWT"])
def test_me_with_an_authorization_header(api_client, make_user, scheme):
    user = make_user("auditor")
    api_client.credentials(HTTP_AUTHORIZATION=f"{scheme} {AccessToken.for_user(user)}")

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_me_without_credentials_is_not_authenticated(api_client):
    response = api_client.get(ME_URL)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_me_with_a_garbage_bearer_token_is_token_invalid(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_me_with_a_garbage_cookie_is_token_invalid(api_client, db):
    api_client.cookies[settings.AUTH_COOKIE_ACCESS] = "garbage"

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_me_with_a_token_signed_by_another_key_is_token_invalid(api_client, make_user, settings):
    user = make_user("admin")
    token = AccessToken.for_user(user)
    from rest_framework_simplejwt.backends import TokenBackend

    forged = TokenBackend("HS256", signing_key="not-the-real-key" * 4).encode(token.payload)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_me_with_a_refresh_token_as_access_is_token_invalid(api_client, token_pair):
    _, pair = token_pair()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.refresh}")

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_me_with_a_three_part_authorization_header_is_token_invalid(api_client, make_user):
    user = make_user("admin")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)} extra")

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_me_for_a_deleted_user_is_token_invalid(api_client, make_user):
    user = make_user("admin")
    token = AccessToken.for_user(user)
    user.delete()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_the_header_wins_over_the_cookie(api_client, make_user, login):
    cookie_user = make_user("employee")
    header_user = make_user("hr")
    login(api_client, cookie_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(header_user)}")

    assert api_client.get(ME_URL).json()["id"] == header_user.id


# --- CSRF -----------------------------------------------------------------------------------------


def _csrf_token(client) -> str:
    response = client.get(CSRF_URL)
    assert response.status_code == 200
    token = response.json()["csrfToken"]
    assert token
    assert response.cookies["csrftoken"].value
    return token


def test_csrf_endpoint_sets_the_cookie_and_returns_the_token(csrf_client):
    response = csrf_client.get(CSRF_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"csrfToken"}
    assert len(body["csrfToken"]) == 64  # a masked token, usable as X-CSRFToken
    assert response.cookies["csrftoken"].value
    assert response.cookies["csrftoken"]["samesite"] == "Lax"


def test_cookie_logout_without_csrf_token_is_refused(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))

    response = csrf_client.post(LOGOUT_URL)

    assert_error(response, 403, "csrf_failed")
    # Nothing happened: the session still works.
    assert cookie_value(csrf_client, settings.AUTH_COOKIE_ACCESS)
    assert csrf_client.get(ME_URL).status_code == 200


def test_cookie_refresh_without_csrf_token_is_refused(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))
    before = cookie_value(csrf_client, settings.AUTH_COOKIE_REFRESH)

    response = csrf_client.post(REFRESH_URL)

    assert_error(response, 403, "csrf_failed")
    assert settings.AUTH_COOKIE_REFRESH not in response.cookies
    assert cookie_value(csrf_client, settings.AUTH_COOKIE_REFRESH) == before


def test_cookie_request_with_a_wrong_csrf_token_is_refused(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))
    _csrf_token(csrf_client)

    response = csrf_client.post(LOGOUT_URL, HTTP_X_CSRFTOKEN="x" * 64)

    assert_error(response, 403, "csrf_failed")


def test_cookie_logout_with_the_csrf_token_passes(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))
    token = _csrf_token(csrf_client)

    response = csrf_client.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 204, response.content


def test_cookie_refresh_with_the_csrf_token_passes(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))
    token = _csrf_token(csrf_client)

    response = csrf_client.post(REFRESH_URL, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200, response.content
    assert response.cookies[settings.AUTH_COOKIE_REFRESH].value


def test_csrf_token_fetched_before_login_is_void_after_login(csrf_client, make_user, login):
    stale = _csrf_token(csrf_client)
    login(csrf_client, make_user("employee"))

    assert_error(csrf_client.post(LOGOUT_URL, HTTP_X_CSRFTOKEN=stale), 403, "csrf_failed")


def test_cookie_authentication_checks_csrf_on_unsafe_methods(csrf_client, make_user, login):
    """The cookie authenticator itself (any API view), not only the auth endpoints, enforces CSRF."""
    login(csrf_client, make_user("employee"))

    assert_error(csrf_client.post(ME_URL), 403, "csrf_failed")
    token = _csrf_token(csrf_client)
    # With the token the request is authenticated and reaches the view, which has no POST.
    assert_error(csrf_client.post(ME_URL, HTTP_X_CSRFTOKEN=token), 405, "method_not_allowed")


def test_safe_methods_need_no_csrf_token(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))

    assert csrf_client.get(ME_URL).status_code == 200


@pytest.mark.parametrize("scheme", ["Bearer", "JWT"])
def test_header_authenticated_unsafe_request_skips_csrf(make_user, scheme):
    user = make_user("employee")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {AccessToken.for_user(user)}")

    assert_error(client.post(ME_URL), 405, "method_not_allowed")


def test_header_skips_csrf_even_when_auth_cookies_are_present(csrf_client, make_user, login):
    user = make_user("employee")
    login(csrf_client, user)
    csrf_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")

    assert_error(csrf_client.post(ME_URL), 405, "method_not_allowed")


def test_body_token_logout_and_refresh_skip_csrf(csrf_client, token_pair):
    _, pair = token_pair()

    refreshed = csrf_client.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")
    assert refreshed.status_code == 200, refreshed.content

    logout = csrf_client.post(LOGOUT_URL, {"refresh": refreshed.json()["refresh"]}, format="json")
    assert logout.status_code == 204, logout.content
