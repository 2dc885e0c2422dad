"""Logging helpers: every record carries the request id."""

import logging

from backend.request_context import get_request_id


class RequestIDFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id()
        return True
