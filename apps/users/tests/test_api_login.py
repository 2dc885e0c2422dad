"""POST /api/auth/login/ and /api/auth/token/: cookies, the user body, and every refusal."""

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users.tests.conftest import LOGIN_URL, ME_URL, TOKEN_URL, assert_error
from apps.users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _post_login(client, email, password=DEFAULT_PASSWORD):
    return client.post(LOGIN_URL, {"email": email, "password": password}, format="json")


def test_login_returns_the_user_and_sets_httponly_lax_cookies(api_client, make_user):
    user = make_user("hr", first_name="Ada", last_name="Lovelace")

    response = _post_login(api_client, user.email)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["role"] == "hr"
    assert body["first_name"] == "Ada"
    assert body["last_login"] is not None
    assert "password" not in body

    access = response.cookies[settings.AUTH_COOKIE_ACCESS]
    refresh = response.cookies[settings.AUTH_COOKIE_REFRESH]
    assert settings.AUTH_COOKIE_ACCESS == "coveris_access"
    assert settings.AUTH_COOKIE_REFRESH == "coveris_refresh"
    for morsel in (access, refresh):
        assert morsel.value
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert not morsel["secure"], "cookies are not Secure locally (plain http://localhost)"
    assert access["path"] == "/"
    assert refresh["path"] == "/api/auth/"
    assert int(access["max-age"]) == int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    assert int(refresh["max-age"]) == int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds())

    # The cookies hold a working token pair for this user.
    assert str(AccessToken(access.value)["user_id"]) == str(user.id)
    assert RefreshToken(refresh.value)["jti"]
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_cookies_are_secure_when_configured(api_client, make_user, settings):
    settings.AUTH_COOKIE_SECURE = True
    user = make_user("employee")

    response = _post_login(api_client, user.email)

    assert response.status_code == 200
    assert response.cookies[settings.AUTH_COOKIE_ACCESS]["secure"] is True
    assert response.cookies[settings.AUTH_COOKIE_REFRESH]["secure"] is True


def test_cookie_names_and_domain_come_from_settings(api_client, make_user, settings):
    settings.AUTH_COOKIE_ACCESS = "sso_access"
    settings.AUTH_COOKIE_REFRESH = "sso_refresh"
    settings.AUTH_COOKIE_DOMAIN = ".coveris.test"
    user = make_user("employee")

    response = _post_login(api_client, user.email)

    assert "coveris_access" not in response.cookies
    assert response.cookies["sso_access"]["domain"] == ".coveris.test"
    assert response.cookies["sso_refresh"]["domain"] == ".coveris.test"
    assert api_client.get(ME_URL).json()["id"] == user.id
    logout = api_client.post("/api/auth/logout/")
    assert logout.status_code == 204
    # Deleted for the same domain they were set on, or the browser keeps them.
    assert logout.cookies["sso_access"]["domain"] == ".coveris.test"
    assert logout.cookies["sso_refresh"]["domain"] == ".coveris.test"
    assert logout.cookies["sso_refresh"].value == ""


def test_access_tokens_live_at_most_five_minutes(api_client, make_user):
    user = make_user("employee")

    response = _post_login(api_client, user.email)

    token = AccessToken(response.cookies[settings.AUTH_COOKIE_ACCESS].value)
    assert 0 < token["exp"] - token["iat"] <= 300


def test_login_then_me_with_the_cookie(api_client, make_user, login):
    user = make_user("auditor")
    login(api_client, user)

    response = api_client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_login_rotates_the_csrf_token(api_client, make_user):
    user = make_user("employee")
    api_client.get("/api/auth/csrf/")
    before = api_client.cookies["csrftoken"].value

    response = _post_login(api_client, user.email)

    assert response.status_code == 200
    assert response.cookies["csrftoken"].value
    assert response.cookies["csrftoken"].value != before


def test_login_email_is_case_insensitive_and_trimmed(api_client, make_user):
    user = make_user("employee", email="mixed.case@coveris.test")

    response = _post_login(api_client, "  Mixed.CASE@Coveris.TEST ")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == user.id


