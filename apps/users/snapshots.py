"""The cached user snapshot that authenticates a request without a database query.

Every authenticated request needs the user's row (is the account active? which role?) and must know
whether the token's session was revoked. Both live in one cache entry per user, ``auth:user:<id>``:
the user's columns (never the password hash) and the sessions revoked recently enough for their access
tokens to still be unexpired. A request reads that one entry; the database is asked only on a miss.

Staying correct without a query per request rests on invalidation, not on a short lifetime:

- any save or delete of a user deletes the entry at once and, after the transaction commits, writes the
  fresh one (``user_snapshot_refresh``); so do session revocations (``apps.users.services``);
- a request that missed fills the entry with ``cache.add`` (only if absent), so a request that read the
  row before a change committed cannot overwrite the fresh entry written after it;
- the entry still expires after ``AUTH_USER_CACHE_SECONDS``, which bounds the damage of a change made
  while the cache was unreachable (or with ``QuerySet.update``, which sends no signal — change users with
  ``save()`` or call ``user_snapshot_refresh`` yourself);
- when the cache is unreachable the snapshot is read from the database: slower, never weaker.

On Redis (ADR 0040) each snapshot has a companion, ``auth:gate:<id>``, written and deleted with it in one
transaction: the few facts that refuse a token (active?, "not before", the revoked sessions) as plain text a Lua
script can read. ``user_snapshot_and_window`` reads the snapshot and, when the gate does not refuse the token,
counts the request against the user's throttle window in the same script — one round trip for both, and a token the
gate refuses spends nobody's budget. Python still decides from the snapshot itself, as before; the gate only decides
whether to count, and a disagreement (a gate missing or older than its snapshot) is settled on the safe side.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import DEFERRED, Exists, OuterRef
from django.utils import timezone

from apps.users.models import TokenFamily, User
from backend import throttles
from backend.bounded import BoundedDict

logger = logging.getLogger("coveris.auth")

# The columns a request may read without a query; the rest (the password hash) stay deferred, so touching
# them loads them and save() writes only loaded columns (an instance from the cache never blanks a password).
SNAPSHOT_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "org_unit_id",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_login",
    "date_joined",
)
_MISSING = "missing"  # a cached "no such user": deleted users' tokens are refused without a query too
_WARN_EVERY_SECONDS = 60
_last_warning = 0.0


@dataclass(frozen=True)
class UserSnapshot:
    """What authentication needs to know about a user, as cached."""

    values: tuple
    revoked_families: frozenset[str]  # session ids (TokenFamily pk, as str) revoked within the access lifetime
    not_before: int | None  # session-less tokens issued up to this (epoch seconds) are refused: "log out everywhere"

    def user(self) -> User:
        """An unsaved-looking-but-persistent User instance built from the cached columns (no query); a new one on
        every call (a request may change its instance)."""
        return User.from_db(DEFAULT_DB_ALIAS, *self._row)

    def __getstate__(self) -> dict:
        """Pickled (cached) without ``_row``: a used snapshot stores the very bytes of a fresh one."""
        return {name: value for name, value in self.__dict__.items() if name != "_row"}

    @cached_property
    def _row(self) -> tuple[list, list]:
        """``from_db``'s column names and values, worked out once per snapshot (it is immutable, and a decoded
        snapshot serves many requests): every concrete column in model order, DEFERRED for the ones not cached."""
        by_name = dict(zip(SNAPSHOT_FIELDS, self.values, strict=True))
        fields = User._meta.concrete_fields
        return [field.attname for field in fields], [by_name.get(field.attname, DEFERRED) for field in fields]

    @property
    def is_active(self) -> bool:
        return bool(self.values[SNAPSHOT_FIELDS.index("is_active")])

    def token_revoked(self, *, family: str | None, issued_at: int | None) -> bool:
        """Whether a token of this session, issued at this time, was revoked.

        A token with a session is revoked with its session (log out everywhere revokes them all). One
        without (issued before sessions existed, or by ``AccessToken.for_user``) is revoked when issued
        no later than the last "log out everywhere" — the same second included, as ``iat`` has no fraction.
        """
        if family is not None:
            return str(family) in self.revoked_families
        return self.not_before is not None and (not isinstance(issued_at, int) or issued_at <= self.not_before)


# Markers that end every session of the user, session-less tokens included (their time is "not before").
_ENDS_EVERY_SESSION = frozenset({TokenFamily.RevokedReason.EVERYWHERE, TokenFamily.RevokedReason.DEACTIVATED})


def _key(user_id) -> str:
    return f"auth:user:{user_id}"


def _gate_key(user_id) -> str:
    return f"auth:gate:{user_id}"


def _gate(snapshot: UserSnapshot | str) -> str:
    """What refuses a token, for the script: ``<1 active|0> <not before|->`` then `` <session>`` per revoked one."""
    if snapshot == _MISSING:
        return "0 -"
    not_before = "-" if snapshot.not_before is None else str(int(snapshot.not_before))
    families = "".join(f" {family}" for family in sorted(snapshot.revoked_families))
    return f"{1 if snapshot.is_active else 0} {not_before}{families}"


def _redis() -> RedisCache | None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    return backend if isinstance(backend, RedisCache) else None


def _store(user_id, snapshot: UserSnapshot | str, *, only_if_absent: bool) -> None:
    """``cache.add`` (``only_if_absent``) or ``cache.set`` of the snapshot; on Redis with its gate, one transaction."""
    backend = _redis()
    if backend is None:
        store = cache.add if only_if_absent else cache.set
        store(_key(user_id), snapshot, timeout=settings.AUTH_USER_CACHE_SECONDS)
        return
    timeout = backend.get_backend_timeout(settings.AUTH_USER_CACHE_SECONDS)
    client = backend._cache.get_client(write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(
            backend.make_and_validate_key(_key(user_id)),
            backend._cache._serializer.dumps(snapshot),
            ex=timeout,
            nx=only_if_absent,
        )
        pipe.set(backend.make_and_validate_key(_gate_key(user_id)), _gate(snapshot), ex=timeout, nx=only_if_absent)
        pipe.execute()


def _revocation_window() -> timedelta:
    # A revoked session cannot mint new access tokens, so its last one expires within the access lifetime.
    return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + timedelta(seconds=60)


def _warn_cache_down(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("auth: cache unreachable, reading users from the database: %s", exc)


def _load(user_id) -> UserSnapshot | str:
    """The snapshot from the database: one query, two when the user has recently revoked sessions."""
    since = timezone.now() - _revocation_window()
    recent = TokenFamily.objects.filter(user_id=OuterRef("pk"), revoked_at__gte=since)
    row = (
        User.objects.filter(pk=user_id)
        .annotate(_has_revoked=Exists(recent))
        .values_list(*SNAPSHOT_FIELDS, "_has_revoked")
        .first()
    )
    if row is None:
        return _MISSING
    *values, has_revoked = row
    revoked: frozenset[str] = frozenset()
    not_before = None
    if has_revoked:
        families = list(
            TokenFamily.objects.filter(user_id=user_id, revoked_at__gte=since).values_list(
                "id", "revoked_at", "revoked_reason"
            )
        )
        revoked = frozenset(str(fid) for fid, _, _ in families)
        everywhere = [at for _, at, reason in families if reason in _ENDS_EVERY_SESSION]
        if everywhere:
            not_before = int(max(everywhere).timestamp())
    return UserSnapshot(values=tuple(values), revoked_families=revoked, not_before=not_before)


def user_snapshot_get(user_id) -> UserSnapshot | None:
    """The user's snapshot (None: no such user), from the cache when it can, else from the database."""
    try:
        cached = cache.get(_key(user_id))
    except Exception as exc:  # an unreachable cache must cost speed, never availability or strictness
        _warn_cache_down(exc)
        loaded = _load(user_id)
        return None if loaded == _MISSING else loaded
    return _answer(user_id, cached)


