"""The current request id, visible to logs, services and log rows without passing it around."""

from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


def get_request_id() -> str:
    return current_request_id.get()
