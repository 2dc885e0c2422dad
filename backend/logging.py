"""Logging helpers: every record carries the request id."""

import logging

from backend.request_context import get_request_id


class RequestIDFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = get_request_id()
        if request_id == "-":  # django.request logs 4xx/5xx after the middleware chain has returned
            request_id = getattr(getattr(record, "request", None), "request_id", None) or "-"
        record.request_id = request_id
        return True
