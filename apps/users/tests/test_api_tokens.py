"""POST /api/auth/refresh/ and /api/auth/logout/: rotation, blacklisting, cookies, deactivated users."""

import pytest
from django.conf import settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users.tests.conftest import LOGOUT_URL, ME_URL, REFRESH_URL, assert_error, cookie_value

pytestmark = pytest.mark.django_db


def _is_blacklisted(raw_refresh: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=RefreshToken(raw_refresh, verify=False)["jti"]).exists()


# --- refresh --------------------------------------------------------------------------------------


def test_cookie_refresh_rotates_both_cookies(api_client, make_user, login):
    user = make_user("employee")
    login(api_client, user)
    old_access = cookie_value(api_client, settings.AUTH_COOKIE_ACCESS)
    old_refresh = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)

    response = api_client.post(REFRESH_URL)

    assert response.status_code == 200, response.content
    assert response.json()["id"] == user.id  # the same body as login
    new_access = response.cookies[settings.AUTH_COOKIE_ACCESS]
    new_refresh = response.cookies[settings.AUTH_COOKIE_REFRESH]
    assert new_access.value
    assert new_access.value != old_access
    assert new_refresh.value
    assert new_refresh.value != old_refresh
    assert new_refresh["path"] == "/api/auth/"
    assert new_refresh["httponly"] is True
    assert new_access["httponly"] is True
    assert _is_blacklisted(old_refresh)
    assert not _is_blacklisted(new_refresh.value)
    assert api_client.get(ME_URL).json()["id"] == user.id


def test_old_refresh_token_is_refused_after_rotation(api_client, make_user, login):
    login(api_client, make_user("employee"))
    old_refresh = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)
    assert api_client.post(REFRESH_URL).status_code == 200

    replay_body = api_client.post(REFRESH_URL, {"refresh": old_refresh}, format="json")
    api_client.cookies[settings.AUTH_COOKIE_REFRESH] = old_refresh
    replay_cookie = api_client.post(REFRESH_URL)

    assert_error(replay_body, 401, "token_invalid")
    assert_error(replay_cookie, 401, "token_invalid")


def test_body_refresh_returns_a_new_pair_and_no_cookies(api_client, token_pair):
    user, pair = token_pair()

    response = api_client.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != pair.refresh
    assert body["access"] != pair.access
    assert str(AccessToken(body["access"])["user_id"]) == str(user.id)
    assert settings.AUTH_COOKIE_ACCESS not in response.cookies
    assert settings.AUTH_COOKIE_REFRESH not in response.cookies
    assert_error(api_client.post(REFRESH_URL, {"refresh": pair.refresh}, format="json"), 401, "token_invalid")
    # The new refresh token works once in turn.
    assert api_client.post(REFRESH_URL, {"refresh": body["refresh"]}, format="json").status_code == 200


def test_refresh_without_any_token_is_token_invalid(api_client, db):
    assert_error(api_client.post(REFRESH_URL), 401, "token_invalid")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", 12345])
def test_refresh_with_a_garbage_token_is_token_invalid(api_client, db, token):
    assert_error(api_client.post(REFRESH_URL, {"refresh": token}, format="json"), 401, "token_invalid")


def test_refresh_with_an_access_token_is_token_invalid(api_client, token_pair):
    _, pair = token_pair()

    assert_error(api_client.post(REFRESH_URL, {"refresh": pair.access}, format="json"), 401, "token_invalid")


@pytest.mark.parametrize("payload", [{"refresh": ""}, {"refresh": None}, {"refresh": ["x"]}, {"refresh": "x" * 5000}])
def test_refresh_malformed_body_is_a_validation_error(api_client, db, payload):
    error = assert_error(api_client.post(REFRESH_URL, payload, format="json"), 400, "validation_error")
    assert "refresh" in error["details"]


def test_refresh_non_json_body_is_a_parse_error(api_client, db):
    response = api_client.generic("POST", REFRESH_URL, b"{nope", content_type="application/json")

    assert_error(response, 400, "validation_error")


# --- logout ---------------------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_token_and_deletes_the_cookies(api_client, make_user, login):
    login(api_client, make_user("employee"))
    refresh = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)

    response = api_client.post(LOGOUT_URL)

    assert response.status_code == 204, response.content
    assert _is_blacklisted(refresh)
    access_cookie = response.cookies[settings.AUTH_COOKIE_ACCESS]
    refresh_cookie = response.cookies[settings.AUTH_COOKIE_REFRESH]
    for morsel in (access_cookie, refresh_cookie):
        assert morsel.value == ""
        assert int(morsel["max-age"]) == 0
    # Deleted at the same path they were set on, or the browser keeps them.
    assert access_cookie["path"] == "/"
    assert refresh_cookie["path"] == "/api/auth/"
    assert_error(api_client.get(ME_URL), 401, "not_authenticated")


def test_refresh_after_logout_is_refused(api_client, make_user, login):
    login(api_client, make_user("employee"))
    refresh = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)
    assert api_client.post(LOGOUT_URL).status_code == 204

    assert_error(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "token_invalid")


def test_body_logout_blacklists_the_given_token(api_client, token_pair):
    _, pair = token_pair()

    assert api_client.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json").status_code == 204

    assert _is_blacklisted(pair.refresh)
    assert_error(api_client.post(REFRESH_URL, {"refresh": pair.refresh}, format="json"), 401, "token_invalid")


def test_logout_without_any_token_is_a_no_op_204(api_client, db):
    response = api_client.post(LOGOUT_URL)

    assert response.status_code == 204
    assert response.content == b""
    assert not BlacklistedToken.objects.exists()


def test_logout_is_idempotent(api_client, token_pair):
    _, pair = token_pair()

    first = api_client.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json")
    second = api_client.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json")

    assert first.status_code == second.status_code == 204
    assert _is_blacklisted(pair.refresh)
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_logout_with_a_garbage_token_still_clears_the_cookies(api_client, db, token):
    api_client.cookies[settings.AUTH_COOKIE_REFRESH] = token

    response = api_client.post(LOGOUT_URL)

    assert response.status_code == 204
    assert response.cookies[settings.AUTH_COOKIE_REFRESH].value == ""


def test_logout_malformed_body_is_a_validation_error(api_client, db):
    assert_error(api_client.post(LOGOUT_URL, {"refresh": ""}, format="json"), 400, "validation_error")


# --- deactivated users ----------------------------------------------------------------------------


def test_deactivated_users_access_token_stops_working(api_client, make_user, login):
    user = make_user("admin")
    login(api_client, user)
    bearer = str(AccessToken.for_user(user))
    assert api_client.get(ME_URL).status_code == 200

    user.is_active = False
    user.save()

    assert_error(api_client.get(ME_URL), 401, "token_invalid")
    api_client.cookies.clear()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_deactivated_users_refresh_token_stops_working(api_client, make_user, login):
    user = make_user("admin")
    login(api_client, user)
    refresh = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)

    user.is_active = False
    user.save()

    assert_error(api_client.post(REFRESH_URL), 401, "token_invalid")
    assert_error(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "token_invalid")
    assert OutstandingToken.objects.filter(user=user).count() == 1, "no new token was issued"