def _answer(user_id, cached) -> UserSnapshot | None:
    """The snapshot read from the cache, or on a miss loaded and added (only if absent: see the module)."""
    if cached is None:
        cached = _load(user_id)
        try:
            _store(user_id, cached, only_if_absent=True)
        except Exception as exc:
            _warn_cache_down(exc)
    return None if cached == _MISSING else cached


# KEYS: the snapshot, its gate, the user's throttle window. ARGV: "f:<session>" or "-" (a token without one), the
# token's iat or "" (none, or not an integer), then the window's now, duration and budget. Answers {the snapshot's
# bytes or false, whether the request was counted (1), and when counted the window's answer}. Not counted: no
# snapshot (the caller loads it), no gate, or a gate that refuses the token — as UserSnapshot.token_revoked does.
SNAPSHOT_AND_WINDOW_LUA = (
    throttles.WINDOW_LUA_FUNCTION
    + """
local snapshot = redis.call('GET', KEYS[1])
if not snapshot then return {false, 0} end
local gate = redis.call('GET', KEYS[2])
if not gate then return {snapshot, 0} end
local active, not_before, families = string.match(gate, '^(%d) (%S+)(.*)$')
if active ~= '1' then return {snapshot, 0} end
if string.sub(ARGV[1], 1, 2) == 'f:' then
  if string.find(families .. ' ', ' ' .. string.sub(ARGV[1], 3) .. ' ', 1, true) then return {snapshot, 0} end
elseif not_before ~= '-' then
  local issued_at = tonumber(ARGV[2])
  if not issued_at or issued_at <= tonumber(not_before) then return {snapshot, 0} end
end
local answer = window(KEYS[3], ARGV[3], ARGV[4], ARGV[5])
return {snapshot, 1, answer[1], answer[2], answer[3]}
"""
)
SNAPSHOT_AND_WINDOW_SHA = hashlib.sha1(SNAPSHOT_AND_WINDOW_LUA.encode(), usedforsecurity=False).hexdigest()


