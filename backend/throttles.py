"""Throttles; counters live in Django's cache (Redis when REDIS_URL is set, shared by all workers).

Three decisions live here (ADR 0020, docs/stack/api-conventions.md "Throttles"):

- **Who the client is**: the socket peer, unless that peer is a configured proxy (``TRUSTED_PROXIES``,
  CIDRs); only then is ``X-Forwarded-For`` read, right to left, skipping trusted hops.
- **What a budget is keyed on**: anonymous and sign-in budgets on the client address; a signed-in user's
  on the user; refresh and logout on the session the token belongs to, so colleagues behind one address
  (an office NAT) do not share a budget.
- **What an unreachable cache means**: general budgets (anon, user, refresh, logout, schema) fail open to a
  per-process counter with a warning — an outage of Redis must not be an outage of the API; the sign-in
  policy (``backend.signin``), which guards passwords, fails closed with ``503`` and ``Retry-After``.

On Redis the history lives in a Redis list and one Lua script does DRF's whole decision in one atomic round trip
(ADR 0034): DRF's own ``allow_request`` reads the pickled history, then writes it back — two round trips, and two
workers answering the same user at once both append to the history they read, one of the two entries lost. On any
other cache (local memory in development and tests, the per-process fallback) DRF's implementation runs as it is.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import NoScriptError, RedisError
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from backend.errors import ServiceUnavailableError

logger = logging.getLogger("coveris.throttles")

# What an unreachable cache raises: redis-py's errors, socket errors underneath them.
CACHE_ERRORS = (RedisError, OSError)
CACHE_DOWN_RETRY_AFTER = 30
_WARN_EVERY_SECONDS = 60
_last_warning = 0.0
# Per process: while the shared cache is down, fail-open budgets still count here (limits become per worker).
_fallback_cache = LocMemCache("coveris-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})


# --- the client address ----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def client_address(request) -> str:
    """The client's address: the socket peer, or — when the peer is a trusted proxy — the rightmost
    ``X-Forwarded-For`` entry that is not itself a trusted proxy. Entries left of it were written by the
    client and are never believed; without ``TRUSTED_PROXIES`` the header is ignored altogether."""
    meta = getattr(request, "META", request)
    remote = meta.get("REMOTE_ADDR") or ""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _address(remote)
    if not networks or peer is None or not any(peer in network for network in networks):
        return str(peer) if peer is not None else remote
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return str(peer)  # an entry no proxy of ours wrote: stop believing the header here
        if not any(address in network for network in networks):
            return str(address)
    return str(peer)


# --- failure of the shared cache ----------------------------------------------------------------------


def _warn_cache_down(scope: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("throttles: cache unreachable (%s); per-process limits, sign-in refused: %s", scope, exc)


# --- the sliding window on Redis: DRF's algorithm, one atomic round trip -----------------------------------

# The window as a Lua function, so another script can count a request in the same round trip (the user snapshot's,
# apps.users.snapshots). Arguments: the history's key, a list of request times (seconds, as written by the caller's
# clock), newest first; now; the window (whole seconds); the budget. DRF's steps: drop the times at or before
# now - window; refuse when as many as the budget remain; else record now and keep the key for a window. Answers
# {allowed (1/0), the times in the window (now included when allowed), the oldest of them (a string: Lua would
# truncate a number)}.
WINDOW_LUA_FUNCTION = """
local function window(key, now, duration, limit)
  local edge = tonumber(now) - tonumber(duration)
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and tonumber(oldest) <= edge do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  local count = redis.call('LLEN', key)
  if count >= tonumber(limit) then
    return {0, count, oldest or now}
  end
  redis.call('LPUSH', key, now)
  redis.call('EXPIRE', key, duration)
  return {1, count + 1, oldest or now}
