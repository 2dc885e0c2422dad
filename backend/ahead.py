"""Statements sent ahead: a bulk load's writes whose results nobody reads, run on the same connection by a helper
thread while the caller's thread goes on with Python work (``seed_demo``, ADR 0047).

A bulk load on one connection takes turns: PostgreSQL works while Python waits for the statement, then Python works
while the server idles. Inside ``statements_ahead()``, ``send_ahead(sql, params)`` hands the statement to a helper
thread and returns at once; the helper runs it on the very same PostgreSQL session (the psycopg connection, which
serialises its users), so it sees and joins the caller's transaction. The caller's thread blocks only where it needs
the connection again: every statement it sends through Django waits first for everything sent ahead (an execute
wrapper), in order, and so does leaving the block. So the statements still run in the order the code sends them,
and the transaction holds exactly what it held before; only the waiting overlaps.

- The statement is composed in the caller's thread through the connection's execute wrappers (the change-history
  context of ``pghistory.context``, ``pgtrigger.ignore``), so it carries what it would have carried if sent there.
- A failure is raised in the caller's thread at its next statement (or when the block ends), as Django's error
  (``IntegrityError``…), and the transaction is rolled back as for any failed statement.
- Outside ``statements_ahead()`` (and elsewhere than PostgreSQL) ``send_ahead`` runs the statement at once, through
  Django's cursor: callers need not know whether a block is open.

Only for statements whose result (rows, row count) nobody reads. What must not happen in the caller's thread while
statements are ahead: using the raw psycopg connection directly before a Django statement (``COPY`` through
``cursor.cursor.copy`` is always preceded by one in ``backend.bulk_copy``). This module imports no domain app.
"""

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

_active = threading.local()


class _Ahead:
    """One block's helper thread and the statements it has not finished yet."""

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="statements-ahead")
        self.pending: list[Future] = []
        self.composing = False
        self.raw = connection.connection

    def submit(self, sql: str, params) -> None:
        sql, params = self._composed(sql, params)
        raw = self.raw

        def run() -> None:
            with raw.cursor() as cursor:  # the connection's cursor class (Django's: client-side binding)
                cursor.execute(sql, params)
                while cursor.nextset():  # a statement with a prefix (the wrappers') is several results
                    pass

        self.pending.append(self.executor.submit(run))

    def _composed(self, sql: str, params):
        """``sql`` and ``params`` as the execute wrappers of this thread would send them (nothing is run)."""
        captured = []

        def capture(sql, params, many, context):
            captured.append((sql, params))

        self.composing = True
        try:
            with connection.cursor() as cursor:
                cursor._execute_with_wrappers(sql, params, many=False, executor=capture)
        finally:
            self.composing = False
        return captured[0]

    def wait(self) -> None:
        """Until every statement sent ahead has run; raises the first failure (as Django's error)."""
        pending, self.pending = self.pending, []
        failure = None
        for future in pending:
            error = future.exception()
            if error is not None and failure is None:
                failure = error
        if failure is not None:
            with connection.wrap_database_errors:
                raise failure

    def barrier(self, execute, sql, params, many, context):
        if not self.composing:
            self.wait()
        return execute(sql, params, many, context)


def ahead_active() -> bool:
    """Whether ``send_ahead`` sends ahead here (inside ``statements_ahead()``, on PostgreSQL)."""
    return getattr(_active, "value", None) is not None


@contextlib.contextmanager
def statements_ahead():
    """Inside, ``send_ahead`` runs statements on a helper thread; every other statement of this thread, and the
    block's end, waits for them first. Open it inside the transaction the statements belong to. PostgreSQL only
    (elsewhere nothing changes); not re-entrant (an inner block is the outer one)."""
    if connection.vendor != "postgresql" or ahead_active():
        yield
        return
    connection.ensure_connection()
    ahead = _Ahead()
    _active.value = ahead
    try:
        with connection.execute_wrapper(ahead.barrier):
            try:
                yield
            except BaseException:
                with contextlib.suppress(Exception):  # the block's own error is the one to raise
                    ahead.wait()
                raise
            ahead.wait()
    finally:
        _active.value = None
        ahead.executor.shutdown(wait=True)


def send_ahead(sql: str, params=None) -> None:
    """Run a statement whose result nobody reads: ahead inside ``statements_ahead()``, else now."""
    ahead = getattr(_active, "value", None)
    if ahead is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    ahead.submit(sql, params)
