"""Request id propagation, and the error shape for errors raised outside DRF views under /api/.

Every middleware here runs in the handler's own mode — ``async`` under ASGI (granian, uvicorn), plain calls under
WSGI and the test client — so a request crosses from the event loop to a thread once, for the view, not once per
middleware (issue 8 counted four sync-only middleware, four async↔sync hops per request). The pattern is Django's
own for dual-mode middleware (``sync_capable``/``async_capable``, ``markcoroutinefunction``).
"""

import logging
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.common import CommonMiddleware
from django.urls import is_valid_path
from pghistory.middleware import HistoryMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware

from backend.audit.context import REASON_HEADER, WRITE_METHODS, ReasonError, audit_context, reason_from_header
from backend.exceptions import STATUS_CODES, error_json_response, plain_error_response
from backend.request_context import current_request_id

logger = logging.getLogger("coveris.errors")
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Exceptions Django itself answers with a 4xx; they are the client's error, not a crash.
_CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)
# A 400 from Django (bad Host, suspicious or malformed request) has no field details: not a validation error.


class _DualModeMiddleware:
    """Base for middleware that runs as a coroutine when the handler is async, and as a plain call otherwise."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)


class HealthzMiddleware(_DualModeMiddleware):
    """Answers GET/HEAD /healthz before Host validation and HTTPS redirects: platform probes send any Host."""

    @staticmethod
    def _is_healthz(request: HttpRequest) -> bool:
        return request.path == "/healthz" and request.method in ("GET", "HEAD")

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self._acall(request)
        if self._is_healthz(request):
            from backend.views import healthz

            return healthz(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        if self._is_healthz(request):
            from backend.views import healthz

            return healthz(request)  # no I/O: answered on the event loop
        return await self.get_response(request)


class RequestIDMiddleware(_DualModeMiddleware):
    """Takes ``X-Request-ID`` from the request when it is sane, else generates one; echoes it back."""

    @staticmethod
    def _request_id(request: HttpRequest) -> str:
        incoming = request.headers.get("X-Request-ID", "")
        # fullmatch, not match: "$" would accept a trailing newline, which cannot go back out in a header.
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        return request_id

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self._acall(request)
        request_id = self._request_id(request)
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = self._request_id(request)
        # The view's thread runs in a copy of this context (asgiref copies contextvars), so logs there see it too.
        token = current_request_id.set(request_id)
        try:
            response = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, able to run async: WhiteNoiseMiddleware is sync-only, which cost every request two thread hops.

    Under ASGI a path that is not a static file (every API request) goes straight on, on the event loop; a static
    file (the admin's assets) is served from a thread, as WhiteNoise opens the file.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        if self.autorefresh:  # development (DEBUG): looks at the file system
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)


_CSP_POLICIES: dict[bool, str] = {}  # report_only -> the settings' policy without a nonce
_CSP_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")


@receiver(setting_changed)
def _forget_csp_policies(*, setting, **kwargs) -> None:
    if setting in _CSP_SETTINGS:
        _CSP_POLICIES.clear()


def _csp_policy(report_only: bool) -> str:
    policy = _CSP_POLICIES.get(report_only)
    if policy is None:
        policy = _CSP_POLICIES[report_only] = build_policy(report_only=report_only)
    return policy


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the headers of a response that asks nothing of its own built once per process.

    django-csp builds both headers (the policy and its report-only twin) from the settings on every response, about
    27 µs of a 2 ms list request (issue 8). A response with no per-view policy (``@csp_update`` and the like) whose
    request never asked for a nonce (every JSON response) gets exactly that text each time: here it is built once
    (again when a CSP setting changes, as in tests) and set under django-csp's own conditions; any other response
    goes through django-csp unchanged (``backend/tests/test_security_headers.py`` compares the two)."""

    _PER_RESPONSE = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    )

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in self._PER_RESPONSE)
            or (settings.DEBUG and response.status_code in (500, 404))
        ):
            return super().process_response(request, response)
        for report_only, header, exempt, setting in (
            (False, CSP_HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (True, CSP_HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            policy = _csp_policy(report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        # as django-csp: a nonce asked for after the header is written is an error, not a nonce missing from it
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _is_json(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


class APICommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, except that under /api/ an unsafe request missing its trailing slash is not
    redirected: a redirect drops the body (and with DEBUG Django raises instead), so it answers 404 naming the
    right path. Safe methods are still redirected, as browsers expect."""

    def should_redirect_with_slash(self, request) -> bool:
        if request.path_info.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            return False
        return super().should_redirect_with_slash(request)


def _not_found_message(request: HttpRequest) -> str:
    path = request.path_info
    if not path.endswith("/") and is_valid_path(f"{path}/", getattr(request, "urlconf", None)):
        return f"No API resource at {request.path}; paths end with a slash: {request.path}/"
    return f"No API resource at {request.path}."


class APIErrorMiddleware(_DualModeMiddleware):
    """Under /api/: Django's own 400/403/404/405/500 pages become the JSON error shape, never HTML."""

    # Headers the client needs to act on the error; they survive the conversion.
    _KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self._acall(request)
        return self._convert(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._convert(request, await self.get_response(request))

    def _convert(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not _is_api(request) or response.status_code < 400 or _is_json(response):
            return response
        status = response.status_code
        data = getattr(response, "data", None)
        if isinstance(data, dict) and "error" in data:
            # A DRF error already in the shape, rendered by a view's non-JSON renderer (the schema's YAML).
            converted = JsonResponse(data, status=status)
        else:
            messages = {
                400: "Bad request.",
                403: "Permission denied.",
                404: _not_found_message(request),
                405: f"Method {request.method} is not allowed here.",
                500: "An unexpected error occurred.",
            }
            message = messages.get(status, "Request failed.")
            details = {"non_field_errors": [message]} if status == 400 else None  # a 400 is a validation_error
            converted = error_json_response(status, STATUS_CODES.get(status), message, details)
        for header in self._KEPT_HEADERS:
            if response.has_header(header):
                converted[header] = response[header]
        return converted

    def process_exception(self, request: HttpRequest, exception: Exception):
        # Http404, PermissionDenied, SuspiciousOperation...: Django turns them into 404/403/400 and
        # __call__ above puts that response in the error shape; only real crashes are answered here.
        if not _is_api(request) or isinstance(exception, _CLIENT_ERRORS):
            return None
        # Database down, pool exhausted, deadlock: 503/409 in the error shape, not a crash.
        if (response := plain_error_response(exception)) is not None:
            return response
        logger.exception("unhandled error under /api/", exc_info=exception)
        return error_json_response(500, "server_error", "An unexpected error occurred.")


class HistoryContextMiddleware(HistoryMiddleware):
    """django-pghistory's context for every write request: the actor (set when DRF authenticates), the URL, the
    request id and the caller's reason (``X-Change-Reason``), so each change-history row says who, through what,
    which request and why. Place after ``RequestIDMiddleware`` and ``AuthenticationMiddleware``.

    On PostgreSQL the context reaches the triggers; on SQLite it is held in Python for ``backend.audit.recorder``
    (``backend.audit.context``). A reason header that cannot be stored is a 400 before the view runs."""

    def get_context(self, request: HttpRequest) -> dict:
        context = {**super().get_context(request), "request_id": getattr(request, "request_id", "")}
        if reason := getattr(request, "change_reason", ""):
            context["reason"] = reason
        return context

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:  # read on writes only: a read has nothing to explain (and its schema documents no such 400)
            raw = request.headers.get(REASON_HEADER) if request.method in WRITE_METHODS else None
            request.change_reason = reason_from_header(raw)
        except ReasonError as exc:
            return error_json_response(400, "validation_error", str(exc), {REASON_HEADER: [str(exc)]})
        if connection.vendor == "postgresql":
            return super().__call__(request)
        # No set_config on SQLite: enter the context in Python first, so pghistory's (entered inside) adds no SQL.
        with audit_context():
            return super().__call__(request)
