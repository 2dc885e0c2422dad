"""Auth endpoints: cookie login/refresh/logout for the SPA, body tokens for other clients."""

from django.conf import settings
from django.middleware.csrf import get_token, rotate_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.users import services
from apps.users.api.serializers import (
    CsrfTokenSerializer,
    LoginInputSerializer,
    RefreshInputSerializer,
    TokenPairSerializer,
    UserSerializer,
    user_representation,
)
from backend.authentication import enforce_csrf
from backend.errors import NotAuthenticatedError, TokenInvalidError
from backend.permissions import IsAuthenticatedWithRole
from backend.schema import documents_errors
from backend.signin import SignInPolicy, SignInThrottle, submitted_email
from backend.throttles import LogoutRateThrottle, TokenRefreshRateThrottle


def _set_auth_cookies(response: Response, pair: services.TokenPair) -> None:
    jwt_settings = settings.SIMPLE_JWT
    common = {
        "httponly": True,
        "secure": settings.AUTH_COOKIE_SECURE,
        "samesite": settings.AUTH_COOKIE_SAMESITE,
        "domain": settings.AUTH_COOKIE_DOMAIN,
    }
    response.set_cookie(
        settings.AUTH_COOKIE_ACCESS,
        pair.access,
        max_age=int(jwt_settings["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        path="/",
        **common,
    )
    response.set_cookie(
        settings.AUTH_COOKIE_REFRESH,
        pair.refresh,
        max_age=int(jwt_settings["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        path=settings.AUTH_COOKIE_REFRESH_PATH,
        **common,
    )


def _delete_auth_cookies(response: Response) -> None:
    response.delete_cookie(
        settings.AUTH_COOKIE_ACCESS,
        path="/",
        domain=settings.AUTH_COOKIE_DOMAIN,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )
    response.delete_cookie(
        settings.AUTH_COOKIE_REFRESH,
        path=settings.AUTH_COOKIE_REFRESH_PATH,
        domain=settings.AUTH_COOKIE_DOMAIN,
        samesite=settings.AUTH_COOKIE_SAMESITE,
    )


class _PublicAuthView(APIView):
    """No authenticator runs here (the endpoints read tokens themselves), yet refusals stay 401."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        # Without an authenticator DRF turns AuthenticationFailed into 403; a bad password or a bad
        # refresh token is a 401 (SPEC §3), and a 401 carries WWW-Authenticate.
        return 'Bearer realm="api"'


def _sign_in(request):
    """Check the credentials under the sign-in policy (shared with the admin): every failure counts."""
    policy = SignInPolicy(request, submitted_email(request))  # SignInThrottle has already run its check()
    try:
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(request=request, **data.validated_data)
    except (ValidationError, ParseError, NotAuthenticatedError):
        policy.failed()
        raise
    policy.succeeded()
    return user


class LoginView(_PublicAuthView):
    """Email + password → HttpOnly access/refresh cookies and the user."""

    throttle_classes = [SignInThrottle]

    @extend_schema(request=LoginInputSerializer, responses={200: UserSerializer}, auth=[])
    @documents_errors("not_authenticated")
    def post(self, request):
        user = _sign_in(request)
        pair = services.token_pair_issue(user=user)
        response = Response(user_representation(user))
        _set_auth_cookies(response, pair)
        rotate_token(request)  # a new CSRF secret per session, against login CSRF / fixation
        return response


class TokenObtainView(_PublicAuthView):
    """Email + password → {access, refresh} in the body, for non-browser clients (no cookies)."""

    throttle_classes = [SignInThrottle]

    @extend_schema(request=LoginInputSerializer, responses={200: TokenPairSerializer}, auth=[])
    @documents_errors("not_authenticated")
    def post(self, request):
        user = _sign_in(request)
        pair = services.token_pair_issue(user=user)
        return Response({"access": pair.access, "refresh": pair.refresh})


class RefreshView(_PublicAuthView):
    """Rotate the refresh token (cookie, or ``refresh`` in the body); the old one is blacklisted.

    From the cookie: new cookies are set and CSRF is required. From the body: new tokens in the body.
    """

    throttle_classes = [TokenRefreshRateThrottle]

    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairSerializer}, auth=[])
    @documents_errors("token_invalid", "csrf_failed")
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body_token = data.validated_data.get("refresh")
        if body_token:
            pair = services.token_pair_rotate(raw_refresh=body_token)
            return Response({"access": pair.access, "refresh": pair.refresh})
        cookie_token = request.COOKIES.get(settings.AUTH_COOKIE_REFRESH)
        if not cookie_token:
            raise TokenInvalidError('No refresh token: send the refresh cookie or {"refresh": ...}.')
        enforce_csrf(request)
        pair = services.token_pair_rotate(raw_refresh=cookie_token)
        response = Response(user_representation(pair.user))  # the same body as login: the signed-in user
        _set_auth_cookies(response, pair)
        return response


class LogoutView(_PublicAuthView):
    """Blacklist the refresh token and delete the auth cookies (idempotent)."""

    throttle_classes = [LogoutRateThrottle]

    @extend_schema(request=RefreshInputSerializer, responses={204: None}, auth=[])
    @documents_errors("csrf_failed")
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data.get("refresh")
        if not token:
            token = request.COOKIES.get(settings.AUTH_COOKIE_REFRESH)
            if token or request.COOKIES.get(settings.AUTH_COOKIE_ACCESS):
                enforce_csrf(request)
        if token:
            services.token_revoke(raw_refresh=token)
        access = request.COOKIES.get(settings.AUTH_COOKIE_ACCESS)
        if access:  # the session of the access cookie ends too, even when its refresh cookie is gone
            services.session_revoke_by_access(raw_access=access)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _delete_auth_cookies(response)
        return response


class LogoutEverywhereView(APIView):
    """End every session of the signed-in user: all refresh tokens and all access tokens, on every device."""

    permission_classes = [IsAuthenticatedWithRole]
    throttle_classes = [LogoutRateThrottle]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_sessions_revoke(user=request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _delete_auth_cookies(response)
        return response


class MeView(APIView):
    """The signed-in user."""

    permission_classes = [IsAuthenticatedWithRole]

    @extend_schema(responses={200: UserSerializer})
    def get(self, request):
        return Response(user_representation(request.user))


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfView(_PublicAuthView):
    """Sets the ``csrftoken`` cookie and returns the token in the body (an SPA on another host can't read it).

    Not throttled: every page load of the SPA asks for it, it touches neither the database nor the cache,
    and counting it against the anonymous 100/h locked offices out (issue 11 item 8).
    """

    throttle_classes: list = []

    @extend_schema(responses={200: CsrfTokenSerializer}, auth=[])
    def get(self, request):
        return Response({"csrfToken": get_token(request)})
