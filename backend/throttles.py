"""Throttles; counters live in Django's cache (Redis when REDIS_URL is set, shared by all workers)."""

import hashlib

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from apps.users.emails import login_email


class CoverisAnonRateThrottle(AnonRateThrottle):
    scope = "anon"


class CoverisUserRateThrottle(UserRateThrottle):
    scope = "user"


class LoginIPRateThrottle(SimpleRateThrottle):
    """Login attempts per client IP; every attempt counts, failed ones included."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "login-ip", "ident": self.get_ident(request)}


class LoginEmailRateThrottle(SimpleRateThrottle):
    """Login attempts per submitted email, so rotating IPs does not buy more guesses at one account."""

    scope = "login"

    def get_cache_key(self, request, view):
        data = request.data if hasattr(request, "data") else {}
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        # Hashed: any submitted string makes a safe cache key, and no addresses sit in the cache.
        ident = hashlib.sha256(login_email(email).encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": "login-email", "ident": ident}


class TokenRefreshRateThrottle(SimpleRateThrottle):
    scope = "token_refresh"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LogoutRateThrottle(SimpleRateThrottle):
    scope = "logout"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuditVerifyRateThrottle(UserRateThrottle):
    """Per user: digests and verifications walk the rows appended since the last checkpoint, so each one is work."""

    scope = "audit_verify"
