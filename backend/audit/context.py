"""The change history's context for a block of work: who, why, through which transition.

django-pghistory passes it to the database triggers in PostgreSQL settings; elsewhere (local SQLite) there are
no triggers to read it, so this is a no-op there.
"""

import contextlib

import pghistory
from django.db import connection


def audit_context(**metadata):
    """``with audit_context(user=actor_pk, reason=...)``: change rows written inside carry these (empty ones left
    out). Inside a request's context the keys are added to it."""
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    return pghistory.context(**{key: value for key, value in metadata.items() if value not in (None, "")})
