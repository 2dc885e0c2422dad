"""The one error shape: {"error": {"code", "message", "details"}} for every error under /api/."""

import logging
from collections import Counter
from typing import Any

from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

logger = logging.getLogger("coveris.errors")


class CSRFFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"
    default_detail = "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header."


class InvalidCredentials(exceptions.AuthenticationFailed):
    """A failed sign-in: 401 ``not_authenticated`` (SPEC §3's code for 401 without a token to blame)."""

    default_code = "not_authenticated"
    default_detail = "Invalid email or password."


class CoverisAPIError(exceptions.APIException):
    """Base of the errors Coveris raises itself: one subclass per error code, with structured ``details``."""

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        self.details = details


class BadRequestError(CoverisAPIError):
    """A malformed request that is not about particular fields (Django's BadRequest, SuspiciousOperation)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "validation_error"
    default_detail = "Bad request."

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        if self.details is None:  # a 400 is a validation_error, whose details map fields to messages
            self.details = {"non_field_errors": [str(self.detail)]}


class ConflictError(CoverisAPIError):
    """409 ``conflict``: the change conflicts with existing data or with the object's current state."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."


class TransitionNotAllowedError(CoverisAPIError):
    """409 ``transition_not_allowed``: details name the current state and the transitions open from it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "transition_not_allowed"
    default_detail = "This transition is not allowed from the current state."


class PreconditionFailedError(CoverisAPIError):
    """412 ``precondition_failed``."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "A precondition of the request failed."


class RuleViolationError(CoverisAPIError):
    """422 ``rule_violation``: details list the failing rule results (``violations``) and every result."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "rule_violation"
    default_detail = "The change breaks one or more business rules."


class ServiceUnavailableError(CoverisAPIError):
    """503 ``service_unavailable`` with ``Retry-After``: a dependency (database, cache) is down or overloaded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **kwargs):
        from django.conf import settings

        self.wait = retry_after or getattr(settings, "SERVICE_UNAVAILABLE_RETRY_AFTER", 5)
        kwargs.setdefault("details", {"retry_after_seconds": self.wait})
        super().__init__(message, **kwargs)


def database_error_as_api_error(exc: BaseException) -> exceptions.APIException | None:
    """A deadlock or serialization failure → 409 ``conflict``; no usable connection → 503; anything else None."""
    from backend.db import is_database_unavailable, is_transaction_conflict

    if is_transaction_conflict(exc):
        logger.info("transaction conflict answered as 409: %s", exc)
        return ConflictError(
            "The change collided with concurrent changes to the same data; try again.", details={"retryable": True}
        )
    if is_database_unavailable(exc):
        logger.warning("database unavailable, answered as 503: %s", exc)
        return ServiceUnavailableError("The database is unavailable or overloaded; retry later.")
    return None


def service_unavailable_response(exc: BaseException) -> JsonResponse | None:
    """For code paths outside DRF (middleware, Django's error handlers): the 409/503 JSON response, or None."""
    api_error = database_error_as_api_error(exc)
    if api_error is None:
        return None
    response = error_json_response(
        api_error.status_code, api_error.default_code, str(api_error.detail), api_error.details
    )
    if getattr(api_error, "wait", None):
        response["Retry-After"] = str(api_error.wait)
    return response


# Status → code for exceptions that do not name their own.
STATUS_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    415: "unsupported_media_type",
    422: "rule_violation",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def error_json_response(status_code: int, code: str | None = None, message: str = "", details: Any = None):
    """A plain Django JsonResponse in the error shape (for code paths outside DRF)."""
    code = code or STATUS_CODES.get(status_code, "error")
    return JsonResponse(error_body(code, message, details), status=status_code)


def _first_message(detail: Any) -> str:
    if isinstance(detail, list | tuple):
        return _first_message(detail[0]) if detail else ""
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return f"{key}: {text}" if key not in ("non_field_errors", "detail") else text
        return ""
    return str(detail)


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, CoverisAPIError):
        return getattr(exc.detail, "code", None) or exc.default_code
    if isinstance(exc, CSRFFailed | InvalidCredentials):
        return exc.default_code
    if isinstance(exc, exceptions.AuthenticationFailed):  # includes simplejwt's InvalidToken
        return "token_invalid"
    if exc.status_code in (409, 412, 422):
        return exc.default_code
    return STATUS_CODES.get(exc.status_code, "error")


def _validation_details(detail: Any) -> Any:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def _raised_by_parser(exc: BaseException) -> bool:
    """Whether the exception escaped a DRF parser, that is, came from reading the request body."""
    from rest_framework.parsers import BaseParser

    tb = exc.__traceback__
    while tb is not None:
        if isinstance(tb.tb_frame.f_locals.get("self"), BaseParser):
            return True
        tb = tb.tb_next
    return False


def _protected_conflict(exc: ProtectedError | RestrictedError) -> "ConflictError":
    """A delete refused because other rows still point at the object: 409 naming what blocks it."""
    blockers = Counter(str(obj._meta.verbose_name_plural) for obj in exc.protected_objects)
    listing = ", ".join(f"{count} {name}" for name, count in sorted(blockers.items()))
    return ConflictError(
        f"This cannot be deleted: {listing} still refer to it.",
        details={"protected_by": dict(sorted(blockers.items()))},
    )


def coveris_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF exception handler: every exception becomes the one error shape; never a stack trace."""
    from rest_framework.views import set_rollback  # late: rest_framework.views imports the auth classes

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoBadRequest):
        exc = BadRequestError(str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = BadRequestError("The request body is too large.")
    elif isinstance(exc, SuspiciousOperation):
        # Its message may name server paths or hosts: logged, not echoed.
        logger.warning("suspicious request answered as 400: %s", exc)
        exc = BadRequestError()
    elif isinstance(exc, TokenError):
        exc = InvalidToken(str(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = _protected_conflict(exc)
    elif (database_error := database_error_as_api_error(exc)) is not None:
        exc = database_error
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what Python did not: a conflict with existing data, not a crash.
        logger.info("integrity error answered as 409: %s", exc)
        exc = ConflictError("The change conflicts with existing data (a database constraint refused it).")
    elif isinstance(exc, RecursionError) and _raised_by_parser(exc):
        # json raises RecursionError (not ValueError, which DRF catches) for deeply nested input: bad input.
        exc = exceptions.ParseError("JSON parse error - the document is nested too deeply.")

    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled error in API view", exc_info=exc)
        set_rollback()
        return Response(error_body("server_error", "An unexpected error occurred."), status=500)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + (0 if float(exc.wait).is_integer() else 1))

    code = _code_for(exc)
    if isinstance(exc, CoverisAPIError):
        message, details = str(exc.detail), exc.details
    elif isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
        message = "Invalid input: " + _first_message(details)
    elif isinstance(exc, exceptions.ParseError):  # SPEC §3: every 400 is a validation_error
        message = str(exc.detail)
        details = {"non_field_errors": [message]}
    elif isinstance(exc, exceptions.Throttled):
        message = "Too many requests; retry later."
        retry_after = headers.get("Retry-After")
        details = {"retry_after_seconds": int(retry_after) if retry_after else None}
    else:
        message, details = _first_message(exc.detail), None
        if isinstance(exc.detail, dict) and len(exc.detail) > 1:
            details = {k: v for k, v in exc.detail.items() if k != "detail"}

    set_rollback()
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)
