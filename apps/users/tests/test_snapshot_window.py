"""The user snapshot and the user's throttle window in one Redis round trip (ADR 0040).

The script counts a request only when the snapshot's gate does not refuse its token, and the gate must refuse
exactly the tokens the snapshot refuses (``is_active``, ``token_revoked``); a request refused before the throttles
(401, 403) spends no budget, as with DRF's own order. Redis is fakeredis (its Lua runs the real script).
"""

import pickle
import random
import uuid

import fakeredis
import pytest
import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisSerializer

from apps.users import services, snapshots
from apps.users.snapshots import SNAPSHOT_FIELDS, UserSnapshot, user_snapshot_and_window
from apps.users.tests.conftest import ME_URL, assert_error
from backend.throttles import CountedWindow, CoverisUserRateThrottle

AUDIT_URL = "/api/audit/employee-transitions/"  # admin, hr and auditor only


@pytest.fixture
def redis_cache(settings, monkeypatch):
    """The default cache on (fake) Redis, as in production; the user budget 1000/hour."""
    settings.CACHES = {
        "default": {
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": f"redis://fake-snapshot-window-{uuid.uuid4().hex}:6379/0",
            "OPTIONS": {"connection_class": fakeredis.FakeRedisConnection},
        }
    }
    cache.clear()
    monkeypatch.setattr(CoverisUserRateThrottle, "THROTTLE_RATES", {"user": "1000/hour"})
    return cache


def _window_length(user) -> int:
    key = cache.make_and_validate_key(f"throttle_user_{user.pk}:window")
    return cache._cache.get_client(write=True).llen(key)


def _snapshot(active: bool, families: frozenset[str], not_before: int | None) -> UserSnapshot:
    values = tuple(active if name == "is_active" else None for name in SNAPSHOT_FIELDS)
    return UserSnapshot(values=values, revoked_families=families, not_before=not_before)


def _window(key: str = "w", now: float = 1_800_000_000.0) -> CountedWindow:
    backend = snapshots._redis()
    return CountedWindow(backend=backend, key=backend.make_and_validate_key(key), now=now, duration=3600, limit=5)


def test_the_gate_refuses_exactly_the_tokens_the_snapshot_refuses(redis_cache):
    rng = random.Random(8)
    families = [str(uuid.uuid4()) for _ in range(4)] + ["7", "17"]  # "7" must not match inside "17"
    checked = {True: 0, False: 0}
    for user_id in range(400):
        snapshot = _snapshot(
            active=rng.random() < 0.8,
            families=frozenset(rng.sample(families, rng.randint(0, 3))),
            not_before=rng.choice([None, 1_700_000_000, 1_700_000_500]),
        )
        snapshots._store(user_id, snapshot, only_if_absent=False)
        family = rng.choice([None, *families])
        issued_at = rng.choice([None, "1700000000", 1_699_999_999, 1_700_000_000, 1_700_000_001, 1_700_000_600])
        window = _window(f"w{user_id}")

        answer = user_snapshot_and_window(user_id, family=family, issued_at=issued_at, window=window)

        refused = not snapshot.is_active or snapshot.token_revoked(family=family, issued_at=issued_at)
        assert answer == snapshot
        assert window.consumed is refused, (snapshot, family, issued_at)  # counted (not consumed) iff accepted
        assert window.allowed is not refused
        checked[refused] += 1
    assert min(checked.values()) > 50  # both sides well exercised


def test_a_missing_user_a_missing_snapshot_or_gate_is_never_counted(redis_cache, make_user):
    snapshots._store(1, snapshots._MISSING, only_if_absent=False)
    window = _window()
    assert user_snapshot_and_window(1, family=None, issued_at=1, window=window) is None
    assert window.consumed

    user = make_user("admin")
    cache.delete_many([snapshots._key(user.pk), snapshots._gate_key(user.pk)])
    window = _window()
    assert user_snapshot_and_window(user.pk, family=None, issued_at=1, window=window).values[0] == user.pk
    assert window.consumed  # a miss: loaded from the database and stored with its gate, not counted
    assert cache._cache.get_client().get(cache.make_and_validate_key(snapshots._gate_key(user.pk))) == b"1 -"

    cache.delete(snapshots._gate_key(user.pk))  # a snapshot written without a gate (say, by an older worker)
    window = _window()
    assert user_snapshot_and_window(user.pk, family=None, issued_at=1, window=window) is not None
    assert window.consumed


