"""drf-spectacular extensions: describe the cookie and bearer auth schemes in the OpenAPI document."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CookieJWTScheme(OpenApiAuthenticationExtension):
    target_class = "backend.authentication.CookieJWTAuthentication"
    name = ["cookieJWT", "bearerJWT"]
    priority = 1

    def get_security_requirement(self, auto_schema):
        # Either scheme alone is enough: two alternatives, not one combined requirement.
        return [{"cookieJWT": []}, {"bearerJWT": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.AUTH_COOKIE_ACCESS,
                "description": "HttpOnly access cookie set by POST /api/auth/login/; unsafe methods also "
                "need the X-CSRFToken header (GET /api/auth/csrf/).",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Authorization: Bearer <access> (or JWT <access>) from POST /api/auth/token/; "
                "no CSRF needed.",
            },
        ]


class CognitoJWTScheme(OpenApiAuthenticationExtension):
    target_class = "backend.authentication.CognitoJWTAuthentication"
    name = "cognitoJWT"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An AWS Cognito ID token (RS256) for the configured user pool (production).",
        }
