"""Redis for Django's cache: one connection pool and one client per worker process, shared by every request.

Django keeps its cache objects in a context-local store: under ASGI every request runs in a fresh context, so it
gets a fresh ``RedisCache``, whose client builds a fresh ``redis.ConnectionPool``, which opens a fresh TCP connection
to Redis (handshake, ``HELLO``, ``CLIENT SETINFO``, reading the installed redis-py's version from package metadata)
and drops it when the request's objects are collected. Measured under the production command: a third of an
authenticated list request's worker time went to that (the throttle and the user snapshot read the cache on every
request).

- ``SharedConnectionPool`` (ADR 0031) is the ``pool_class`` Django's ``RedisCache`` documents as an option:
  ``from_url`` answers the pool already made in this process for the same URL and options, so connections are opened
  once per worker and reused. redis-py's pools are thread-safe and detect a fork (a child process gets fresh
  connections); the key holds the process id as well, so a forked worker never shares its parent's pool object.
- ``RedisCache`` (ADR 0034) is Django's backend whose client object (``RedisCacheClient``: options parsed, classes
  imported) is made once per process for the same servers and options, and which hands out one ``redis.Redis`` per
  pool instead of a new one per call: Django builds a ``redis.Redis`` for every ``get``/``set`` (its constructor
  copies some two hundred response callbacks into a case-insensitive dict, ~60 µs of CPU, three times a request).
  A ``redis.Redis`` on a pool is thread-safe (each command checks a connection out). Everything else — keys,
  serializer, errors (``RedisError``, which the throttles and sign-in policy key on) — is Django's.
"""

import os
import threading
from functools import cached_property

import redis
from django.core.cache.backends import redis as django_redis


class SharedConnectionPool(redis.ConnectionPool):
    _pools: dict[tuple, "SharedConnectionPool"] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs):
        key = (os.getpid(), url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._pools.get(key)
            if pool is None:
                pool = cls._pools[key] = super().from_url(url, **kwargs)
            return pool


class RedisCacheClient(django_redis.RedisCacheClient):
    """Django's client, keeping one ``redis.Redis`` per connection pool."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    """Django's ``RedisCache`` with one ``RedisCacheClient`` per process, servers and options (see the module)."""

    _clients: dict[tuple, RedisCacheClient] = {}
    _lock = threading.Lock()

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (os.getpid(), tuple(self._servers), tuple(sorted((k, repr(v)) for k, v in self._options.items())))
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = self._class(self._servers, **self._options)
        return client
