"""Database routing: the job queue's tables exist only on PostgreSQL.

procrastinate (the job queue, ADR 0015) ships its schema as PostgreSQL SQL (functions, triggers, LISTEN/NOTIFY).
On SQLite — local use with zero set-up — its migrations are skipped and plans are solved in a thread instead.
"""

from django.db import connections

POSTGRES_ONLY_APPS = frozenset({"procrastinate"})


class PostgresOnlyAppsRouter:
    """Skip migrating the PostgreSQL-only apps on any other database."""

    def allow_migrate(self, db, app_label, **hints):
        if app_label in POSTGRES_ONLY_APPS and connections[db].vendor != "postgresql":
            return False
        return None
