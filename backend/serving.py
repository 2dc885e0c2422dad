"""The production server command: granian, several worker processes (docs/adr/0018-production-server.md).

Granian (an HTTP server written in Rust, with uvloop for the ASGI event loop) was measured against uvicorn's
``--workers`` mode, uvicorn with uvloop and httptools, and gunicorn managing uvicorn workers
(``backend/benchmarks/bench_serving.py``): no keep-alive stall, the highest throughput, and the best scaling
from one worker to two. One command line, shared by ``manage.py serve --production``, the Dockerfile and
App Runner (both call ``serve --production``).
"""


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
