"""The current request id, visible to logs, services and log rows without passing it around."""

from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


def get_request_id() -> str:
    return current_request_id.get()


def request_id_for_storage() -> str:
    """The request id to store on a row: "" outside a request (the "-" placeholder is only for logs)."""
    request_id = get_request_id()
    return "" if request_id == "-" else request_id
