"""Health checks and Django-level error views that answer in the error shape."""

import logging

from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error

from backend.exceptions import error_json_response

logger = logging.getLogger("coveris.health")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
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
    return JsonResponse(body, status=200 if ok else 503)


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
    if request.path.startswith("/api/"):
        return error_json_response(500, "server_error", "An unexpected error occurred.")
    return server_error(request)
