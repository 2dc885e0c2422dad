"""Throttles and the sign-in policy: login per (email, client), per client, per email; refresh, logout per session."""

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from apps.users.tests.conftest import CSRF_URL, LOGIN_URL, LOGOUT_URL, ME_URL, REFRESH_URL, TOKEN_URL, assert_error
from apps.users.tests.factories import DEFAULT_PASSWORD
from backend import signin, throttles
from backend.throttles import (
    CoverisAnonRateThrottle,
    CoverisUserRateThrottle,
    LogoutRateThrottle,
    SchemaRateThrottle,
    TokenRefreshRateThrottle,
    client_address,
)

pytestmark = pytest.mark.django_db


def _login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"email": email, "password": password}, format="json", **extra)


def _assert_throttled(response, max_wait: int):
    error = assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= max_wait
    assert error["details"] == {"retry_after_seconds": retry_after}


def test_rates_are_the_specified_ones(settings):
    rates = api_settings.DEFAULT_THROTTLE_RATES
    assert rates["login"] == "5/hour"
    assert rates["login_client"] == "20/hour"
    assert rates["token_refresh"] == "20/hour"
    assert rates["logout"] == "20/hour"
    assert settings.SIGNIN_EMAIL_FAILURE_CEILING == 50
    assert TokenRefreshRateThrottle().num_requests == LogoutRateThrottle().num_requests == 20


# --- the sign-in policy (issue 11 items 5 and 6; ADR 0021) -------------------------------------------------


def test_five_failures_on_one_account_from_one_client_refuse_the_sixth_attempt(api_client, make_user):
    user = make_user("employee")
    for _ in range(5):
        assert_error(_login(api_client, user.email, "wrong"), 401, "not_authenticated")

    response = _login(api_client, f"  {user.email.upper()} ")  # the right password, written differently

    _assert_throttled(response, 3600)
    assert "coveris_access" not in response.cookies


def test_a_stranger_cannot_lock_the_owner_out(api_client, make_user):
    user = make_user("employee")
    for n in range(5):  # five guesses from each of four addresses
        for _ in range(5):
            _login(api_client, user.email, "wrong", REMOTE_ADDR=f"203.0.113.{n}")

    response = _login(api_client, user.email, REMOTE_ADDR="198.51.100.1")  # the owner, at the office

    assert response.status_code == 200, response.content


def test_past_the_per_email_ceiling_the_account_backs_off_exponentially(api_client, make_user, settings, monkeypatch):
    settings.SIGNIN_EMAIL_FAILURE_CEILING = 10
    clock = _Clock()
    monkeypatch.setattr(signin, "timer", clock)
    user = make_user("employee")
    for n in range(10):  # a botnet: one guess from each of ten addresses
        _login(api_client, user.email, "wrong", REMOTE_ADDR=f"203.0.113.{n}")

    _assert_throttled(_login(api_client, user.email, REMOTE_ADDR="198.51.100.1"), 60)  # locked 1 minute
    clock.now += 61
    assert_error(_login(api_client, user.email, "wrong", REMOTE_ADDR="203.0.113.99"), 401, "not_authenticated")
    response = _login(api_client, user.email, REMOTE_ADDR="198.51.100.1")
    _assert_throttled(response, 120)  # the next failure doubled it
    assert int(response["Retry-After"]) > 60
    clock.now += 121
    assert _login(api_client, user.email, REMOTE_ADDR="198.51.100.1").status_code == 200


def test_successful_sign_ins_never_count_so_an_office_signs_in_behind_one_address(api_client, make_user):
    for _ in range(30):
        assert _login(api_client, make_user("employee").email, REMOTE_ADDR="198.51.100.20").status_code == 200


def test_a_success_forgives_the_persons_earlier_mistakes(api_client, make_user):
    user = make_user("employee")
    for _ in range(4):
        _login(api_client, user.email, "wrong")
    assert _login(api_client, user.email).status_code == 200

    for _ in range(4):
        assert_error(_login(api_client, user.email, "wrong"), 401, "not_authenticated")
    assert _login(api_client, user.email).status_code == 200


