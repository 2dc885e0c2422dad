"""Sessions: authentication without a query per request, and revocation that reaches access tokens at once.

Logout, log out everywhere, deactivation, role changes and a replayed refresh token all take effect on
the next request — with the user snapshot already cached, which is when a stale answer would show.
"""

import logging
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users import services
from apps.users.api.views import MeView
from apps.users.models import TokenFamily, User
from apps.users.snapshots import user_snapshot_get
from apps.users.tasks import prune_sessions
from apps.users.tests.conftest import LOGOUT_URL, ME_URL, REFRESH_URL, assert_error, cookie_value
from apps.users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGOUT_EVERYWHERE_URL = "/api/auth/logout-everywhere/"
AUDIT_URL = "/api/audit/employee-transitions/"  # admin, hr and auditor only


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _backdate_rotation(raw_refresh: str, seconds: int = 60) -> None:
    """Pretend the token was rotated ``seconds`` ago (beyond the concurrent-refresh grace)."""
    jti = RefreshToken(raw_refresh, verify=False)["jti"]
    BlacklistedToken.objects.filter(token__jti=jti).update(blacklisted_at=timezone.now() - timedelta(seconds=seconds))


# --- no query per request -------------------------------------------------------------------------


@pytest.mark.parametrize("credential", ["cookie", "bearer"])
def test_an_authenticated_request_runs_no_query_for_authentication(api_client, make_user, login, credential):
    user = make_user("employee")
    login(api_client, user)
    client = api_client if credential == "cookie" else _bearer(cookie_value(api_client, settings.AUTH_COOKIE_ACCESS))
    assert client.get(ME_URL).status_code == 200  # the first request may fill the cache

    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == user.id
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_a_cold_cache_costs_one_query_and_fills_it(make_user):
    user = make_user("employee")
    client = _bearer(str(AccessToken.for_user(user)))

    with CaptureQueriesContext(connection) as cold:
        assert client.get(ME_URL).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(ME_URL).status_code == 200

    assert len(cold) == 1
    assert len(warm) == 0


def test_me_answers_what_login_answered(api_client, make_user, login):
    user = make_user("manager", first_name="Ada", last_name="Lovelace")
    login_body = login(api_client, user).json()

    me = api_client.get(ME_URL).json()

    assert me == login_body
    assert me["last_login"] is not None


def test_a_user_instance_from_the_cache_never_blanks_the_password_on_save(make_user):
    user = make_user("employee")
    cached = user_snapshot_get(user.pk).user()

    cached.first_name = "Renamed"
    cached.save()

    stored = User.objects.get(pk=user.pk)
    assert stored.first_name == "Renamed"
    assert stored.check_password(DEFAULT_PASSWORD)


# --- changes take effect on the next request, cache warm -------------------------------------------


def test_a_role_change_takes_effect_on_the_next_request(make_user):
    user = make_user("employee")
    client = _bearer(str(AccessToken.for_user(user)))
    assert client.get(ME_URL).json()["role"] == "employee"
    assert client.get(AUDIT_URL).status_code == 403

    user.role = "hr"
    user.save()

    assert client.get(ME_URL).json()["role"] == "hr"
    assert client.get(AUDIT_URL).status_code == 200


def test_deactivation_takes_effect_on_the_next_request(make_user):
    user = make_user("hr")
    client = _bearer(str(AccessToken.for_user(user)))
    assert client.get(ME_URL).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_error(client.get(ME_URL), 401, "token_invalid")


def test_a_deleted_users_token_is_refused(make_user):
    user = make_user("hr")
    client = _bearer(str(AccessToken.for_user(user)))
    assert client.get(ME_URL).status_code == 200

    user.delete()

    assert_error(client.get(ME_URL), 401, "token_invalid")


def test_logout_ends_the_sessions_access_tokens_too(api_client, make_user, login):
    login(api_client, make_user("employee"))
    stolen = _bearer(cookie_value(api_client, settings.AUTH_COOKIE_ACCESS))
    assert stolen.get(ME_URL).status_code == 200

    assert api_client.post(LOGOUT_URL).status_code == 204

    assert_error(stolen.get(ME_URL), 401, "token_invalid")


def test_logout_ends_only_its_own_session(api_client, make_user, login):
    user = make_user("employee")
    login(api_client, user)
    other_device = APIClient()
    login(other_device, user)

    assert api_client.post(LOGOUT_URL).status_code == 204

    assert other_device.get(ME_URL).status_code == 200
    assert other_device.post(REFRESH_URL).status_code == 200


def test_logout_with_only_the_access_cookie_ends_the_session(api_client, make_user, login):
    login(api_client, make_user("employee"))
    access = cookie_value(api_client, settings.AUTH_COOKIE_ACCESS)
    del api_client.cookies[settings.AUTH_COOKIE_REFRESH]

    assert api_client.post(LOGOUT_URL).status_code == 204

    assert_error(_bearer(access).get(ME_URL), 401, "token_invalid")


