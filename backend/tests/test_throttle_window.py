"""The throttles' sliding window on Redis (one Lua script, ADR 0034) decides exactly as DRF's own implementation.

Redis is fakeredis here (its Lua runs the real script in an embedded interpreter), so the suite needs no server.
"""

import random
import threading

import fakeredis
import pytest
from django.core.cache.backends.locmem import LocMemCache

from apps.users import snapshots
from apps.users.tests.conftest import ME_URL, assert_error
from backend import throttles
from backend.cache import RedisCache
from backend.throttles import CoverisThrottle, CoverisUserRateThrottle, sliding_window


def _fake_redis_cache(location: str = "redis://fake-throttles:6379/0") -> RedisCache:
    cache = RedisCache(location, {"KEY_PREFIX": "t", "OPTIONS": {"connection_class": fakeredis.FakeRedisConnection}})
    cache.clear()
    return cache


class _Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class _Throttle(CoverisThrottle):
    scope = "test"

    def get_cache_key(self, request, view):
        return "throttle_test_someone"


def _decisions(cache, rate: str, steps: list[float]) -> list[tuple[bool, float | None]]:
    """Each request's answer, and the wait DRF would put in ``Retry-After`` when it is refused."""
    clock = _Clock()
    throttle_class = type("RatedThrottle", (_Throttle,), {"rate": rate})
    answers = []
    for step in steps:
        clock.now += step
        throttle = throttle_class()
        throttle.cache = cache
        throttle.timer = clock
        allowed = throttle.allow_request(None, None)
        answers.append((allowed, None if allowed else throttle.wait()))
    return answers


@pytest.mark.parametrize("rate", ["1/second", "3/second", "5/minute", "20/hour", "0/minute"])
@pytest.mark.parametrize("seed", range(4))
def test_redis_decides_as_drf_does_on_any_sequence_of_requests(rate, seed):
    rng = random.Random(f"{rate}-{seed}")
    # Bursts, pauses, requests on the window's very edge (a step of exactly the window or a fraction of it).
    steps = [rng.choice([0.0, 0.001, 0.25, 0.5, 1.0, 7.5, 60.0, 61.0, 900.0, 3600.0]) for _ in range(300)]

    drf = _decisions(LocMemCache(f"drf-{rate}-{seed}", {}), rate, steps)
    ours = _decisions(_fake_redis_cache(), rate, steps)

    assert ours == drf  # the same answers and the same waits (the times round-trip exactly through the script)
    assert any(allowed for allowed, _ in drf) or rate.startswith("0/")
    assert not all(allowed for allowed, _ in drf)  # the sequences do reach the limit


def test_the_window_is_a_list_that_expires_with_the_rate():
    cache = _fake_redis_cache()
    client = cache._cache.get_client(write=True)

    assert sliding_window(client, "w", 100.0, 60, 2) == (True, 1, 100.0)
    assert sliding_window(client, "w", 110.5, 60, 2) == (True, 2, 100.0)
    assert sliding_window(client, "w", 120.0, 60, 2) == (False, 2, 100.0)  # refused: not recorded
    assert sliding_window(client, "w", 160.0, 60, 2) == (True, 2, 110.5)  # 100.0 left the window (<= 160 - 60)

    assert client.lrange("w", 0, -1) == [b"160.0", b"110.5"]
    assert 0 < client.ttl("w") <= 60


def test_the_script_is_loaded_again_after_the_server_forgot_it():
    cache = _fake_redis_cache()
    client = cache._cache.get_client(write=True)
    sliding_window(client, "w", 100.0, 60, 5)
    client.script_flush()

    assert sliding_window(client, "w", 101.0, 60, 5) == (True, 2, 100.0)


def test_concurrent_requests_never_lose_an_entry():
    """DRF's read-then-write loses one of two concurrent entries; the script is atomic on the server."""
    cache = _fake_redis_cache()
    client = cache._cache.get_client(write=True)
    allowed = []
    barrier = threading.Barrier(8)

    def hammer():
        barrier.wait()
        for _ in range(25):
            allowed.append(sliding_window(client, "w", 1000.0, 3600, 120)[0])

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert allowed.count(True) == 120
    assert client.llen("w") == 120


def test_a_view_on_redis_refuses_past_the_rate_with_retry_after(settings, auth_client, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": "redis://fake-throttle-view:6379/0",
            "OPTIONS": {"connection_class": fakeredis.FakeRedisConnection},
        }
    }
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(CoverisUserRateThrottle, "THROTTLE_RATES", {"user": "3/hour"})
    client, user = auth_client("admin")

    statuses = [client.get(ME_URL).status_code for _ in range(3)]
    refused = client.get(ME_URL)

    assert statuses == [200, 200, 200]
    error = assert_error(refused, 429, "throttled")
    assert 3500 < int(refused["Retry-After"]) <= 3600
    assert error["details"] == {"retry_after_seconds": int(refused["Retry-After"])}
    window = cache.make_and_validate_key(f"throttle_user_{user.pk}:window")
    assert cache._cache.get_client(write=True).llen(window) == 3


def test_with_our_backend_unreachable_the_window_fails_open_to_the_process_counter(settings, auth_client, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    throttles._fallback_cache.clear()
    # The "cache unreachable" warnings are logged at most once a minute (a module global): put the clocks back after
    # this test, so a later test that expects the warning still sees it.
    monkeypatch.setattr(throttles, "_last_warning", throttles._last_warning)
    monkeypatch.setattr(snapshots, "_last_warning", snapshots._last_warning)
    monkeypatch.setattr(CoverisUserRateThrottle, "THROTTLE_RATES", {"user": "2/hour"})
    client, _ = auth_client("admin")

    assert [client.get(ME_URL).status_code for _ in range(3)] == [200, 200, 429]  # per process, as ADR 0020 says
