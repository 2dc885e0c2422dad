"""Database-held guarantees for log tables: append-only triggers (PostgreSQL) and a Python-side refusal."""

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