def test_logout_everywhere_ends_every_session_and_token(api_client, make_user, login, token_pair):
    user = make_user("employee")
    login(api_client, user)
    laptop, phone = APIClient(), APIClient()
    login(laptop, user)
    _, script = token_pair(user)
    legacy = _bearer(str(AccessToken.for_user(user)))  # a token without a session claim
    for client in (laptop, _bearer(script.access), legacy):
        assert client.get(ME_URL).status_code == 200

    response = api_client.post(LOGOUT_EVERYWHERE_URL)

    assert response.status_code == 204
    assert response.cookies[settings.AUTH_COOKIE_ACCESS].value == ""
    for client in (laptop, _bearer(script.access), legacy):
        assert_error(client.get(ME_URL), 401, "token_invalid")
    assert_error(laptop.post(REFRESH_URL), 401, "token_invalid")
    assert_error(phone.post(REFRESH_URL, {"refresh": script.refresh}, format="json"), 401, "token_invalid")
    # Signing in again afterwards works.
    fresh = APIClient()
    login(fresh, user)
    assert fresh.get(ME_URL).status_code == 200


def test_logout_everywhere_needs_a_signed_in_user(api_client, db):
    assert_error(api_client.post(LOGOUT_EVERYWHERE_URL), 401, "not_authenticated")


def test_logout_everywhere_by_cookie_needs_csrf(csrf_client, make_user, login):
    login(csrf_client, make_user("employee"))

    assert_error(csrf_client.post(LOGOUT_EVERYWHERE_URL), 403, "csrf_failed")
    assert TokenFamily.objects.filter(revoked_at__isnull=False).count() == 0


# --- refresh-token reuse detection (RFC 9700 §4.14) -----------------------------------------------


def test_replaying_a_rotated_refresh_token_revokes_the_whole_session(api_client, make_user, login, caplog):
    user = make_user("employee")
    login(api_client, user)
    stolen = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)
    assert api_client.post(REFRESH_URL).status_code == 200  # the legitimate client rotates
    _backdate_rotation(stolen)

    with caplog.at_level(logging.WARNING, logger="coveris.auth"):
        replay = APIClient().post(REFRESH_URL, {"refresh": stolen}, format="json")

    assert_error(replay, 401, "token_invalid")
    assert any("replayed" in record.getMessage() for record in caplog.records)
    # Whoever holds the current tokens of that session is signed out too.
    assert_error(api_client.get(ME_URL), 401, "token_invalid")
    assert_error(api_client.post(REFRESH_URL), 401, "token_invalid")
    family = TokenFamily.objects.get(user=user)
    assert family.revoked_reason == TokenFamily.RevokedReason.REUSE


def test_a_thief_who_rotated_first_loses_the_session_when_the_owner_replays(make_user, token_pair):
    _, pair = token_pair(make_user("employee"))
    thief = APIClient()
    stolen = thief.post(REFRESH_URL, {"refresh": pair.refresh}, format="json").json()
    _backdate_rotation(pair.refresh)

    owner_retry = APIClient().post(REFRESH_URL, {"refresh": pair.refresh}, format="json")

    assert_error(owner_retry, 401, "token_invalid")
    assert_error(_bearer(stolen["access"]).get(ME_URL), 401, "token_invalid")
    assert_error(thief.post(REFRESH_URL, {"refresh": stolen["refresh"]}, format="json"), 401, "token_invalid")


def test_a_replay_within_the_grace_is_a_lost_race_and_keeps_the_session(api_client, make_user, login):
    login(api_client, make_user("employee"))
    first = cookie_value(api_client, settings.AUTH_COOKIE_REFRESH)
    assert api_client.post(REFRESH_URL).status_code == 200  # tab A rotated a moment ago

    tab_b = APIClient().post(REFRESH_URL, {"refresh": first}, format="json")

    assert_error(tab_b, 401, "token_invalid")
    assert api_client.get(ME_URL).status_code == 200
    assert api_client.post(REFRESH_URL).status_code == 200
    assert TokenFamily.objects.filter(revoked_at__isnull=False).count() == 0


def test_rotation_keeps_the_session(token_pair):
    _, pair = token_pair()
    family = AccessToken(pair.access)["fam"]

    rotated = services.token_pair_rotate(raw_refresh=pair.refresh)

    assert AccessToken(rotated.access)["fam"] == family
    assert RefreshToken(rotated.refresh)["fam"] == family


# --- the cache unreachable: slower, never weaker ----------------------------------------------------

