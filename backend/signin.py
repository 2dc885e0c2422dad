"""The sign-in policy: one place that decides whether a password may be tried, for the API and the admin.

Failures are counted three ways (ADR 0021, docs/stack/auth.md "Sign-in limits"):

- per (email, client address): ``THROTTLE_RATE_LOGIN`` failures (5/hour) — one person mistyping, or one
  client guessing at one account, is stopped here;
- per client address, any email: ``THROTTLE_RATE_LOGIN_CLIENT`` failures (20/hour) — one client spraying
  many accounts; successful sign-ins never count, so an office signing in behind one address is not stopped;
- per email, any client: a ceiling (``SIGNIN_EMAIL_FAILURE_CEILING``, 50) far above typing mistakes, past
  which every further failure locks the email for an exponentially growing time (1 min, 2, 4 … at most 1 h).
  A stranger can no longer lock a user out with five guesses; a botnet spread over many addresses still
  meets a wall that grows with its effort.

A success clears the (email, client) and the email counters. Counters live in the shared cache; when it
is unreachable sign-in is refused with 503 and ``Retry-After`` (fail closed: per-process counters would
multiply an attacker's guesses by the number of workers). Hand-written rather than django-axes: axes has
one failure limit for all its counted combinations and no per-combination back-off (ADR 0021).
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from apps.users.emails import login_email
from backend.errors import ServiceUnavailableError, ThrottledError
from backend.throttles import CACHE_DOWN_RETRY_AFTER, CACHE_ERRORS, client_address

logger = logging.getLogger("coveris.auth")

EMAIL_MEMORY_SECONDS = 24 * 3600  # the per-email count is forgotten a day after its last failure
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600


def timer() -> float:
    return time.time()


def _rate(scope: str) -> tuple[int, int]:
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
    return SimpleRateThrottle.parse_rate(None, rate)


def _hash(value: str) -> str:
    # Hashed: any submitted string makes a safe cache key, and no addresses sit in the cache.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def email_backoff_seconds(failures: int) -> int:
    """The lock after ``failures`` failures on one email from anywhere: 0 below the ceiling, then doubling."""
    over = failures - settings.SIGNIN_EMAIL_FAILURE_CEILING
    if over < 0:
        return 0
    return min(BACKOFF_BASE_SECONDS * 2 ** min(over, 16), BACKOFF_MAX_SECONDS)


class SignInPolicy:
    """``check()`` before trying a password, then ``failed()`` or ``succeeded()``; raises ThrottledError or a 503."""

    def __init__(self, request, email: str | None):
        self.client = client_address(request)
        email_key = _hash(login_email(email)) if isinstance(email, str) and email.strip() else None
        self.client_key = f"signin:client:{_hash(self.client)}"
        self.pair_key = f"signin:pair:{email_key}:{_hash(self.client)}" if email_key else None
        self.email_key = f"signin:email:{email_key}" if email_key else None

    def _keys(self) -> list[str]:
        return [key for key in (self.client_key, self.pair_key, self.email_key) if key]

    def _read(self) -> dict:
        try:
            return cache.get_many(self._keys())
        except CACHE_ERRORS as exc:
            logger.warning("sign-in refused: its counters cannot be read (cache unreachable): %s", exc)
            raise ServiceUnavailableError(
                "Sign-in is briefly unavailable (its attempt counters cannot be read); retry later.",
                retry_after=CACHE_DOWN_RETRY_AFTER,
            ) from exc

    @staticmethod
    def _window_wait(history: list[float], limit: int, window: int, now: float) -> float:
        recent = [at for at in history if at > now - window]
        return recent[-limit] + window - now if len(recent) >= limit else 0

    def check(self) -> None:
        """Refuse (429 with the wait) while any counter is over its limit; attempts while refused do not count."""
        now = timer()
        values = self._read()
        pair_limit, pair_window = _rate("login")
        client_limit, client_window = _rate("login_client")
        waits = [self._window_wait(values.get(self.client_key, []), client_limit, client_window, now)]
        if self.pair_key:
            waits.append(self._window_wait(values.get(self.pair_key, []), pair_limit, pair_window, now))
        if self.email_key and self.email_key in values:
            failures, last = values[self.email_key]
            waits.append(last + email_backoff_seconds(failures) - now)
        wait = max(waits)
        if wait > 0:
            raise ThrottledError(retry_after=wait)

    def failed(self) -> None:
        """Count a failed attempt (wrong password, unknown or inactive user, or a malformed body)."""
        now = timer()
        try:
            values = cache.get_many(self._keys())
            updates = {}
            for key, window in ((self.client_key, _rate("login_client")[1]), (self.pair_key, _rate("login")[1])):
                if key:
                    updates[key] = ([at for at in values.get(key, []) if at > now - window] + [now], window)
            if self.email_key:
                failures, _ = values.get(self.email_key, (0, now))
                updates[self.email_key] = ((failures + 1, now), EMAIL_MEMORY_SECONDS)
                if email_backoff_seconds(failures + 1):
                    logger.warning(
                        "sign-in: %s failures on one account from all clients; locked for %s s",
                        failures + 1,
                        email_backoff_seconds(failures + 1),
                    )
            for key, (value, timeout) in updates.items():
                cache.set(key, value, timeout=timeout)
        except CACHE_ERRORS as exc:  # the attempt was answered; the next check refuses with 503 anyway
            logger.warning("sign-in failure not counted (cache unreachable): %s", exc)

    def succeeded(self) -> None:
        """The right password: this person's mistakes (here and on the account) are forgiven."""
        try:
            cache.delete_many([key for key in (self.pair_key, self.email_key) if key])
        except CACHE_ERRORS as exc:
            logger.warning("sign-in success not recorded (cache unreachable): %s", exc)


def submitted_email(request) -> str | None:
    """The email a sign-in request names, if any (an unreadable body names none)."""
    try:
        data = request.data
    except Exception:  # a malformed body: the view answers 400 and counts it
        return None
    email = data.get("email") if isinstance(data, dict) else None
    return email if isinstance(email, str) else None


class SignInThrottle(BaseThrottle):
    """The policy's ``check()`` as a DRF throttle, so the API's sign-in views refuse (and document) 429 and 503."""

    def allow_request(self, request, view) -> bool:
        try:
            SignInPolicy(request, submitted_email(request)).check()
        except ThrottledError as exc:
            self._wait = exc.retry_after
            return False
        return True

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
