"""Database-held guarantees for log tables: append-only triggers (PostgreSQL) and a Python-side refusal.

Why triggers, and why pgtrigger: the audit trail must hold against every client of the database, not only
against this code — a psql session, a data migration, ``QuerySet.update`` on Django's base manager (a plain
manager that ``AppendOnlyQuerySet`` does not cover). So PostgreSQL refuses: a row-level BEFORE UPDATE OR DELETE
trigger (``pgtrigger.Protect``) and, because TRUNCATE fires no row triggers, a statement-level BEFORE TRUNCATE
trigger. They are declared in each model's ``Meta.triggers`` with django-pgtrigger, so ``makemigrations`` writes
them into the app's migrations: installed, versioned and rolled out exactly like the tables, no hand-written SQL.
The one exception is TRUNCATE in a database whose name starts with ``test_``, the name Django's test runner
gives its databases: every ``TransactionTestCase`` (pytest's ``transaction=True``) ends with a flush that
truncates all tables, and refusing it would fail every such test at teardown. It is not a switch the running
application can flip; a deployment would have to name its database ``test_*`` (do not), and UPDATE and DELETE
are refused there too. Both halves are tested in ``apps/fsm/tests/test_append_only.py`` (the refusal by making
``current_database()`` answer another name for one savepoint). Whoever owns the table can still disable the
triggers on purpose (``pgtrigger.ignore``, ``ALTER TABLE ... DISABLE TRIGGER``): that is why the rows are also
hash-chained (``backend.audit.chain``), and ``manage.py verify_audit_chain`` shows any edit that got past them.
SQLite (local development) has no triggers; there only the Python refusal below applies.
"""

import pgtrigger
from django.db import models

# TRUNCATE is refused like UPDATE and DELETE, except in a database whose name starts with "test_": the
# test runner's own databases, whose TransactionTestCase clean-up truncates every table. Production
# code cannot open that door; it would have to run against a database named like a test database.
_TRUNCATE_FUNC = (
    "IF current_database() LIKE 'test\\_%' THEN RETURN NULL; END IF; "
    "RAISE EXCEPTION 'Coveris: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME; "
    "RETURN NULL;"
)


def append_only_triggers() -> list:
    """Triggers that make a table append-only: UPDATE, DELETE and TRUNCATE raise."""
    return [
        pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        pgtrigger.Trigger(
            name="append_only_truncate",
            level=pgtrigger.Statement,
            when=pgtrigger.Before,
            operation=pgtrigger.Truncate,
            func=_TRUNCATE_FUNC,
        ),
    ]


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a row of an append-only table."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk UPDATE and DELETE in Python too; the triggers are the guarantee on PostgreSQL."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: rows cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: rows cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Abstract base for log and ledger rows: insert once, never change, never delete."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} is append-only: rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} is append-only: rows cannot be deleted.")