CLOSED_PORT_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_with_the_cache_unreachable_authentication_reads_the_database_and_is_strict(make_user, settings, monkeypatch):
    user = make_user("employee")
    other = make_user("employee")
    client = _bearer(str(AccessToken.for_user(user)))
    blocked = _bearer(str(AccessToken.for_user(other)))
    other.is_active = False
    other.save()
    settings.CACHES = CLOSED_PORT_REDIS
    monkeypatch.setattr(MeView, "throttle_classes", [])  # throttles have their own test (test_throttles)

    assert client.get(ME_URL).json()["id"] == user.id
    assert_error(blocked.get(ME_URL), 401, "token_invalid")


@pytest.mark.parametrize("last_login", [None, timezone.now()])
def test_the_fast_user_representation_equals_the_serializer(make_user, last_login):
    from apps.users.api.serializers import UserSerializer, user_representation

    user = make_user("manager", first_name="Ada", last_name="Lovelace")
    user.last_login = last_login

    assert user_representation(user) == UserSerializer(user).data


# --- deactivation ends the sessions; dead sessions are pruned ----------------------------------------


@pytest.mark.parametrize("update_fields", [None, ["is_active"]])
def test_reactivating_a_user_revives_none_of_their_sessions(api_client, make_user, login, update_fields):
    user = make_user("employee")
    login(api_client, user)
    other_device = APIClient()
    login(other_device, user)
    stolen_refresh = cookie_value(other_device, settings.AUTH_COOKIE_REFRESH)

    user.is_active = False
    user.save(update_fields=update_fields)
    user.is_active = True
    user.save(update_fields=update_fields)

    assert_error(api_client.post(REFRESH_URL), 401, "token_invalid")
    assert_error(APIClient().post(REFRESH_URL, {"refresh": stolen_refresh}, format="json"), 401, "token_invalid")
    assert_error(api_client.get(ME_URL), 401, "token_invalid")  # the access token issued before, too
    reasons = set(TokenFamily.objects.filter(user=user).values_list("revoked_reason", flat=True))
    assert reasons == {TokenFamily.RevokedReason.DEACTIVATED}
    fresh = APIClient()
    login(fresh, user)  # signing in again works
    assert fresh.get(ME_URL).status_code == 200


def test_saving_a_user_who_stays_inactive_or_active_ends_no_session(api_client, make_user, login):
    user = make_user("employee")
    idle = make_user("employee", is_active=False)
    login(api_client, user)

    user.first_name = "Renamed"
    user.save()
    idle.first_name = "Still idle"
    idle.save()

    assert api_client.post(REFRESH_URL).status_code == 200
    assert not TokenFamily.objects.filter(revoked_at__isnull=False).exists()


def test_a_refresh_marks_its_session_used(api_client, make_user, login):
    login(api_client, make_user("employee"))
    family = TokenFamily.objects.get()
    TokenFamily.objects.filter(pk=family.pk).update(last_used_at=timezone.now() - timedelta(days=3))

    assert api_client.post(REFRESH_URL).status_code == 200

    assert timezone.now() - TokenFamily.objects.get(pk=family.pk).last_used_at < timedelta(minutes=1)


def test_pruning_deletes_only_what_can_no_longer_sign_anyone_in(api_client, make_user, login):
    user = make_user("employee")
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    now = timezone.now()
    old = now - lifetime - timedelta(hours=1)
    login(api_client, user)
    live = TokenFamily.objects.get()
    revoked_long_ago = TokenFamily.objects.create(user=user, revoked_at=old, revoked_reason="logout")
    revoked_lately = TokenFamily.objects.create(user=user, revoked_at=now, revoked_reason="logout")
    unused_long = TokenFamily.objects.create(user=user, created_at=old, last_used_at=old)
    expired = RefreshToken.for_user(user)  # an outstanding row, then made expired
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at=now - timedelta(seconds=1))

    sessions, tokens = services.sessions_prune()

    assert (sessions, tokens) == (2, 1)
    remaining = set(TokenFamily.objects.values_list("pk", flat=True))
    assert remaining == {live.pk, revoked_lately.pk}
    assert revoked_long_ago.pk not in remaining
    assert unused_long.pk not in remaining
    assert not OutstandingToken.objects.filter(jti=expired["jti"]).exists()
    assert api_client.post(REFRESH_URL).status_code == 200  # the live session is untouched


def test_a_pruned_sessions_refresh_token_is_refused(api_client, make_user, login):
    login(api_client, make_user("employee"))
    old = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - timedelta(hours=1)
    TokenFamily.objects.update(last_used_at=old)

    services.sessions_prune()

    assert_error(api_client.post(REFRESH_URL), 401, "token_invalid")


def test_the_daily_job_prunes(make_user):
    user = make_user("employee")
    old = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - timedelta(hours=1)
    TokenFamily.objects.create(user=user, revoked_at=old, revoked_reason="logout")

    async_to_sync(prune_sessions.func)(timestamp=0)

    assert not TokenFamily.objects.exists()