def test_login_wrong_password_is_invalid_credentials(api_client, make_user):
    user = make_user("employee")

    response = _post_login(api_client, user.email, "not-the-password")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert settings.AUTH_COOKIE_ACCESS not in response.cookies
    assert settings.AUTH_COOKIE_REFRESH not in response.cookies


def test_login_unknown_email_is_invalid_credentials(api_client, db):
    response = _post_login(api_client, "nobody@coveris.test")

    assert_error(response, 401, "not_authenticated")
    assert settings.AUTH_COOKIE_ACCESS not in response.cookies


def test_login_inactive_user_is_invalid_credentials(api_client, make_user):
    user = make_user("admin", is_active=False)

    response = _post_login(api_client, user.email)

    assert_error(response, 401, "not_authenticated")
    assert settings.AUTH_COOKIE_ACCESS not in response.cookies


def test_all_credential_failures_answer_the_same_message(api_client, make_user):
    user = make_user("employee")
    inactive = make_user("employee", is_active=False)

    wrong = _post_login(api_client, user.email, "nope").json()["error"]
    unknown = _post_login(api_client, "ghost@coveris.test").json()["error"]
    disabled = _post_login(api_client, inactive.email).json()["error"]

    assert wrong == unknown == disabled


@pytest.mark.parametrize(
    ("payload", "bad_fields"),
    [
        ({}, {"email", "password"}),
        ({"email": "a@coveris.test"}, {"password"}),
        ({"password": DEFAULT_PASSWORD}, {"email"}),
        ({"email": "not-an-email", "password": DEFAULT_PASSWORD}, {"email"}),
        ({"email": "", "password": ""}, {"email", "password"}),
        ({"email": None, "password": None}, {"email", "password"}),
        ({"email": ["a@coveris.test"], "password": {"x": 1}}, {"email", "password"}),
        ({"email": "a@coveris.test", "password": "x" * 5000}, {"password"}),
        ({"email": "a\x00@coveris.test", "password": "p\x00"}, {"email", "password"}),
    ],
)
def test_login_malformed_body_is_a_validation_error(api_client, db, payload, bad_fields):
    response = api_client.post(LOGIN_URL, payload, format="json")

    error = assert_error(response, 400, "validation_error")
    assert set(error["details"]) == bad_fields


def test_login_body_that_is_not_an_object_is_a_validation_error(api_client, db):
    response = api_client.post(LOGIN_URL, ["a@coveris.test", DEFAULT_PASSWORD], format="json")

    error = assert_error(response, 400, "validation_error")
    assert "non_field_errors" in error["details"]


@pytest.mark.parametrize("raw", ['{"email": "a@coveris.test", "password": ', "not json at all", "\xff\xfe"])
def test_login_non_json_body_is_a_parse_error(api_client, db, raw):
    response = api_client.generic("POST", LOGIN_URL, raw.encode("latin-1"), content_type="application/json")

    assert_error(response, 400, "validation_error")


def test_login_form_encoded_body_is_unsupported_media_type(api_client, make_user):
    user = make_user("employee")

    response = api_client.post(LOGIN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="multipart")

    assert_error(response, 415, "unsupported_media_type")


def test_login_get_is_method_not_allowed(api_client, db):
    assert_error(api_client.get(LOGIN_URL), 405, "method_not_allowed")


def test_token_endpoint_returns_a_pair_in_the_body_without_cookies(api_client, make_user):
    user = make_user("manager")

    response = api_client.post(TOKEN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert settings.AUTH_COOKIE_ACCESS not in response.cookies
    assert settings.AUTH_COOKIE_REFRESH not in response.cookies
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = api_client.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["id"] == user.id


def test_token_endpoint_refuses_bad_credentials(api_client, make_user):
    user = make_user("manager")

    response = api_client.post(TOKEN_URL, {"email": user.email, "password": "wrong"}, format="json")

    assert_error(response, 401, "not_authenticated")
