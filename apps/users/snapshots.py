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
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import DEFERRED, Exists, OuterRef
from django.utils import timezone

from apps.users.models import TokenFamily, User

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
        """An unsaved-looking-but-persistent User instance built from the cached columns (no query)."""
        by_name = dict(zip(SNAPSHOT_FIELDS, self.values, strict=True))
        fields = User._meta.concrete_fields
        # from_db wants every concrete column in model order; DEFERRED marks the ones not cached.
        values = [by_name.get(field.attname, DEFERRED) for field in fields]
        return User.from_db(DEFAULT_DB_ALIAS, [field.attname for field in fields], values)

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
    if cached is None:
        cached = _load(user_id)
        try:
            cache.add(_key(user_id), cached, timeout=settings.AUTH_USER_CACHE_SECONDS)
        except Exception as exc:
            _warn_cache_down(exc)
    return None if cached == _MISSING else cached


def user_snapshot_refresh(user_id) -> None:
    """Replace the cached snapshot with the database's current state (call after a change commits)."""
    try:
        cache.set(_key(user_id), _load(user_id), timeout=settings.AUTH_USER_CACHE_SECONDS)
    except Exception as exc:
        _warn_cache_down(exc)


def user_snapshot_invalidate(user_id) -> None:
    """Drop the cached snapshot now and write the fresh one once the current transaction commits.

    The immediate delete makes the change visible at once inside this transaction (and to requests that
    read after the commit); the refresh after commit replaces anything a concurrent request cached from
    the state before the change.
    """
    try:
        cache.delete(_key(user_id))
    except Exception as exc:
        _warn_cache_down(exc)
    transaction.on_commit(lambda: user_snapshot_refresh(user_id))
