"""Access tokens verified once per process (``backend.authentication``, ADR 0031): the expiry and every revocation
still apply on each request."""

import datetime

import time_machine
from django.test import override_settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from apps.users.tests.conftest import ME_URL, assert_error
from backend import authentication


def _bearer(client, token) -> None:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_is_verified_once_then_served_from_the_process(api_client, make_user, monkeypatch):
    decodes = []
    real_decode = TokenBackend.decode
    monkeypatch.setattr(TokenBackend, "decode", lambda self, *a, **k: decodes.append(1) or real_decode(self, *a, **k))
    _bearer(api_client, AccessToken.for_user(make_user("admin")))

    assert [api_client.get(ME_URL).status_code for _ in range(3)] == [200, 200, 200]
    assert len(decodes) == 1


def test_an_expired_token_is_refused_though_it_was_verified_before(api_client, make_user):
    token = AccessToken.for_user(make_user("admin"))
    _bearer(api_client, token)
    assert api_client.get(ME_URL).status_code == 200

    after_expiry = datetime.datetime.fromtimestamp(token["exp"] + 1, tz=datetime.UTC)
    with time_machine.travel(after_expiry, tick=False):
        assert_error(api_client.get(ME_URL), 401, "token_invalid")
        assert str(token).encode() not in authentication._verified_tokens


def test_deactivation_and_role_changes_reach_a_verified_token_at_once(api_client, make_user):
    user = make_user("admin")
    _bearer(api_client, AccessToken.for_user(user))
    assert api_client.get("/api/employees/").status_code == 200

    user.role = "employee"
    user.save()
    assert api_client.get(ME_URL).json()["role"] == "employee"
    user.is_active = False
    user.save()
    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_a_tampered_token_is_still_verified_and_refused(api_client, make_user):
    token = str(AccessToken.for_user(make_user("admin")))
    _bearer(api_client, token)
    assert api_client.get(ME_URL).status_code == 200

    header, payload, signature = token.split(".")
    _bearer(api_client, f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}")
    assert_error(api_client.get(ME_URL), 401, "token_invalid")


def test_changed_jwt_settings_forget_every_verified_token(api_client, make_user, settings):
    _bearer(api_client, AccessToken.for_user(make_user("admin")))
    assert api_client.get(ME_URL).status_code == 200
    assert authentication._verified_tokens

    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, "SIGNING_KEY": "another-key-" + "x" * 50}):
        assert not authentication._verified_tokens


def test_the_store_is_bounded(api_client, make_user, monkeypatch):
    monkeypatch.setattr(authentication._verified_tokens, "max_size", 2)
    user = make_user("admin")
    for _ in range(5):
        _bearer(api_client, AccessToken.for_user(user))
        assert api_client.get(ME_URL).status_code == 200
        assert len(authentication._verified_tokens) <= 2