def test_twenty_failures_from_one_client_on_any_emails_refuse_it(api_client, make_user):
    user = make_user("employee")
    for n in range(20):
        assert_error(_login(api_client, f"guess{n}@coveris.test", "wrong"), 401, "not_authenticated")

    _assert_throttled(_login(api_client, user.email), 3600)
    assert _login(api_client, user.email, REMOTE_ADDR="10.9.9.9").status_code == 200  # another client is not


def test_token_endpoint_shares_the_sign_in_policy(api_client, make_user):
    user = make_user("employee")
    for _ in range(5):
        _login(api_client, user.email, "wrong")

    response = api_client.post(TOKEN_URL, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    _assert_throttled(response, 3600)


def test_malformed_login_bodies_count_against_the_client(api_client, make_user):
    user = make_user("employee")
    for _ in range(20):
        assert_error(api_client.post(LOGIN_URL, {}, format="json"), 400, "validation_error")

    _assert_throttled(_login(api_client, user.email), 3600)


# --- the admin signs in under the same policy ---------------------------------------------------------------


def _admin_login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password}, **extra)


def _signed_in_to_admin(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_admin_refuses_the_right_password_after_ten_wrong_ones(client, make_user):
    user = make_user("hr")
    for _ in range(10):
        response = _admin_login(client, user.email, "wrong")
        assert response.status_code == 200
        assert not _signed_in_to_admin(response)

    response = _admin_login(client, user.email)

    assert not _signed_in_to_admin(response)
    assert "Too many failed sign-ins" in response.content.decode()


def test_an_account_locked_on_the_api_is_locked_in_the_admin_too(client, api_client, make_user):
    user = make_user("hr")
    for _ in range(5):
        _login(api_client, user.email, "wrong", REMOTE_ADDR="192.0.2.50")

    response = _admin_login(client, user.email, REMOTE_ADDR="192.0.2.50")

    assert not _signed_in_to_admin(response)
    assert "Too many failed sign-ins" in response.content.decode()


def test_admin_failures_count_on_the_api(client, api_client, make_user):
    user = make_user("hr")
    for _ in range(5):
        _admin_login(client, user.email, "wrong", REMOTE_ADDR="192.0.2.51")

    _assert_throttled(_login(api_client, user.email, REMOTE_ADDR="192.0.2.51"), 3600)


def test_the_admin_still_signs_in_with_the_right_password(client, make_user):
    assert _signed_in_to_admin(_admin_login(client, make_user("hr").email))


def test_with_the_cache_down_the_admin_refuses_sign_in_without_a_500(client, make_user, settings):
    settings.CACHES = CLOSED_PORT_REDIS
    user = make_user("hr")

    response = _admin_login(client, user.email)

    assert response.status_code == 200
    assert "briefly unavailable" in response.content.decode()


def test_twenty_first_refresh_with_garbage_tokens_is_throttled_per_address(api_client, db):
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


# --- client address: X-Forwarded-For only from trusted proxies (issue 11 item 9) ------------------------


def _spoofed_logins(client, count=20, **extra):
    """Failed logins from one socket address, each claiming a different X-Forwarded-For."""
    for n in range(count):
        _login(client, f"spray{n}@coveris.test", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}", **extra)


def test_reached_directly_a_forwarded_for_header_buys_no_fresh_budget(api_client, make_user, settings):
    settings.TRUSTED_PROXIES = []
    user = make_user("employee")
    _spoofed_logins(api_client, REMOTE_ADDR="192.0.2.10")

    response = _login(api_client, user.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.200")

    _assert_throttled(response, 3600)


def test_a_peer_outside_the_trusted_networks_is_the_client_even_with_proxies_configured(
    api_client, make_user, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    user = make_user("employee")
    _spoofed_logins(api_client, REMOTE_ADDR="192.0.2.10")  # not a proxy of ours: its header is ignored

    _assert_throttled(_login(api_client, user.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="1.2.3.4"), 3600)


def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address(api_client, make_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    user = make_user("employee")
    proxy = {"REMOTE_ADDR": "10.1.0.1"}
    # One client prepends fake addresses; the proxy appends the real one (198.51.100.7), then a second
    # trusted hop (10.2.0.9) appends its own peer.
    for n in range(20):
        _login(
            api_client,
            f"spray{n}@coveris.test",
            "wrong",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7, 10.2.0.9",
            **proxy,
        )

    blocked = _login(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7", **proxy)
    other_client = _login(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)

    _assert_throttled(blocked, 3600)
    assert other_client.status_code == 200


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "client"),
    [
        ("192.0.2.1", "", [], "192.0.2.1"),
        ("192.0.2.1", "203.0.113.5", [], "192.0.2.1"),
        ("10.0.0.1", "203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.1", "198.51.100.1, 203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.1", "203.0.113.5:4711", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.1", "[2001:db8::7]:443", ["10.0.0.0/8"], "2001:db8::7"),
        ("10.0.0.1", "10.0.0.2, 10.0.0.3", ["10.0.0.0/8"], "10.0.0.1"),  # only proxies: the peer
        ("10.0.0.1", "", ["10.0.0.0/8"], "10.0.0.1"),
        ("10.0.0.1", "not-an-address", ["10.0.0.0/8"], "10.0.0.1"),
        ("::ffff:10.0.0.1", "203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
    ],
)
def test_client_address(rf, settings, remote, forwarded, trusted, client):
    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == client


# --- budgets that must not be shared by an office (issue 11 items 7 and 8) ------------------------------------


def test_two_colleagues_behind_one_address_refresh_more_than_twenty_times_together(token_pair, make_user):
    office = {"REMOTE_ADDR": "198.51.100.20"}
    pairs = [token_pair(make_user("employee"))[1] for _ in range(2)]
    clients = [APIClient() for _ in pairs]
    refresh = [pair.refresh for pair in pairs]

    for _ in range(15):  # 5-minute access tokens: ~12 refreshes an hour each; 30 together is above 20
        for n, client in enumerate(clients):
            response = client.post(REFRESH_URL, {"refresh": refresh[n]}, format="json", **office)
            assert response.status_code == 200, response.content
            refresh[n] = response.json()["refresh"]


def test_the_refresh_budget_is_per_session(token_pair, monkeypatch):
    monkeypatch.setattr(TokenRefreshRateThrottle, "THROTTLE_RATES", {"token_refresh": "2/minute"})
    _, pair = token_pair()
    client = APIClient()
    token = pair.refresh
    for _ in range(2):
        token = client.post(REFRESH_URL, {"refresh": token}, format="json").json()["refresh"]

    _assert_throttled(client.post(REFRESH_URL, {"refresh": token}, format="json"), 60)
    # Another session of the same address is untouched.
    _, other = token_pair()
    assert client.post(REFRESH_URL, {"refresh": other.refresh}, format="json").status_code == 200


def test_csrf_and_schema_do_not_spend_the_anonymous_budget(api_client, db, monkeypatch):
    monkeypatch.setattr(CoverisAnonRateThrottle, "THROTTLE_RATES", {"anon": "3/hour"})

    csrf = [api_client.get(CSRF_URL).status_code for _ in range(10)]
    schema = [api_client.get("/api/schema/").status_code for _ in range(5)]

    assert csrf == [200] * 10
    assert schema == [200] * 5


def test_the_schema_has_its_own_budget(api_client, db, monkeypatch):
    monkeypatch.setattr(SchemaRateThrottle, "THROTTLE_RATES", {"schema": "2/hour"})
    for _ in range(2):
        assert api_client.get("/api/schema/").status_code == 200

    _assert_throttled(api_client.get("/api/schema/"), 3600)


class _Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def test_a_working_day_of_fifty_colleagues_behind_one_address_never_sees_a_429(rf, token_pair, make_user, monkeypatch):
    """8 hours, 50 signed-in users, one office address: each tab loads the SPA (CSRF token, /me/, schema
    now and then), calls the API every minute and refreshes every 5 minutes (access tokens live 5).
    Every throttle decision is asked of the real throttle classes of the real views, on a simulated clock."""
    from apps.users.api.views import CsrfView, MeView, RefreshView

    clock = _Clock()
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(clock))
    office = "198.51.100.20"
    users = [token_pair(make_user("employee")) for _ in range(50)]

    def allowed(view_class, request) -> bool:
        view = view_class()
        drf_request = view.initialize_request(request)
        return all(throttle.allow_request(drf_request, view) for throttle in view.get_throttles())

    def get(path, access=None):
        request = rf.get(path, REMOTE_ADDR=office)
        if access is not None:
            request.META["HTTP_AUTHORIZATION"] = f"Bearer {access}"
        return request

    refused = []
    for minute in range(8 * 60):
        clock.now += 60
        for n, (_user, pair) in enumerate(users):
            checks = []
            if minute % 60 == n % 60:  # a page load an hour
                checks += [(CsrfView, get("/api/auth/csrf/")), (MeView, get("/api/auth/me/", access=pair.access))]
            if minute % 5 == n % 5:
                request = rf.post(
                    REFRESH_URL, {"refresh": pair.refresh}, REMOTE_ADDR=office, content_type="application/json"
                )
                checks.append((RefreshView, request))
            checks.append((MeView, get("/api/employees/", access=pair.access)))  # the user budget
            refused += [(minute, n, view.__name__) for view, request in checks if not allowed(view, request)]

    assert refused == []


# --- the cache unreachable (issue 11 item 3): general budgets fail open, sign-in fails closed, never 500 -----

CLOSED_PORT_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def cache_down(settings, caplog):
    settings.CACHES = CLOSED_PORT_REDIS
    throttles._fallback_cache.clear()  # per process: other tests' fallback counts must not leak in
    caplog.set_level("WARNING", logger="coveris.throttles")
    return caplog


def test_with_the_cache_down_reads_and_writes_go_on_with_a_warning(cache_down, auth_client, make_user):
    client, user = auth_client("admin")

    assert client.get(ME_URL).json()["id"] == user.id
    assert client.get("/api/employees/").status_code == 200
    assert client.post("/api/org-units/", {"code": "X1", "name": "Unit"}, format="json").status_code == 201
    assert any("cache unreachable" in record.getMessage() for record in cache_down.records)


def test_with_the_cache_down_the_general_budget_still_counts_per_process(cache_down, auth_client, monkeypatch):
    monkeypatch.setattr(CoverisUserRateThrottle, "THROTTLE_RATES", {"user": "3/hour"})
    client, _ = auth_client("admin")

    statuses = [client.get(ME_URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("url", [LOGIN_URL, TOKEN_URL])
def test_with_the_cache_down_sign_in_is_refused_with_503_and_retry_after(cache_down, api_client, make_user, url):
    user = make_user("employee")

    response = api_client.post(url, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    error = assert_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert error["details"] == {"retry_after_seconds": int(response["Retry-After"])}
    assert "coveris_access" not in response.cookies


def test_with_the_cache_down_refresh_and_logout_go_on(cache_down, api_client, token_pair):
    _, pair = token_pair()

    rotated = api_client.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")

    assert rotated.status_code == 200, rotated.content
    assert api_client.post(LOGOUT_URL, {"refresh": rotated.json()["refresh"]}, format="json").status_code == 204


def test_with_the_cache_down_readyz_names_the_cache(cache_down, api_client, db):
    response = api_client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.parametrize("role", ["auditor", "manager", "employee", ""])
def test_a_role_without_the_admin_is_told_so_not_that_the_password_is_wrong(client, make_user, role):
    user = make_user(role)
    for _ in range(7):  # past the 5 failures per (email, client): a right password is not a failure
        response = _admin_login(client, user.email)
        assert response.status_code == 200
        assert not _signed_in_to_admin(response)
        [error] = response.context["form"].non_field_errors()
        assert "Your password was accepted" in error
        assert "open to HR staff and admins only" in error
        assert f"role is {user.get_role_display() if role else 'none'}" in error
        assert "correct" not in error.lower()  # Django's "Please enter the correct email and password"
        assert "Too many failed sign-ins" not in response.content.decode()

    response = _admin_login(client, user.email, "wrong")
    [error] = response.context["form"].non_field_errors()
    assert "password was accepted" not in error  # a wrong password says nothing about the role
    assert "correct" in error.lower()