def user_snapshot_and_window(
    user_id, *, family, issued_at, window: "throttles.CountedWindow | None"
) -> UserSnapshot | None:
    """``user_snapshot_get``; on Redis, with the request counted against ``window`` in the same round trip when the
    snapshot's gate does not refuse the token (then ``window`` holds the answer and ``window.consumed`` is False;
    otherwise it stays uncounted and the throttle counts as usual). Errors: as ``user_snapshot_get``."""
    backend = _redis()
    if window is None or backend is None or window.backend is not backend:  # one script: one server
        return user_snapshot_get(user_id)
    session = "-" if family is None else f"f:{family}"
    issued = str(issued_at) if isinstance(issued_at, int) and not isinstance(issued_at, bool) else ""
    keys = (
        backend.make_and_validate_key(_key(user_id)),
        backend.make_and_validate_key(_gate_key(user_id)),
        window.key,
    )
    args = (session, issued, *throttles.window_args(window.now, window.duration, window.limit))
    try:
        client = backend._cache.get_client(keys[0], write=True)
        answer = throttles.run_script(client, SNAPSHOT_AND_WINDOW_LUA, SNAPSHOT_AND_WINDOW_SHA, keys, args)
    except Exception as exc:  # as user_snapshot_get: slower, never weaker; the throttle then fails open itself
        window.consumed = True  # not counted
        _warn_cache_down(exc)
        loaded = _load(user_id)
        return None if loaded == _MISSING else loaded
    raw, counted = answer[0], answer[1]
    if counted:
        window.allowed, window.count, window.oldest = bool(answer[2]), int(answer[3]), float(answer[4])
    else:
        window.consumed = True  # nothing recorded: the throttle counts for itself
    return _answer(user_id, None if raw is None else _decoded(backend, raw))


# Snapshots decoded by this process, by their exact bytes (ADR 0051): unpickling the same bytes gives an equal value,
# and a snapshot is immutable (a frozen dataclass of tuples, a frozenset, plain values; the "no such user" marker is a
# string), so one decoded object serves every request that reads those bytes. The bytes are still read from Redis on
# every request: a change (deactivation, role, logout, log out everywhere) is new bytes, decoded afresh. Bounded like
# the verified tokens (ADR 0031): emptied when full.
DECODED_SNAPSHOTS_MAX = 4096
_decoded_snapshots: BoundedDict = BoundedDict(DECODED_SNAPSHOTS_MAX)


def _decoded(backend, raw: bytes):
    value = _decoded_snapshots.get(raw)
    if value is None:
        value = backend._cache._serializer.loads(raw)
        if isinstance(value, UserSnapshot) or value == _MISSING:
            _decoded_snapshots.keep(raw, value)
    return value


def user_snapshot_refresh(user_id) -> None:
    """Replace the cached snapshot with the database's current state (call after a change commits)."""
    try:
        _store(user_id, _load(user_id), only_if_absent=False)
    except Exception as exc:
        _warn_cache_down(exc)


def user_snapshot_invalidate(user_id) -> None:
    """Drop the cached snapshot now and write the fresh one once the current transaction commits.

    The immediate delete makes the change visible at once inside this transaction (and to requests that
    read after the commit); the refresh after commit replaces anything a concurrent request cached from
    the state before the change.
    """
    try:
        cache.delete_many([_key(user_id), _gate_key(user_id)])  # one DEL
    except Exception as exc:
        _warn_cache_down(exc)
    transaction.on_commit(lambda: user_snapshot_refresh(user_id))
