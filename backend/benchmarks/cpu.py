"""CPU time of PostgreSQL backends (and other local processes) for benchmarks that report CPU beside wall time.

A benchmark's own process is measured with ``time.process_time()``; the server process that runs its queries is
another process, read from ``/proc/<pid>/stat`` (a local server, Linux). Plumbing: imports no domain app.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) process ``pid`` has used so far, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def backend_cpu(connection) -> float:
    """CPU seconds (user + system) of ``connection``'s PostgreSQL backend so far (a Django connection)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    cpu = process_cpu(pid)
    if cpu is None:
        raise RuntimeError(f"no /proc entry for the PostgreSQL backend {pid}: is the server local?")
    return cpu
