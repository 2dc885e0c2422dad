"""Trigger-ignore plumbing for long bulk transactions (PostgreSQL; ``seed_demo``, ADR 0037).

Every django-pgtrigger trigger starts by calling ``_pgtrigger_should_ignore``, which reads the ``pgtrigger.ignore``
setting inside a ``BEGIN … EXCEPTION`` block and casts it to ``text[]``. When the setting is missing (a session that
never ignored a trigger) or empty (``pgtrigger.ignore`` sets it to NULL, session-wide, when its block ends inside a
transaction), the read or the cast raises and the block's subtransaction is rolled back. That costs microseconds in
a short transaction, but its cost grows with the transaction: about 0.8 ms a call inside one ``seed_demo`` batch of
3,000 employees, about 2 ms in a batch of 10,000 (one per row and trigger, twice per change-history row: the
history trigger and the chain seal). With a valid empty array (``'{}'``: ignore nothing) the cast succeeds, nothing
is rolled back, and the check costs microseconds again — 190× less, measured inside a load.

``checks_without_exceptions()`` sets that value for the current transaction only (``set_config(…, true)``), so the
session keeps whatever it had once the transaction ends; it changes no trigger's decision (``'{}'`` ignores
nothing, as a missing setting does). ``ignore(...)`` is ``pgtrigger.ignore`` followed by the same, so a bulk
transaction that ignores triggers for some statements keeps cheap checks for the rest. This module imports no
domain app.
"""

import contextlib

import pgtrigger
from django.db import connection


def checks_without_exceptions() -> None:
    """Make trigger checks in the current transaction take no exception path (PostgreSQL; else nothing)."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


@contextlib.contextmanager
def ignore(*uris: str):
    """``pgtrigger.ignore(*uris)``, then ``checks_without_exceptions()`` (pgtrigger leaves the setting empty)."""
    with pgtrigger.ignore(*uris):
        yield
    checks_without_exceptions()


def ignore_value(*uris: str) -> str:
    """The ``pgtrigger.ignore`` setting that ``pgtrigger.ignore(*uris)`` sets, as a PostgreSQL array literal: for SQL
    that sets it itself (a block sent ahead of its caller, ``apps.audit_log.bulk``)."""
    names = set()
    for model, trigger in pgtrigger.registered(*uris):
        pgid = trigger.get_pgid(model)
        names.update({f"{model._meta.db_table}:{pgid}", pgid})
    return "{" + ",".join(sorted(names)) + "}"