def test_a_request_costs_one_round_trip_and_counts_once(redis_cache, auth_client, monkeypatch):
    client, user = auth_client("admin")
    assert client.get(ME_URL).status_code == 200
    commands = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        commands.append(args[0])
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)

    assert client.get(ME_URL).status_code == 200

    assert commands == ["EVALSHA"]  # the snapshot and the window in one script (before: GET, then EVALSHA)
    assert _window_length(user) == 2


def test_revoked_and_inactive_tokens_spend_no_budget(redis_cache, token_pair, make_user):
    user, pair = token_pair(make_user("admin"))
    client = fakeclient(pair.access)
    assert client.get(ME_URL).status_code == 200
    assert _window_length(user) == 1

    services.user_sessions_revoke(user=user)
    for _ in range(3):
        assert_error(client.get(ME_URL), 401, "token_invalid")  # the first reloads the snapshot, then the gate
    assert _window_length(user) == 1

    other, pair = token_pair(make_user("admin"))
    client = fakeclient(pair.access)
    other.is_active = False
    other.save()
    assert client.get(ME_URL).status_code == 401
    assert _window_length(other) == 0


def test_a_request_refused_by_the_permissions_gets_its_entry_back(redis_cache, auth_client):
    client, user = auth_client("employee")
    assert client.get(ME_URL).status_code == 200
    for _ in range(3):
        assert_error(client.get(AUDIT_URL), 403, "permission_denied")
    assert _window_length(user) == 1  # as DRF: permissions before throttles, a 403 spends nothing


def test_a_stale_gate_that_counted_a_refused_token_gives_the_entry_back(redis_cache, auth_client):
    client, user = auth_client("admin")
    user.is_active = False
    user.save()
    # The gate still says "active" (written before the change by a process that then lost the race, say).
    gate = cache.make_and_validate_key(snapshots._gate_key(user.pk))
    cache._cache.get_client(write=True).set(gate, "1 -")

    assert client.get(ME_URL).status_code == 401

    assert _window_length(user) == 0


def test_the_throttle_still_refuses_with_retry_after_when_counted_in_advance(redis_cache, auth_client, monkeypatch):
    monkeypatch.setattr(CoverisUserRateThrottle, "THROTTLE_RATES", {"user": "2/hour"})
    client, user = auth_client("admin")

    statuses = [client.get(ME_URL).status_code for _ in range(2)]
    refused = client.get(ME_URL)

    assert statuses == [200, 200]
    assert_error(refused, 429, "throttled")
    assert 3500 < int(refused["Retry-After"]) <= 3600
    assert _window_length(user) == 2


def fakeclient(access: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_a_snapshot_read_again_is_decoded_once_and_a_change_acts_at_once(redis_cache, auth_client, monkeypatch):
    """ADR 0051: the same bytes from Redis are unpickled once per process; a change to the user is new bytes, read
    on the next request — a role change and a deactivation act at once with the decoded snapshot warm."""
    snapshots._decoded_snapshots.clear()
    client, user = auth_client("admin")
    assert client.get(AUDIT_URL).status_code == 200
    decoded = []
    loads = RedisSerializer.loads
    monkeypatch.setattr(RedisSerializer, "loads", lambda self, data: decoded.append(data) or loads(self, data))
    for _ in range(3):
        assert client.get(AUDIT_URL).status_code == 200
    assert decoded == []  # the bytes were read from Redis each time, decoded once

    user.role = "employee"
    user.save()
    for _ in range(2):  # the first reloads the snapshot from the database, the second reads its new bytes
        assert_error(client.get(AUDIT_URL), 403, "permission_denied")
    assert len(decoded) == 1
    user.is_active = False
    user.save()
    for _ in range(2):
        assert client.get(AUDIT_URL).status_code == 401


def test_a_decoded_snapshot_gives_a_new_user_every_time_and_pickles_as_before():
    snapshot = _snapshot(active=True, families=frozenset({"3"}), not_before=None)
    fresh = pickle.dumps(snapshot)
    first = snapshot.user()
    first.first_name = "changed by a request"
    second = snapshot.user()
    assert second is not first
    assert second.first_name is None
    assert second.is_active is True
    assert pickle.dumps(snapshot) == fresh  # what it worked out for user() is not stored with it
    assert pickle.loads(fresh) == snapshot
