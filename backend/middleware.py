"""Request id propagation, and the error shape for errors raised outside DRF views under /api/."""

import logging
import re
import uuid

from django.http import HttpRequest, HttpResponse

from backend.exceptions import STATUS_CODES, error_json_response
from backend.request_context import current_request_id

logger = logging.getLogger("coveris.errors")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIDMiddleware:
    """Takes ``X-Request-ID`` from the request when it is sane, else generates one; echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class APIErrorMiddleware:
    """Under /api/: Django's own 404/405/403/500 pages become the JSON error shape, never HTML."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not _is_api(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        messages = {
            404: f"No API resource at {request.path}.",
            405: f"Method {request.method} is not allowed here.",
            403: "Permission denied.",
            500: "An unexpected error occurred.",
        }
        converted = error_json_response(status, STATUS_CODES.get(status), messages.get(status, "Request failed."))
        if status == 405 and response.has_header("Allow"):
            converted["Allow"] = response["Allow"]
        return converted

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not _is_api(request):
            return None
        logger.exception("unhandled error under /api/", exc_info=exception)
        return error_json_response(500, "server_error", "An unexpected error occurred.")
