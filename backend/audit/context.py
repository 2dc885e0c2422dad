"""The change history's context for a block of work: who, why, through which request or transition.

On PostgreSQL django-pghistory passes it to the database triggers in session settings (``pghistory.context``
prefixes each statement with ``set_config``). SQLite (local development) has neither triggers nor ``set_config``;
there the same context is held in Python only — pghistory's own tracker, entered without its SQL hook — and
``backend.audit.recorder`` writes the change rows from Python with it (``pghistory.create_event`` reads that
tracker). Either way, code states its context once: ``with audit_context(user=..., reason=...)``.
"""

import contextlib
import uuid
from urllib.parse import unquote

import pghistory
from django.db import connection
from pghistory import runtime

# The API's way to say why a write is made (docs/stack/api-conventions.md): percent-encoded UTF-8 text.
REASON_HEADER = "X-Change-Reason"
REASON_MAX_LENGTH = 2000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # the requests whose changes it explains


class ReasonError(ValueError):
    """An ``X-Change-Reason`` header that is not text we can store."""


def reason_from_header(raw: str | None) -> str:
    """The reason an ``X-Change-Reason`` header carries ("" when absent); ``ReasonError`` when it is unusable."""
    if not raw:
        return ""
    try:
        reason = unquote(raw, errors="strict").strip()
    except UnicodeDecodeError as exc:
        raise ReasonError(f"{REASON_HEADER} must be percent-encoded UTF-8 text.") from exc
    if len(reason) > REASON_MAX_LENGTH:
        raise ReasonError(f"{REASON_HEADER} may be at most {REASON_MAX_LENGTH} characters.")
    if any(ord(char) < 32 and char not in "\t\n" for char in reason):
        raise ReasonError(f"{REASON_HEADER} must not contain control characters.")
    return reason


def has_context() -> bool:
    """True inside any ``audit_context`` (or pghistory context): the change is the application's, not raw SQL's."""
    return hasattr(runtime._tracker, "value")


def current_context() -> dict | None:
    """The metadata change rows written now would carry, or None outside any context."""
    return dict(runtime._tracker.value.metadata) if has_context() else None


@contextlib.contextmanager
def _python_tracker(metadata: dict):
    """pghistory's tracker without its SQL hook (what SQLite can hold); nested contexts add their keys to it."""
    if has_context():
        runtime._tracker.value.metadata.update(metadata)
        yield runtime._tracker.value
        return
    runtime._tracker.value = runtime.Context(id=uuid.uuid4(), metadata=dict(metadata))
    try:
        yield runtime._tracker.value
    finally:
        del runtime._tracker.value


def audit_context(**metadata):
    """``with audit_context(user=actor_pk, reason=...)``: change rows written inside carry these (empty ones left
    out). Inside a request's (or any outer) context the keys are added to it, for the rest of that context."""
    metadata = {key: value for key, value in metadata.items() if value not in (None, "")}
    if connection.vendor != "postgresql":
        return _python_tracker(metadata)
    return pghistory.context(**metadata)
