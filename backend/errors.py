"""Domain errors: one class per error code, each carrying ``code``, ``message`` and ``details`` (ADR 0027).

Services, selectors, the rules engine and the planner raise these; nothing here knows about HTTP frameworks, so
the admin, management commands, the import and the job queue catch the same classes the API does. The DRF
exception handler (``backend.exceptions``) and Django's error views map them to the one error shape (ADR 0007),
with the status ``ERROR_CODES`` gives each code.
"""

from typing import Any

# code → HTTP status, in the order SPEC §3 documents them. The schema's ``ErrorCode`` enum is this list; the
# API's exception handler answers a domain error with its code's status.
ERROR_CODES: dict[str, int] = {
    "validation_error": 400,
    "not_authenticated": 401,
    "token_invalid": 401,
    "permission_denied": 403,
    "csrf_failed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "transition_not_allowed": 409,
    "conflict": 409,
    "precondition_failed": 412,
    "unsupported_media_type": 415,
    "rule_violation": 422,
    "throttled": 429,
    "server_error": 500,
    "service_unavailable": 503,
}


def first_message(detail: Any) -> str:
    """The first message of a (possibly nested) error structure, prefixed by its field name."""
    if isinstance(detail, list | tuple):
        return first_message(detail[0]) if detail else ""
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = first_message(value)
            return f"{key}: {text}" if key not in ("non_field_errors", "detail") else text
        return ""
    return str(detail)


def _messages(errors: Any) -> Any:
    """Field errors with every leaf a string (lazy translations forced), tuples as lists."""
    if isinstance(errors, dict):
        return {key: _messages(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_messages(item) for item in errors]
    return str(errors)


class CoverisError(Exception):
    """Base of every domain error: ``code`` (one of ``ERROR_CODES``), a one-sentence ``message`` and ``details``."""

    code: str = "server_error"
    default_message: str = "An unexpected error occurred."

    def __init__(self, message: str | None = None, *, details: Any = None):
        self.message = str(message or self.default_message)
        self.details = details
        super().__init__(self.message)

    @property
    def status_code(self) -> int:
        """The HTTP status the API answers this error with (the code's, from ``ERROR_CODES``)."""
        return ERROR_CODES[self.code]


class InvalidInputError(CoverisError):
    """``validation_error``: bad input. ``details`` map each field (or ``non_field_errors``) to its messages.

    ``InvalidInputError({"employee": ["Unknown employee."]})`` names fields (message "Invalid input: employee:
    Unknown employee."); ``InvalidInputError(message="Bad request.")`` is about no field in particular.
    """

    code = "validation_error"
    default_message = "Bad request."

    def __init__(self, errors: Any = None, *, message: str | None = None, details: Any = None):
        if errors is not None:
            if not isinstance(errors, dict | list | tuple):
                errors = [errors]
            details = _messages(errors if isinstance(errors, dict) else {"non_field_errors": errors})
            message = message or "Invalid input: " + first_message(details)
        elif details is None:
            details = {"non_field_errors": [str(message or self.default_message)]}
        super().__init__(message, details=details)
        self.field_errors = details if errors is not None else None


class NotAuthenticatedError(CoverisError):
    """``not_authenticated``: no credentials, or a failed sign-in (the same answer for every cause)."""

    code = "not_authenticated"
    default_message = "Authentication credentials were not provided."


class TokenInvalidError(CoverisError):
    """``token_invalid``: a token was sent but is malformed, expired, revoked, or its user is gone."""

    code = "token_invalid"
    default_message = "Token is invalid or expired"


class PermissionDeniedError(CoverisError):
    """``permission_denied``: the actor's role or scope does not allow it."""

    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class NotFoundError(CoverisError):
    """``not_found``: no such object (or one outside the actor's scope)."""

    code = "not_found"
    default_message = "Not found."


class ConflictError(CoverisError):
    """``conflict``: the change conflicts with existing data or with the object's current state."""

    code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class TransitionNotAllowedError(CoverisError):
    """``transition_not_allowed``: details name the current state and the transitions open from it."""

    code = "transition_not_allowed"
    default_message = "This transition is not allowed from the current state."


class PreconditionFailedError(CoverisError):
    """``precondition_failed``."""

    code = "precondition_failed"
    default_message = "A precondition of the request failed."


class RuleViolationError(CoverisError):
    """``rule_violation``: details list the failing rule results (``violations``) and every result."""

    code = "rule_violation"
    default_message = "The change breaks one or more business rules."


class ThrottledError(CoverisError):
    """``throttled``: too many attempts; ``retry_after`` is the wait in seconds (None when unknown)."""

    code = "throttled"
    default_message = "Too many requests; retry later."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None):
        self.retry_after = retry_after
        seconds = None if retry_after is None else int(retry_after) + (0 if float(retry_after).is_integer() else 1)
        super().__init__(message, details={"retry_after_seconds": seconds})


class ServiceUnavailableError(CoverisError):
    """``service_unavailable``: a dependency (database, cache) is down or overloaded; retry after ``retry_after``."""

    code = "service_unavailable"
    default_message = "The service is temporarily unavailable; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, details: Any = None):
        from django.conf import settings

        self.retry_after = retry_after or getattr(settings, "SERVICE_UNAVAILABLE_RETRY_AFTER", 5)
        super().__init__(message, details=details if details is not None else {"retry_after_seconds": self.retry_after})
