"""Health checks and Django-level error views that answer in the error shape."""

import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

from backend.errors import ServiceUnavailableError
from backend.exceptions import database_error_as_domain_error, error_json_response, plain_error_response

logger = logging.getLogger("coveris.health")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    """``SELECT 1`` within ``READYZ_TIMEOUT`` seconds: a probe must get its answer before its own timeout."""
    connection = connections["default"]
    pool = getattr(connection, "pool", None)
    try:
        if pool is not None:
            # Straight from the pool, with the probe's own bound (requests wait DATABASE_POOL_TIMEOUT): a pooled
            # connection is checked on checkout, and a down database fails after the bound, not the pool's timeout.
            pool.open()
            with pool.connection(timeout=settings.READYZ_TIMEOUT) as pg:
                pg.execute("SELECT 1").fetchone()
        else:  # SQLite, or PostgreSQL without the pool (bounded by the connect timeout)
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the logs
        logger.warning("readiness: database unreachable: %s", exc)
        return "unreachable"
    return None


def _check_cache() -> str | None:
    try:
        cache.set("coveris:readyz", "1", timeout=5)
        if cache.get("coveris:readyz") != "1":
            return "read-back failed"
    except Exception as exc:
        logger.warning("readiness: cache unreachable: %s", exc)
        return "unreachable"
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and the cache answer; 503 naming what does not."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    ok = all(problem is None for problem in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: ("ok" if problem is None else problem) for name, problem in checks.items()},
    }
    response = JsonResponse(body, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(settings.SERVICE_UNAVAILABLE_RETRY_AFTER)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """Django's CSRF middleware refusal, in the error shape for API paths."""
    if request.path.startswith("/api/"):
        return error_json_response(403, "csrf_failed", f"CSRF check failed: {reason}")
    from django.views.csrf import csrf_failure as default_csrf_failure

    return default_csrf_failure(request, reason)


# The handlers below answer errors Django raises itself, including those raised in middleware that runs
# before APIErrorMiddleware (a disallowed Host header, for one), so they must speak JSON under /api/ too.


def handler400(request: HttpRequest, exception: Exception):
    if request.path.startswith("/api/"):
        return error_json_response(400, "validation_error", "Bad request.", {"non_field_errors": ["Bad request."]})
    return bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception):
    if request.path.startswith("/api/"):
        return error_json_response(403, "permission_denied", "Permission denied.")
    return permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception):
    if request.path.startswith("/api/"):
        return error_json_response(404, "not_found", f"No API resource at {request.path}.")
    return page_not_found(request, exception)


def handler500(request: HttpRequest):
    # Django calls this inside its ``except`` block, so the exception is still at hand. A database outage raised
    # in a middleware (sessions, the admin's user) or a non-API view is a 503 with Retry-After, not a crash.
    exception = sys.exc_info()[1]
    if exception is not None and request.path.startswith("/api/"):
        if (answer := plain_error_response(exception)) is not None:  # a domain error or a database fault
            return answer
    elif exception is not None and (fault := database_error_as_domain_error(exception)) is not None:
        response = HttpResponse(
            "Service temporarily unavailable; retry later.\n",
            status=fault.status_code,
            content_type="text/plain; charset=utf-8",
        )
        if isinstance(fault, ServiceUnavailableError):
            response["Retry-After"] = str(fault.retry_after)
        return response
    if request.path.startswith("/api/"):
        return error_json_response(500, "server_error", "An unexpected error occurred.")
    return server_error(request)
