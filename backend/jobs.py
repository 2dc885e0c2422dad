"""Where long work runs (``COVERIS_JOBS``, ADR 0015): on the job queue (procrastinate), in a thread of this
process, or inline. Plumbing only: the jobs themselves are each app's ``tasks.py``."""

from django.conf import settings
from django.db import connection


def jobs_mode() -> str:
    """The effective mode: ``auto`` is the queue on PostgreSQL and a thread on SQLite (no queue tables there)."""
    mode = settings.COVERIS_JOBS
    if mode == "auto":
        return "queue" if connection.vendor == "postgresql" else "thread"
    return mode
