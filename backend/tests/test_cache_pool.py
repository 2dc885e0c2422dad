"""``backend.cache``: every cache object of a process reuses one Redis pool (ADR 0031) and one client (ADR 0034)."""

import pytest
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from backend.cache import RedisCache as SharedClientRedisCache
from backend.cache import SharedConnectionPool

OPTIONS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, "pool_class": "backend.cache.SharedConnectionPool"}


def _pool(location: str, **options):
    # What a request gets under ASGI: a new RedisCache (and client) per request context.
    cache = RedisCache(location, {"OPTIONS": {**OPTIONS, **options}})
    return cache._cache._get_connection_pool(write=True)


def test_a_new_cache_object_reuses_the_process_pool():
    first, second = _pool("redis://127.0.0.1:1/0"), _pool("redis://127.0.0.1:1/0")

    assert isinstance(first, SharedConnectionPool)
    assert first is second


def test_another_server_or_other_options_get_their_own_pool():
    pool = _pool("redis://127.0.0.1:1/0")

    assert _pool("redis://127.0.0.1:1/1") is not pool
    assert _pool("redis://127.0.0.1:1/0", socket_timeout=0.3) is not pool


def test_an_unreachable_server_still_raises_redis_errors():
    # The throttles' fail-open and the sign-in policy's fail-closed answers key on RedisError (ADR 0020).
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": OPTIONS})

    with pytest.raises(RedisError):
        cache.get("anything")


def _client(location: str = "redis://127.0.0.1:1/0", **options):
    # What a request gets under ASGI: a new cache object per request context, here our backend's.
    cache = SharedClientRedisCache(location, {"OPTIONS": {**OPTIONS, **options}})
    return cache, cache._cache.get_client(write=True)


def test_a_new_cache_object_reuses_the_process_client_and_its_redis_object():
    first, first_redis = _client()
    second, second_redis = _client()

    assert first is not second
    assert first._cache is second._cache
    assert first_redis is second_redis  # Django's own client builds a redis.Redis on every call
    assert first_redis.connection_pool is _pool("redis://127.0.0.1:1/0")


def test_another_server_or_other_options_get_their_own_client():
    _, redis = _client()

    assert _client("redis://127.0.0.1:1/1")[1] is not redis
    assert _client(socket_timeout=0.3)[1] is not redis


def test_the_shared_client_on_an_unreachable_server_still_raises_redis_errors():
    cache, _ = _client()

    with pytest.raises(RedisError):
        cache.get("anything")
