"""Auth services: authenticate, issue, rotate (use-once, race-safe) and revoke."""

import threading

import pytest
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users import services
from apps.users.models import User
from apps.users.tests.factories import DEFAULT_PASSWORD, UserFactory
from backend.errors import NotAuthenticatedError, TokenInvalidError


@pytest.mark.django_db
def test_user_authenticate_accepts_good_credentials_case_insensitively(rf):
    user = UserFactory(email="case@coveris.test")

    request = rf.post("/")

    authenticated = services.user_authenticate(request=request, email=" CASE@Coveris.test ", password=DEFAULT_PASSWORD)

    assert authenticated == user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        ("known@coveris.test", "wrong", True),
        ("unknown@coveris.test", DEFAULT_PASSWORD, True),
        ("known@coveris.test", DEFAULT_PASSWORD, False),
    ],
)
def test_user_authenticate_refuses_with_one_error(rf, email, password, active):
    UserFactory(email="known@coveris.test", is_active=active)

    with pytest.raises(NotAuthenticatedError):
        services.user_authenticate(request=rf.post("/"), email=email, password=password)


@pytest.mark.django_db
def test_token_pair_issue_records_an_outstanding_token_and_last_login():
    user = UserFactory()
    assert user.last_login is None

    pair = services.token_pair_issue(user=user)

    assert pair.user == user
    assert OutstandingToken.objects.filter(user=user, jti=RefreshToken(pair.refresh)["jti"]).exists()
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db
def test_token_pair_rotate_blacklists_the_old_token_and_issues_a_new_pair():
    user = UserFactory()
    first = services.token_pair_issue(user=user)

    second = services.token_pair_rotate(raw_refresh=first.refresh)

    assert second.user == user
    assert second.refresh != first.refresh
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(first.refresh, verify=False)["jti"]).exists()
    with pytest.raises(TokenInvalidError):
        services.token_pair_rotate(raw_refresh=first.refresh)
    assert services.token_pair_rotate(raw_refresh=second.refresh).user == user


@pytest.mark.django_db
def test_token_pair_rotate_is_not_a_sign_in():
    user = UserFactory()
    pair = services.token_pair_issue(user=user)
    user.refresh_from_db()
    signed_in_at = user.last_login

    services.token_pair_rotate(raw_refresh=pair.refresh)

    user.refresh_from_db()
    assert user.last_login == signed_in_at


@pytest.mark.django_db
def test_token_pair_rotate_refuses_a_token_that_was_never_recorded():
    user = UserFactory()
    pair = services.token_pair_issue(user=user)
    OutstandingToken.objects.all().delete()

    with pytest.raises(TokenInvalidError):
        services.token_pair_rotate(raw_refresh=pair.refresh)


@pytest.mark.django_db
def test_token_pair_rotate_refuses_an_inactive_user_and_writes_nothing():
    user = UserFactory()
    pair = services.token_pair_issue(user=user)
    # A queryset update skips the signal that ends a deactivated user's sessions: the rotation's own check remains.
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(TokenInvalidError):
        services.token_pair_rotate(raw_refresh=pair.refresh)

    assert not BlacklistedToken.objects.exists()
    assert OutstandingToken.objects.count() == 1


@pytest.mark.django_db
def test_token_pair_rotate_losing_the_race_on_the_blacklist_row_is_token_invalid(monkeypatch):
    """If another transaction blacklisted the token between our check and our insert, the unique row refuses us."""
    user = UserFactory()
    pair = services.token_pair_issue(user=user)
    outstanding = OutstandingToken.objects.get(jti=RefreshToken(pair.refresh)["jti"])
    BlacklistedToken.objects.create(token=outstanding)
    # Simulate the window: the token verifies and the blacklist check sees nothing.
    monkeypatch.setattr(RefreshToken, "check_blacklist", lambda self: None)
    real_filter = BlacklistedToken.objects.filter

    class _NothingYet:
        def exists(self):
            return False

        def values_list(self, *args, **kwargs):
            return self

        def first(self):
            return None

    monkeypatch.setattr(
        BlacklistedToken.objects, "filter", lambda *a, **kw: _NothingYet() if "token" in kw else real_filter(*a, **kw)
    )

    with pytest.raises(TokenInvalidError):
        services.token_pair_rotate(raw_refresh=pair.refresh)

    assert OutstandingToken.objects.count() == 1, "no new pair was issued"


@pytest.mark.django_db
def test_token_revoke_is_idempotent_and_ignores_garbage():
    pair = services.token_pair_issue(user=UserFactory())

    assert services.token_revoke(raw_refresh=pair.refresh) is True
    assert services.token_revoke(raw_refresh=pair.refresh) is False
    assert services.token_revoke(raw_refresh="garbage") is False
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_exactly_one_succeeds():
    threads_count = 8
    user = UserFactory()
    raw_refresh = services.token_pair_issue(user=user).refresh
    barrier = threading.Barrier(threads_count)
    successes: list[services.TokenPair] = []
    refusals: list[Exception] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=10)
            pair = services.token_pair_rotate(raw_refresh=raw_refresh)
            with lock:
                successes.append(pair)
        except TokenInvalidError as exc:
            with lock:
                refusals.append(exc)
        except BaseException as exc:  # anything else is a bug (e.g. an IntegrityError leaking as a 500)
            with lock:
                unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert unexpected == []
    assert len(successes) == 1
    assert len(refusals) == threads_count - 1
    old_jti = RefreshToken(raw_refresh, verify=False)["jti"]
    assert BlacklistedToken.objects.filter(token__jti=old_jti).count() == 1
    assert OutstandingToken.objects.filter(user=user).count() == 2, "one original, one rotated"
