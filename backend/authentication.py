"""Authentication: cookie/bearer JWT (simplejwt) for local and test, Cognito RS256 for production."""

import copy
import logging
import threading
import time

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from apps.users.emails import login_email
from apps.users.snapshots import user_snapshot_and_window
from backend.bounded import BoundedDict
from backend.exceptions import CSRFFailed
from backend.throttles import keep_counted_window, user_window_to_count

logger = logging.getLogger("coveris.auth")


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def enforce_csrf(request) -> None:
    """Django's CSRF check for a request whose credentials came from a cookie."""
    check = _CSRFCheck(lambda req: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise CSRFFailed(f"CSRF check failed ({reason}): send the csrftoken cookie's value in X-CSRFToken.")


# Access tokens whose signature and claims were verified by this process, by their exact bytes (ADR 0031). Verifying a
# token is deterministic except for its expiry, which is checked again on every use; revocation (logout, log out
# everywhere, deactivation, role change) is the user snapshot's business and is read on every request as before.
# Bounded: emptied when full (a busy worker sees far fewer live tokens than this) and when the JWT settings change.
VERIFIED_TOKENS_MAX = 4096
_verified_tokens: BoundedDict = BoundedDict(VERIFIED_TOKENS_MAX)


@receiver(setting_changed)
def _forget_verified_tokens(setting: str, **kwargs) -> None:
    if setting in ("SIMPLE_JWT", "SECRET_KEY"):
        _verified_tokens.clear()


class CookieJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer|JWT <token>`` first (no CSRF); else the access cookie, with CSRF on unsafe methods.

    The user comes from the cached snapshot (``apps.users.snapshots``), not from a query per request; the
    snapshot also says which sessions were revoked, so logout, log out everywhere, deactivation and role
    changes reach access tokens on their next request (ADR 0014).
    """

    def get_validated_token(self, raw_token: bytes):
        """simplejwt's verification, once per token and process; the expiry is checked on every request."""
        token = _verified_tokens.get(raw_token)
        if token is not None:
            leeway = token.get_token_backend().get_leeway().total_seconds()
            if time.time() < token.payload["exp"] + leeway:  # what check_exp accepts: exp > now - leeway
                return copy.copy(token)
            _verified_tokens.pop(raw_token, None)
        token = super().get_validated_token(raw_token)  # signature, exp, type, jti; raises InvalidToken
        _verified_tokens.keep(raw_token, token)
        return copy.copy(token)

    def get_user(self, validated_token, request=None):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification.") from exc
        if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
            user_id = int(user_id)
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise InvalidToken("Token contained no recognizable user identification.")
        family, issued_at = validated_token.get("fam"), validated_token.get("iat")
        # On Redis the request is counted against the user's throttle in the snapshot's round trip (ADR 0040), unless
        # the snapshot's gate refuses the token; the throttle then uses that answer instead of asking Redis again.
        window = user_window_to_count(request, user_id) if request is not None else None
        snapshot = user_snapshot_and_window(user_id, family=family, issued_at=issued_at, window=window)
        if window is not None and not window.consumed:
            keep_counted_window(request, window)
        # A refusal from here on (401, or 403 from CSRF or the permissions) takes the entry back: see the exception
        # handler (a gate older than its snapshot may have counted a token the snapshot refuses).
        if snapshot is None:
            raise exceptions.AuthenticationFailed("User not found.", code="user_not_found")
        if not snapshot.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        if snapshot.token_revoked(family=family, issued_at=issued_at):
            raise InvalidToken("The session of this token was signed out.")
        return snapshot.user()

    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            raw_token = self.get_raw_token(header)
            if raw_token is None:
                return None
            validated = self.get_validated_token(raw_token)
            return self.get_user(validated, request), validated

        raw_cookie = request.COOKIES.get(settings.AUTH_COOKIE_ACCESS)
        if not raw_cookie:
            return None
        validated = self.get_validated_token(raw_cookie.encode())
        user = self.get_user(validated, request)
        enforce_csrf(request)
        return user, validated


class CognitoJWTAuthentication(BaseAuthentication):
    """Verifies RS256 tokens from an AWS Cognito user pool against its JWKS and maps them to users by email.

    A bearer token whose (unverified) issuer is not the configured pool is left to the next class, so
    the API's own tokens keep working beside Cognito; a token that claims the pool's issuer is verified
    strictly: RS256 only, signature against the pool's JWKS, issuer, audience/client id, ``token_use``
    and expiry.
    """

    www_authenticate_realm = "api"
    allowed_algorithms = ("RS256",)
    _clients: dict[str, jwt.PyJWKClient] = {}
    _lock = threading.Lock()

    @classmethod
    def jwks_client(cls) -> jwt.PyJWKClient:
        url = settings.COGNITO_JWKS_URL
        with cls._lock:
            client = cls._clients.get(url)
            if client is None:
                client = jwt.PyJWKClient(
                    url, cache_jwk_set=True, lifespan=settings.COGNITO_JWKS_CACHE_SECONDS, timeout=5
                )
                cls._clients[url] = client
            return client

    @classmethod
    def reset_jwks_cache(cls) -> None:
        with cls._lock:
            cls._clients.clear()

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'

    def authenticate(self, request):
        if not (settings.COGNITO_ISSUER and settings.COGNITO_APP_CLIENT_ID and settings.COGNITO_JWKS_URL):
            return None
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() not in (b"bearer", b"jwt"):
            return None
        token = parts[1].decode("latin-1")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None  # not a JWT we can even read: let the next class answer
        if unverified.get("iss") != settings.COGNITO_ISSUER:
            return None
        claims = self.verify(token)
        return self.user_for_claims(claims), claims

    def verify(self, token: str) -> dict:
        """Full verification of a token that claims to come from the pool; raises AuthenticationFailed."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise exceptions.AuthenticationFailed("Malformed token.") from exc
        if header.get("alg") not in self.allowed_algorithms:
            raise exceptions.AuthenticationFailed("Token algorithm not allowed.")
        try:
            signing_key = self.jwks_client().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise exceptions.AuthenticationFailed("Token signing key not found in the pool's JWKS.") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            # An unreadable JWKS document (bad JSON, no usable keys) is our configuration's fault, but the
            # token still cannot be verified: refuse it (401), log loudly, never answer 500.
            logger.error("Cognito JWKS at %s is unusable: %s", settings.COGNITO_JWKS_URL, exc)
            raise exceptions.AuthenticationFailed("Token signing key could not be loaded.") from exc
        token_use = settings.COGNITO_TOKEN_USE
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=list(self.allowed_algorithms),
                issuer=settings.COGNITO_ISSUER,
                audience=settings.COGNITO_APP_CLIENT_ID if token_use == "id" else None,
                options={
                    "require": ["exp", "iat", "iss", "token_use"],
                    "verify_aud": token_use == "id",
                },
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise exceptions.AuthenticationFailed("Token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise exceptions.AuthenticationFailed(f"Token rejected: {exc}.") from exc
        if claims.get("token_use") != token_use:
            raise exceptions.AuthenticationFailed(f"Token use must be '{token_use}'.")
        if token_use == "access" and claims.get("client_id") != settings.COGNITO_APP_CLIENT_ID:
            raise exceptions.AuthenticationFailed("Token was issued for another client.")
        return claims

    def user_for_claims(self, claims: dict):
        email = claims.get("email")
        if not email or not isinstance(email, str):
            raise exceptions.AuthenticationFailed("Token carries no email claim.")
        # Mapping by email is only as good as the email: one the pool says is unverified (a self-service
        # sign-up typing someone else's address) must not become that person's account.
        if claims.get("email_verified") in (False, "false"):
            raise exceptions.AuthenticationFailed("Token's email address is not verified.")
        user = get_user_model().objects.filter(email=login_email(email)).first()  # exact: see apps.users.emails
        if user is None:
            raise exceptions.AuthenticationFailed("No Coveris user for this identity.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.")
        return user
