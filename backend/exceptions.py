"""The one error shape: {"error": {"code", "message", "details"}} for every error under /api/.

The domain's errors live in ``backend.errors`` (no DRF there); this module maps them, DRF's, Django's and the
database's to HTTP. The domain classes are re-exported here for code that already imports them from this module.
"""

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
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from backend.errors import (  # noqa: F401 - re-exported: the domain's errors, one class per code
    ERROR_CODES,
    ConflictError,
    CoverisError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RuleViolationError,
    ServiceUnavailableError,
    ThrottledError,
    TokenInvalidError,
    TransitionNotAllowedError,
    first_message,
)

logger = logging.getLogger("coveris.errors")


class CSRFFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"
    default_detail = "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header."


def database_error_as_domain_error(exc: BaseException) -> CoverisError | None:
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


def plain_error_response(exc: BaseException) -> JsonResponse | None:
    """For code paths outside DRF (middleware, Django's error handlers): the JSON response for a domain error or a
    database fault (409/503), or None for anything else."""
    error = exc if isinstance(exc, CoverisError) else database_error_as_domain_error(exc)
    if error is None:
        return None
    response = error_json_response(error.status_code, error.code, error.message, error.details)
    if isinstance(error, ServiceUnavailableError):
        response["Retry-After"] = _retry_after(error.retry_after)
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


def _retry_after(wait: float) -> str:
    return str(int(wait) + (0 if float(wait).is_integer() else 1))


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, CSRFFailed):
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


def _protected_conflict(exc: ProtectedError | RestrictedError) -> ConflictError:
    """A delete refused because other rows still point at the object: 409 naming what blocks it."""
    blockers = Counter(str(obj._meta.verbose_name_plural) for obj in exc.protected_objects)
    listing = ", ".join(f"{count} {name}" for name, count in sorted(blockers.items()))
    return ConflictError(
        f"This cannot be deleted: {listing} still refer to it.",
        details={"protected_by": dict(sorted(blockers.items()))},
    )


def _domain_error_response(exc: CoverisError, context: dict) -> Response:
    """A domain error in the shape, with its code's status; a 401 names the view's scheme, as DRF does for its own."""
    from rest_framework.views import set_rollback

    status_code, headers = exc.status_code, {}
    if status_code == 401:
        view, request = context.get("view"), context.get("request")
        auth_header = view.get_authenticate_header(request) if view is not None and request is not None else None
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        else:  # no scheme to name: DRF answers 403 rather than a 401 without WWW-Authenticate
            status_code = 403
    if isinstance(exc, ServiceUnavailableError | ThrottledError) and exc.retry_after:
        headers["Retry-After"] = _retry_after(exc.retry_after)
    set_rollback()
    return Response(error_body(exc.code, exc.message, exc.details), status=status_code, headers=headers)


def coveris_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF exception handler: every exception becomes the one error shape; never a stack trace."""
    from rest_framework.views import set_rollback  # late: rest_framework.views imports the auth classes

    from backend.throttles import refund_counted_window  # late: backend.throttles imports backend.errors

    # A request authentication counted against its user's budget in advance (ADR 0040) and refused before the
    # throttles (401, 403): its entry is taken back, so, as with DRF, only requests that reach the throttles count.
    if context.get("request") is not None:
        refund_counted_window(context["request"])

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoBadRequest):
        exc = InvalidInputError(message=str(exc) or None)
    elif isinstance(exc, RequestDataTooBig):
        exc = InvalidInputError(message="The request body is too large.")
    elif isinstance(exc, SuspiciousOperation):
        # Its message may name server paths or hosts: logged, not echoed.
        logger.warning("suspicious request answered as 400: %s", exc)
        exc = InvalidInputError()
    elif isinstance(exc, TokenError):
        exc = InvalidToken(str(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = _protected_conflict(exc)
    elif (database_error := database_error_as_domain_error(exc)) is not None:
        exc = database_error
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what Python did not: a conflict with existing data, not a crash.
        logger.info("integrity error answered as 409: %s", exc)
        exc = ConflictError("The change conflicts with existing data (a database constraint refused it).")
    elif isinstance(exc, RecursionError) and _raised_by_parser(exc):
        # json raises RecursionError (not ValueError, which DRF catches) for deeply nested input: bad input.
        exc = exceptions.ParseError("JSON parse error - the document is nested too deeply.")

    if isinstance(exc, CoverisError):
        return _domain_error_response(exc, context)
    if not isinstance(exc, exceptions.APIException):
        logger.exception("unhandled error in API view", exc_info=exc)
        set_rollback()
        return Response(error_body("server_error", "An unexpected error occurred."), status=500)

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = _retry_after(exc.wait)

    code = _code_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        details = _validation_details(exc.detail)
        message = "Invalid input: " + first_message(details)
    elif isinstance(exc, exceptions.ParseError):  # SPEC §3: every 400 is a validation_error
        message = str(exc.detail)
        details = {"non_field_errors": [message]}
    elif isinstance(exc, exceptions.Throttled):
        message = "Too many requests; retry later."
        retry_after = headers.get("Retry-After")
        details = {"retry_after_seconds": int(retry_after) if retry_after else None}
    else:
        message, details = first_message(exc.detail), None
        if isinstance(exc.detail, dict) and len(exc.detail) > 1:
            details = {k: v for k, v in exc.detail.items() if k != "detail"}

    set_rollback()
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)