end
"""
# KEYS[1]: the history; ARGV: now, the window, the budget.
SLIDING_WINDOW_LUA = WINDOW_LUA_FUNCTION + "return window(KEYS[1], ARGV[1], ARGV[2], ARGV[3])\n"
SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW_LUA.encode(), usedforsecurity=False).hexdigest()  # EVALSHA names it


def run_script(client, lua: str, sha: str, keys: tuple, args: tuple):
    """``EVALSHA``, or ``EVAL`` when the server does not know the script yet (first use, ``SCRIPT FLUSH``, restart)."""
    try:
        return client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(lua, len(keys), *keys, *args)


def window_args(now: float, duration: int, limit: int) -> tuple[str, int, int]:
    """The window function's arguments after its key: the caller's time as a ``repr`` float (it round-trips)."""
    return repr(float(now)), int(duration), int(limit)


def sliding_window(client, key: str, now: float, duration: int, limit: int) -> tuple[bool, int, float]:
    """One request against the window kept at ``key``: (allowed, times in the window, the oldest of them)."""
    allowed, count, oldest = run_script(
        client, SLIDING_WINDOW_LUA, SLIDING_WINDOW_SHA, (key,), window_args(now, duration, limit)
    )
    return bool(allowed), int(count), float(oldest)


# --- counted with the user snapshot: one round trip for authentication and the user's budget (ADR 0040) --------


@dataclass
class CountedWindow:
    """A request already counted against the user's window by authentication's script, for the throttle to use.

    ``allowed`` with an entry recorded at ``now``; ``consumed`` once the throttle has used it. A request refused
    between the two (permissions: 403) gets its entry back (``refund_counted_window``), so, as with DRF, only
    requests that reach the throttles spend a budget.
    """

    backend: RedisCache  # the throttle's cache
    key: str  # the Redis key of the window (the cache's full key)
    now: float
    duration: int
    limit: int
    allowed: bool = False
    count: int = 0
    oldest: float = 0.0
    consumed: bool = False


_COUNTED = "_coveris_counted_window"  # attribute of the DRF request


def user_window_to_count(request, user_id: int) -> CountedWindow | None:
    """The window the view's user throttle will count this request in, when it can be counted in advance: a DRF
    request of a view whose throttles include ``CoverisUserRateThrottle`` with a rate, on our Redis cache."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None:
        return None
    for throttle in view.get_throttles():
        if isinstance(throttle, CoverisUserRateThrottle) and throttle.rate is not None:
            backend = throttle._redis()
            if backend is None:
                return None
            # UserRateThrottle's key for a signed-in user: the user's pk, which is the token's (checked by the caller).
            key = throttle.cache_format % {"scope": throttle.scope, "ident": user_id}
            return CountedWindow(
                backend=backend,
                key=backend.make_and_validate_key(f"{key}:window"),
                now=throttle.timer(),
                duration=throttle.duration,
                limit=throttle.num_requests,
            )
    return None


def keep_counted_window(request, counted: CountedWindow) -> None:
    setattr(request, _COUNTED, counted)


def refund_counted_window(request) -> None:
    """Take back the entry of a request counted in advance that never reached the throttles (refused on the way)."""
    counted = getattr(request, _COUNTED, None)
    if counted is None or counted.consumed or not counted.allowed:
        return
    counted.consumed = True
    try:
        counted.backend._cache.get_client(write=True).lrem(counted.key, 1, window_args(counted.now, 0, 0)[0])
    except CACHE_ERRORS as exc:  # the entry then ages out with its window
        _warn_cache_down("user", exc)


