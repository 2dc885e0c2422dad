"""The production server command: granian, several worker processes (docs/adr/0018-production-server.md).

Granian (an HTTP server written in Rust, with uvloop for the ASGI event loop) was measured against uvicorn's
``--workers`` mode, uvicorn with uvloop and httptools, and gunicorn managing uvicorn workers
(``backend/benchmarks/bench_serving.py``): no keep-alive stall, the highest throughput, and the best scaling
from one worker to two. One command line, shared by ``manage.py serve --production``, the Dockerfile and
App Runner (both call ``serve --production``).

Below it, the one way tests and benchmarks start a server and wait for it (``running_server``), with a free port of
their range and the environment the production settings need.
"""

import http.client
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def production_command(*, host: str, port: int, workers: int, python: str) -> list[str]:
    """granian serving Django's ASGI application with ``workers`` processes on ``host:port``."""
    return [
        python, "-m", "granian", "config.asgi:application",
        "--interface", "asgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--loop", "uvloop",
        "--no-ws",  # no websockets in this API
        # A worker that dies is started again (gunicorn's arbiter did the same).
        "--respawn-failed-workers",
        # After SIGTERM (App Runner, Docker) requests in flight get this long to finish.
        "--workers-kill-timeout", "20",
        # Django logs each request's errors itself; granian's access log would duplicate every line.
        "--no-access-log",
    ]  # fmt: skip


# --- Starting a server from a test or a benchmark -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def free_port(ports: range = range(8100, 8200)) -> int:
    """The first port of ``ports`` nothing listens on (each engineer and benchmark keeps to its own range)."""
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def port_range(text: str) -> range:
    """``"8130-8139"`` → range(8130, 8140) (a command-line option's value)."""
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def production_environment(*, secret_key: str | None = None, **overrides: str) -> dict[str, str]:
    """This process's environment with what the production settings require on one machine: a strong secret key
    (``secret_key`` when the caller signs tokens the server must accept, else a fresh one), local hosts, no HTTPS
    redirect, no .env file; then ``overrides``."""
    env = dict(os.environ)
    env.update(
        DJANGO_SECRET_KEY=secret_key or secrets.token_urlsafe(64),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PYTHON_DOTENV_DISABLED="1",
    )
    env.update(overrides)
    return env


@contextmanager
def running_server(
    command: list[str], *, port: int, env: dict[str, str], timeout: float = 180
) -> Iterator[subprocess.Popen]:
    """Start ``command`` (it must listen on ``port``), wait until ``/healthz`` answers 200 (``timeout``: generous, as
    two Django start-ups take most of a minute on a loaded 2-core machine), yield the process, and
    stop it at the end: SIGTERM to its process group (the server and the workers it forked), SIGKILL to the group
    after 20 s, so no worker outlives the run holding the port. A server that exits early raises RuntimeError with
    the end of its stderr."""
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty server never blocks on a full pipe
        process = subprocess.Popen(  # noqa: S603 (our own command lines)
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
        try:
            _wait_until_up(port, process, timeout, stderr)
            yield process
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        with suppress(ProcessLookupError):  # the server is gone; a worker still shutting down goes with it
            os.killpg(process.pid, signal.SIGKILL)
        return


def _tail(stderr) -> str:
    stderr.seek(0)
    return stderr.read().decode(errors="replace")[-2000:]


def _wait_until_up(port: int, process: subprocess.Popen, timeout: float, stderr) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {_tail(stderr)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the server did not answer /healthz on port {port} within {timeout:.0f} s: {_tail(stderr)}"
            )
        time.sleep(0.2)
