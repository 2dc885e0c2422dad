"""Where long work runs (``COVERIS_JOBS``, ADR 0015): on the job queue (procrastinate), in a thread of this
process, or inline. Plumbing only: the jobs themselves are each app's ``tasks.py``."""

import threading

from django.conf import settings
from django.db import close_old_connections, connection


def jobs_mode() -> str:
    """The effective mode: ``auto`` is the queue on PostgreSQL and a thread on SQLite (no queue tables there)."""
    mode = settings.COVERIS_JOBS
    if mode == "auto":
        return "queue" if connection.vendor == "postgresql" else "thread"
    return mode


def run_in_thread(name: str, target, **kwargs) -> threading.Thread:
    """Run ``target(**kwargs)`` in a background thread of this process (local development: no worker to run)."""

    def run():
        try:
            target(**kwargs)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run, daemon=True, name=name)
    thread.start()
    return thread
