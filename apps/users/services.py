"""Auth services: issuing, rotating and revoking refresh tokens (use-once made atomic)."""

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users.emails import login_email
from apps.users.models import User
from backend.exceptions import InvalidCredentials


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    user: User


def user_authenticate(*, request, email: str, password: str) -> User:
    """The active user with these credentials, or InvalidCredentials (same answer for every failure)."""
    user = authenticate(request=request, email=login_email(email), password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    return user


def _token_pair_for(user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)  # records the OutstandingToken row
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), user=user)


def token_pair_issue(*, user: User) -> TokenPair:
    """Sign-in: a fresh refresh token (recorded as outstanding) and its access token; stamps last_login."""
    update_last_login(None, user)
    return _token_pair_for(user)


def token_pair_rotate(*, raw_refresh: str) -> TokenPair:
    """Use a refresh token once: blacklist it and issue a new pair, atomically.

    simplejwt's own rotation checks the blacklist and then inserts into it, so concurrent refreshes of
    one token all pass the check. Here the outstanding-token row is locked first and the blacklist
    insert is unique per token, so of N concurrent refreshes exactly one succeeds.
    """
    try:
        old = RefreshToken(raw_refresh, verify=True)
    except TokenError as exc:
        raise InvalidToken(str(exc)) from exc
    jti = old.get("jti")
    try:
        with transaction.atomic():
            # order_by("pk"): OutstandingToken's default ordering joins the (nullable) user, and PostgreSQL
            # refuses FOR UPDATE on the nullable side of an outer join.
            outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).order_by("pk").first()
            if outstanding is None:
                raise InvalidToken("Token is not recognised.")
            if BlacklistedToken.objects.filter(token=outstanding).exists():
                raise InvalidToken("Token is blacklisted.")
            BlacklistedToken.objects.create(token=outstanding)
            user = User.objects.filter(pk=outstanding.user_id, is_active=True).first()
            if user is None:
                raise InvalidToken("User is inactive or no longer exists.")
            # Not a sign-in: last_login keeps the time the user last entered credentials.
            return _token_pair_for(user)
    except IntegrityError as exc:  # lost the race on the unique blacklist row
        raise InvalidToken("Token is blacklisted.") from exc


def token_revoke(*, raw_refresh: str) -> bool:
    """Blacklist a refresh token; True if it was valid and is now revoked. Idempotent."""
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
    except IntegrityError:
        return False
    return created
