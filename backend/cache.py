"""One Redis connection pool per worker process, shared by every request (ADR 0031).

Django keeps its cache objects in a context-local store: under ASGI every request runs in a fresh context, so it
gets a fresh ``RedisCache``, whose client builds a fresh ``redis.ConnectionPool``, which opens a fresh TCP connection
to Redis (handshake, ``HELLO``, ``CLIENT SETINFO``, reading the installed redis-py's version from package metadata)
and drops it when the request's objects are collected. Measured under the production command: a third of an
authenticated list request's worker time went to that (the throttle and the user snapshot read the cache on every
request).

``SharedConnectionPool`` is the ``pool_class`` Django's ``RedisCache`` documents as an option: ``from_url`` answers
the pool already made in this process for the same URL and options, so connections are opened once per worker and
reused. redis-py's pools are thread-safe and detect a fork (a child process gets fresh connections); the key holds
the process id as well, so a forked worker never shares its parent's pool object.
"""

import os
import threading

import redis


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
