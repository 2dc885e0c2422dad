"""The psycopg pool's checkout check: after a failover, the first request gets a live connection, quickly.

``CONN_HEALTH_CHECKS`` (set for PostgreSQL in the settings) makes Django give its pool
``ConnectionPool.check_connection``: each checkout runs an empty query and a broken connection is discarded, so a
connection the server dropped while idle is not handed to a request. That alone is not enough when the server
dropped *every* idle connection at once (restart, failover, ``pg_terminate_backend``): psycopg_pool sleeps with
back-off between failed checks (1 s, 2 s, 4 s), so the first request walks the dead connections one by one and
times out (a 503) after three of them in a 3 s wait. Measured: 5 dead idle connections, first checkout → PoolTimeout.

So, installed once at start-up (``BackendConfig.ready``), before Django creates its pool:

- the check, on its first failure, empties the pool of every broken idle connection in one pass
  (``ConnectionPool.check()``, which opens replacements in the background), so the next try gets a fresh one;
- the pause between tries (and before reconnecting to a database that refused a connection) starts at 50 ms
  instead of 1 s, doubling as before up to the pool's timeouts.

Both are documented hooks of psycopg_pool (``check_connection`` is the callback Django passes; the back-off is a
class attribute); why they are set here: docs/adr/0011-database-faults.md.
"""

import logging
import threading

from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

logger = logging.getLogger("coveris.db")

FIRST_RETRY_DELAY = 0.05  # seconds

_plain_check = ConnectionPool.check_connection
_purging = threading.local()


def check_connection(conn) -> None:
    """Raise if ``conn`` is broken; before that, discard every other broken idle connection of its pool."""
    try:
        _plain_check(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)  # set by psycopg_pool on each connection it opened (Django uses it too)
        # ConnectionPool.check() calls this function for each idle connection: purge once, not recursively.
        if pool is not None and not getattr(_purging, "active", False):
            logger.warning("pooled connection broken; checking every idle connection of the pool")
            _purging.active = True
            try:
                pool.check()
            finally:
                _purging.active = False
        raise


def install() -> None:
    """Make ``check_connection`` the pool's checkout check and shorten the first pause between tries."""
    ConnectionPool.check_connection = staticmethod(check_connection)
    AttemptWithBackoff.INITIAL_DELAY = FIRST_RETRY_DELAY
