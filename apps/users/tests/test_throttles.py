"""Throttles on the auth endpoints: login per IP and per email (5/h), refresh and logout (20/h)."""

import pytest
from rest_framework.settings import api_settings

from apps.users.tests.conftest import LOGIN_URL, LOGOUT_URL, REFRESH_URL, TOKEN_URL, assert_error
from apps.users.tests.factories import DEFAULT_PASSWORD
from backend.throttles import LoginEmailRateThrottle, LoginIPRateThrottle, LogoutRateThrottle, TokenRefreshRateThrottle

pytestmark = pytest.mark.django_db


def _login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"email": email, "password": password}, format="json", **extra)


def _assert_throttled(response, max_wait: int):
    error = assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= max_wait
    assert error["details"] == {"retry_after_seconds": retry_after}


def test_rates_are_the_specified_ones():
    rates = api_settings.DEFAULT_THROTTLE_RATES
    assert rates["login"] == "5/hour"
    assert rates["token_refresh"] == "20/hour"
    assert rates["logout"] == "20/hour"
    assert LoginIPRateThrottle().num_requests == LoginEmailRateThrottle().num_requests == 5
    assert TokenRefreshRateThrottle().num_requests == LogoutRateThrottle().num_requests == 20


def test_sixth_login_from_one_ip_is_throttled_and_failed_attempts_count(api_client, make_user):
    user = make_user("employee")
    # Five failures, each on a different email so only the per-IP counter can add up.
    for n in range(5):
        assert_error(_login(api_client, f"guess{n}@coveris.test", "wrong"), 401, "not_authenticated")

    response = _login(api_client, user.email)

    _assert_throttled(response, 3600)
    assert "coveris_access" not in response.cookies


def test_successful_logins_count_too(api_client, make_user):
    user = make_user("employee")
    for _ in range(5):
        assert _login(api_client, user.email).status_code == 200

    _assert_throttled(_login(api_client, user.email), 3600)


def test_login_throttle_is_per_ip(api_client, make_user):
    user = make_user("employee")
    for n in range(5):
        _login(api_client, f"guess{n}@coveris.test", "wrong", REMOTE_ADDR="10.0.0.1")

    assert _login(api_client, user.email, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_per_email_throttle_holds_across_ip_addresses(api_client, make_user):
    user = make_user("employee")
    for n in range(5):
        assert_error(_login(api_client, user.email, "wrong", REMOTE_ADDR=f"10.0.1.{n}"), 401, "not_authenticated")

    # Right password, fresh IP, differently written address: still the same account, still refused.
    response = _login(api_client, f"  {user.email.upper()} ", REMOTE_ADDR="10.0.2.99")

    _assert_throttled(response, 3600)


def test_token_endpoint_shares_the_login_throttle(api_client, make_user):
    user = make_user("employee")
    for n in range(5):
        _login(api_client, f"guess{n}@coveris.test", "wrong")

    response = api_client.post(TOKEN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    _assert_throttled(response, 3600)


def test_malformed_login_bodies_count_against_the_ip(api_client, make_user):
    user = make_user("employee")
    for _ in range(5):
        assert_error(api_client.post(LOGIN_URL, {}, format="json"), 400, "validation_error")

    _assert_throttled(_login(api_client, user.email), 3600)


def test_twenty_first_refresh_is_throttled(api_client, db):
    for _ in range(20):
        assert_error(api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json"), 401, "token_invalid")

    _assert_throttled(api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json"), 3600)


def test_twenty_first_logout_is_throttled(api_client, db):
    for _ in range(20):
        assert api_client.post(LOGOUT_URL).status_code == 204

    _assert_throttled(api_client.post(LOGOUT_URL), 3600)


def test_refresh_throttle_uses_its_own_rate(api_client, db, monkeypatch):
    # THROTTLE_RATES is bound at class definition, so the settings fixture cannot change it; patch the class.
    monkeypatch.setattr(TokenRefreshRateThrottle, "THROTTLE_RATES", {"token_refresh": "2/minute"})
    for _ in range(2):
        api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json")

    _assert_throttled(api_client.post(REFRESH_URL, {"refresh": "garbage"}, format="json"), 60)
    # Logout is counted separately.
    assert api_client.post(LOGOUT_URL).status_code == 204


# --- client IP behind proxies ---------------------------------------------------------------------


def _spoofed_logins(client, user, count=5):
    """Failed logins from one socket address, each claiming a different X-Forwarded-For."""
    for n in range(count):
        _login(
            client, f"spray{n}@coveris.test", "wrong", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )


def test_spoofed_forwarded_for_does_not_bypass_the_ip_throttle_without_proxies(api_client, make_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    user = make_user("employee")
    _spoofed_logins(api_client, user)

    response = _login(api_client, user.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.200")

    _assert_throttled(response, 3600)


def test_behind_one_proxy_the_client_is_the_last_forwarded_address(api_client, make_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    user = make_user("employee")
    proxy = {"REMOTE_ADDR": "10.1.0.1"}
    # One client prepends fake addresses; the proxy appends the real one (198.51.100.7).
    for n in range(5):
        _login(
            api_client, f"spray{n}@coveris.test", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7", **proxy
        )

    blocked = _login(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7", **proxy)
    other_client = _login(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)

    _assert_throttled(blocked, 3600)
    assert other_client.status_code == 200


def test_default_settings_do_not_trust_a_client_supplied_forwarded_for(api_client, make_user):
    user = make_user("employee")
    _spoofed_logins(api_client, user)

    response = _login(api_client, user.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.200")

    assert response.status_code == 429