class CoverisThrottle(SimpleRateThrottle):
    """Base for every throttle: our client address, and a decided answer when the cache is unreachable."""

    fail_closed = False  # True: refuse with 503 when the cache is down (budgets that guard passwords)
    _window: tuple[int, float] | None = None  # Redis path: (times in the window, the oldest), for wait()

    def get_ident(self, request) -> str:
        return client_address(request)

    def _redis(self) -> RedisCache | None:
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        return backend if isinstance(backend, RedisCache) else None

    def _allow(self, request, view) -> bool:
        """DRF's ``allow_request``; on Redis, its history read, trimmed, checked and written in one script."""
        backend = self._redis()
        if backend is None:
            return super().allow_request(request, view)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = backend.make_and_validate_key(f"{self.key}:window")  # not DRF's key: a list, not a pickled value
        counted = getattr(request, _COUNTED, None)
        if counted is not None and not counted.consumed and counted.key == key:
            counted.consumed = True  # authentication's script counted this request already (ADR 0040)
            self.now = counted.now
            self._window = (counted.count, counted.oldest)
            return counted.allowed
        self.now = self.timer()
        client = backend._cache.get_client(key, write=True)
        allowed, count, oldest = sliding_window(client, key, self.now, self.duration, self.num_requests)
        self._window = (count, oldest)
        return allowed

    def wait(self) -> float | None:
        """DRF's ``wait`` (the remaining window spread over the requests still available) on either path."""
        if self._window is None:
            return super().wait()
        count, oldest = self._window
        remaining = self.duration - (self.now - oldest) if count else self.duration
        available = self.num_requests - count + 1
        return remaining / float(available) if available > 0 else None

    def allow_request(self, request, view) -> bool:
        self._window = None
        try:
            return self._allow(request, view)
        except CACHE_ERRORS as exc:
            _warn_cache_down(self.scope, exc)
            if self.fail_closed:
                raise ServiceUnavailableError(
                    "Sign-in is briefly unavailable (its attempt counters cannot be read); retry later.",
                    retry_after=CACHE_DOWN_RETRY_AFTER,
                ) from exc
            self.cache = _fallback_cache
            return super().allow_request(request, view)


class CoverisAnonRateThrottle(CoverisThrottle, AnonRateThrottle):
    """Anonymous requests per client address (100/h); the CSRF and schema endpoints are budgeted apart."""

    scope = "anon"


class CoverisUserRateThrottle(CoverisThrottle, UserRateThrottle):
    """Signed-in requests per user (1000/h), anonymous ones per client address."""

    scope = "user"


class SchemaRateThrottle(CoverisThrottle):
    """``/api/schema/`` per client address, apart from the anonymous budget (generating it is not free)."""

    scope = "schema"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _VerifiedRefresh(RefreshToken):
    """Signature and expiry verified; whether it was already used is the view's business (reuse detection)."""

    def check_blacklist(self) -> None:
        return None


def _session_ident(raw, token_class) -> str | None:
    """``fam:<session>`` (``user:<id>`` for tokens from before sessions) of a token that verifies, else None."""
    if not raw or not isinstance(raw, str):
        return None
    try:
        token = token_class(raw)
    except TokenError:
        return None
    if token.get("fam"):
        return f"fam:{token['fam']}"
    user_id = token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
    return f"user:{user_id}" if user_id is not None else None


class _SessionRateThrottle(CoverisThrottle):
    """Per session (the token's family) when the request carries a token that verifies; else per address.

    Colleagues behind one NAT each have their own session, so they never share a budget; garbage tokens
    share one budget per address, which is all an attacker without a valid token can spend.
    """

    def session_ident(self, request) -> str | None:
        data = request.data if hasattr(request, "data") else {}
        body = data.get("refresh") if isinstance(data, dict) else None
        ident = _session_ident(body, _VerifiedRefresh)
        if ident is None:
            ident = _session_ident(request.COOKIES.get(settings.AUTH_COOKIE_REFRESH), _VerifiedRefresh)
        if ident is None:
            ident = _session_ident(request.COOKIES.get(settings.AUTH_COOKIE_ACCESS), AccessToken)
        return ident

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = self.session_ident(request)
        if ident is None and user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        if ident is None:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenRefreshRateThrottle(_SessionRateThrottle):
    """Refreshes per session (20/h: a tab refreshes ~12 times an hour with 5-minute access tokens)."""

    scope = "token_refresh"


class LogoutRateThrottle(_SessionRateThrottle):
    """Logouts per session (20/h); log out everywhere per user."""

    scope = "logout"


class AuditVerifyRateThrottle(CoverisThrottle):
    """Per user: digests and verifications walk the rows appended since the last checkpoint, so each one is work."""

    scope = "audit_verify"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = f"user:{user.pk}" if user is not None and user.is_authenticated else f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
