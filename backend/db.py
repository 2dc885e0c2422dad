"""Database faults, classified once: what is a transient conflict (retry, then 409) and what is an outage (503).

Two kinds of database error are not bugs and must never answer 500:

- **Transaction conflicts**: PostgreSQL aborts a transaction with a deadlock (SQLSTATE ``40P01``) or a
  serialization failure (``40001``). Running the same transaction again normally succeeds, so
  :func:`retry_on_conflict` re-runs the whole transaction a bounded number of times, then raises
  :class:`~backend.errors.ConflictError` (409 ``conflict``).
- **Unavailability**: no connection could be had (pool exhausted or database unreachable:
  ``psycopg_pool.PoolTimeout``), the connection broke (server restart, ``pg_terminate_backend``) or the
  server refused work (too many connections, statement timeout). These answer 503 ``service_unavailable``
  with ``Retry-After`` (see ``backend.exceptions.database_error_as_domain_error``).

Every other database error (an ``IntegrityError``, a programming error) keeps its own handling.
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError

logger = logging.getLogger("coveris.db")

# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction back; running it again is safe.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})

F = TypeVar("F", bound=Callable)


def _chain(exc: BaseException):
    """The exception and its causes (Django wraps the driver's error as ``__cause__``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a (possibly wrapped) driver error, or None."""
    for link in _chain(exc):
        code = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if code:
            return code
    return None


def is_transaction_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may simply be run again."""
    return isinstance(exc, DjangoOperationalError) and sqlstate(exc) in RETRYABLE_SQLSTATES


def is_database_unavailable(exc: BaseException) -> bool:
    """No usable connection, or the server refused the work: an outage or overload, not a bug (→ 503)."""
    if not isinstance(exc, DjangoOperationalError | DjangoInterfaceError):
        return False
    return not is_transaction_conflict(exc)


def retry_on_conflict(func: F | None = None, *, attempts: int | None = None, using: str = DEFAULT_DB_ALIAS):
    """Re-run ``func`` (a whole transaction) when PostgreSQL aborts it with a deadlock or serialization failure.

    Use it on top of ``@transaction.atomic`` (or around a function that opens its own outermost atomic block)::

        @retry_on_conflict
        @transaction.atomic
        def assignment_transition(...): ...

    Retrying is only possible from outside every transaction: inside an outer ``atomic`` the failed statement has
    already doomed the outer transaction, so the error is passed up unchanged and the outermost
    ``retry_on_conflict`` (or the API's exception handler, which answers 409) deals with it. After ``attempts``
    tries (``settings.DATABASE_TRANSACTION_ATTEMPTS``, default 3) it raises ``ConflictError`` (409 ``conflict``).
    A retried function must not have side effects outside the database (use ``transaction.on_commit`` for those),
    and must read what it changes afresh inside the transaction (the services lock and re-read their rows).
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if connections[using].in_atomic_block:
                return function(*args, **kwargs)
            tries = attempts or getattr(settings, "DATABASE_TRANSACTION_ATTEMPTS", 3)
            for attempt in range(1, tries + 1):
                try:
                    return function(*args, **kwargs)
                except DjangoOperationalError as exc:
                    if not is_transaction_conflict(exc):
                        raise
                    if attempt == tries:
                        logger.warning(
                            "%s: %s after %d attempts; answering 409", function.__qualname__, sqlstate(exc), tries
                        )
                        from backend.errors import ConflictError

                        raise ConflictError(
                            "The change collided with concurrent changes to the same data; try again.",
                            details={"retryable": True},
                        ) from exc
                    logger.info(
                        "%s: %s, retrying (attempt %d of %d)", function.__qualname__, sqlstate(exc), attempt, tries
                    )
                    # Jittered back-off, so the transactions that collided do not collide again in step.
                    time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311 (not cryptographic)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def atomic_with_retry(func: F) -> F:
    """``@transaction.atomic`` for a service that takes row locks, re-run on a deadlock or serialization failure."""
    return retry_on_conflict(transaction.atomic(func))
