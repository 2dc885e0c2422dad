"""Auth services: issuing, rotating and revoking refresh tokens (use-once made atomic) and sessions.

A session is a ``TokenFamily``: login starts one, every rotation carries its id on (claim ``fam``, copied
into each access token), and revoking it ends both its refresh and its access tokens (ADR 0014).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users.emails import login_email
from apps.users.models import TokenFamily, User
from apps.users.snapshots import user_snapshot_invalidate
from backend.errors import NotAuthenticatedError, TokenInvalidError

logger = logging.getLogger("coveris.auth")
FAMILY_CLAIM = "fam"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    user: User


def user_authenticate(*, request, email: str, password: str) -> User:
    """The active user with these credentials, or NotAuthenticatedError (same answer for every failure)."""
    user = authenticate(request=request, email=login_email(email), password=password)
    if user is None or not user.is_active:
        raise NotAuthenticatedError("Invalid email or password.")
    return user


def _token_pair_for(user: User, family: TokenFamily) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # records the OutstandingToken row
    refresh[FAMILY_CLAIM] = str(family.pk)  # copied into the access token by simplejwt
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), user=user)


def token_pair_issue(*, user: User) -> TokenPair:
    """Sign-in: a new session, a fresh refresh token (recorded as outstanding) and its access token."""
    update_last_login(None, user)
    return _token_pair_for(user, TokenFamily.objects.create(user=user))


def _family_revoke(family_id, *, reason: str) -> int:
    """Mark one session revoked (idempotent); its access tokens fail from the next request on."""
    families = TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True)
    user_ids = list(families.values_list("user_id", flat=True))
    count = families.update(revoked_at=timezone.now(), revoked_reason=reason)
    for user_id in user_ids:
        user_snapshot_invalidate(user_id)
    return count


def token_pair_rotate(*, raw_refresh: str) -> TokenPair:
    """Use a refresh token once: blacklist it and issue a new pair, atomically.

    simplejwt's own rotation checks the blacklist and then inserts into it, so concurrent refreshes of
    one token all pass the check. Here the outstanding-token row is locked first and the blacklist
    insert is unique per token, so of N concurrent refreshes exactly one succeeds.
    """
    try:
        old = _UncheckedRefreshToken(raw_refresh, verify=True)
    except TokenError as exc:
        raise TokenInvalidError(str(exc)) from exc
    jti = old.get("jti")
    family_id = old.get(FAMILY_CLAIM)
    try:
        with transaction.atomic():
            # order_by("pk"): OutstandingToken's default ordering joins the (nullable) user, and PostgreSQL
            # refuses FOR UPDATE on the nullable side of an outer join.
            outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).order_by("pk").first()
            if outstanding is None:
                raise TokenInvalidError("Token is not recognised.")
            used = BlacklistedToken.objects.filter(token=outstanding).values_list("blacklisted_at", flat=True).first()
            if used is not None:
                replayed = _replay_revokes_family(used_at=used, family_id=family_id, user_id=outstanding.user_id)
            else:
                family = _family_for_rotation(family_id, user_id=outstanding.user_id)
                BlacklistedToken.objects.create(token=outstanding)
                user = User.objects.filter(pk=outstanding.user_id, is_active=True).first()
                if user is None:
                    raise TokenInvalidError("User is inactive or no longer exists.")
                # Not a sign-in: last_login keeps the time the user last entered credentials.
                return _token_pair_for(user, family)
    except IntegrityError as exc:  # lost the race on the unique blacklist row
        raise TokenInvalidError("Token is blacklisted.") from exc
    # Outside the transaction, so the family's revocation (committed above) is not rolled back.
    raise TokenInvalidError(
        "Token was already used; the session is signed out." if replayed else "Token is blacklisted."
    )


class _UncheckedRefreshToken(RefreshToken):
    """Signature, expiry and type verified; the blacklist is checked under the row lock below instead,
    where a used token can be told apart (replay → reuse detection) rather than refused unseen."""

    def check_blacklist(self) -> None:
        return None


def _family_for_rotation(family_id, *, user_id) -> TokenFamily:
    """The session a refresh continues, marked used now; refused when revoked (or pruned). Tokens from before
    sessions start one."""
    if family_id is None:
        return TokenFamily.objects.create(user_id=user_id)
    live = TokenFamily.objects.filter(pk=family_id, user_id=user_id, revoked_at__isnull=True)
    if not live.update(last_used_at=timezone.now()):
        raise TokenInvalidError("The session of this token was signed out.")
    return TokenFamily(pk=family_id, user_id=user_id)


def _replay_revokes_family(*, used_at, family_id, user_id) -> bool:
    """A rotated refresh token came back (RFC 9700 §4.14): revoke its session unless it is a concurrent refresh.

    Within ``JWT_REFRESH_REUSE_GRACE_SECONDS`` of the rotation it is the loser of a race between two tabs
    (the documented client behaviour), refused without ending the session. Later, someone holds a copy
    of a token that was already used — the legitimate client or a thief — so the whole session ends and
    whoever holds its current token must sign in again.
    """
    if family_id is None or timezone.now() - used_at <= timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS):
        return False
    revoked = _family_revoke(family_id, reason=TokenFamily.RevokedReason.REUSE)
    logger.warning(
        "auth: refresh token replayed %.0f s after rotation; session %s of user %s revoked (%s)",
        (timezone.now() - used_at).total_seconds(),
        family_id,
        user_id,
        "now" if revoked else "already",
    )
    return True


def token_revoke(*, raw_refresh: str) -> bool:
    """Logout: blacklist a refresh token and end its session; True if it was valid and is now revoked. Idempotent."""
    try:
        token = RefreshToken(raw_refresh, verify=True)
    except TokenError:
        return False
    outstanding = OutstandingToken.objects.filter(jti=token.get("jti")).first()
    if outstanding is None:
        return False
    try:
        with transaction.atomic():
            _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
            if token.get(FAMILY_CLAIM) is not None:
                _family_revoke(token[FAMILY_CLAIM], reason=TokenFamily.RevokedReason.LOGOUT)
    except IntegrityError:
        return False
    return created


def session_revoke_by_access(*, raw_access: str) -> bool:
    """Logout with only an access token at hand (the cookie): end its session. True if one was ended."""
    try:
        token = AccessToken(raw_access, verify=True)
    except TokenError:
        return False
    if token.get(FAMILY_CLAIM) is None:
        return False
    with transaction.atomic():
        return _family_revoke(token[FAMILY_CLAIM], reason=TokenFamily.RevokedReason.LOGOUT) > 0


@transaction.atomic
def user_sessions_revoke(*, user: User, reason: str = TokenFamily.RevokedReason.EVERYWHERE) -> int:
    """Log out everywhere: every refresh token of the user is blacklisted and every access token fails.

    A marker session revoked now sets the user's "not before" time, which also ends access tokens that
    carry no session (issued before sessions existed). Returns the number of sessions ended.
    """
    now = timezone.now()
    ended = TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason)
    TokenFamily.objects.create(user=user, created_at=now, revoked_at=now, revoked_reason=reason)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live.values_list("pk", flat=True)], ignore_conflicts=True
    )
    user_snapshot_invalidate(user.pk)
    logger.info("auth: user %s signed out everywhere (%s sessions)", user.pk, ended)
    return ended


def sessions_prune(*, now=None) -> tuple[int, int]:
    """Delete what can no longer sign anyone in: sessions revoked, or unused, for longer than a refresh token
    lives, and outstanding refresh tokens past their expiry (simplejwt's ``flushexpiredtokens``; their blacklist
    rows go with them). Returns (sessions, tokens) deleted. Run daily by ``apps.users.tasks.prune_sessions``.

    Safe at any time: a pruned session's refresh tokens are refused like a revoked one's (the session is
    looked up on every refresh), and its access tokens expired long before (the snapshot only needs sessions
    revoked within the access lifetime).
    """
    now = now or timezone.now()
    cutoff = now - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    dead = TokenFamily.objects.filter(Q(revoked_at__lt=cutoff) | Q(revoked_at__isnull=True, last_used_at__lt=cutoff))
    sessions = dead.delete()[1].get(TokenFamily._meta.label, 0)
    tokens = OutstandingToken.objects.filter(expires_at__lte=now).delete()[1].get(OutstandingToken._meta.label, 0)
    logger.info("auth: pruned %s dead sessions and %s expired refresh-token rows", sessions, tokens)
    return sessions, tokens
