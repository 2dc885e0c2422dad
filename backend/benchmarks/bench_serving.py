"""Benchmark: the production HTTP server candidates side by side, with the production settings, on /healthz.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python backend/benchmarks/bench_serving.py
    ... bench_serving.py --servers production           # only the production command (manage.py serve --production)

For each server command, with 1 and with 2 worker processes (ports 8100-8199, or ``--ports``), it prints:

- sequential keep-alive ``/healthz`` latency, p50 and p99 (target for the production command: p50 < 5 ms; uvicorn's
  multi-process mode stalls each keep-alive response ~40 ms, TCP_NODELAY being off there);
- throughput at 32 keep-alive clients, requests/s, and the 2-worker ÷ 1-worker ratio (target ≥ 1.5× on 2 cores,
  the load generator on the same machine).

The load generator (``backend/benchmarks/loadgen.py``) runs in two processes. Absolute numbers depend on the machine
and on its other load; compare the rows of one run. Not collected by pytest (the name does not start with ``test_``).
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from backend.benchmarks.loadgen import Target, run_load  # noqa: E402
from backend.serving import free_port, port_range, production_environment, running_server  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent

PRODUCTION = "production: serve --production (granian)"

# name → command for N workers on PORT: the candidates of docs/adr/0018-production-server.md (production: granian).
SERVERS = {
    "uvicorn-workers (before)": lambda n, port: [
        str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(n), "--lifespan", "off", "--no-access-log", "--loop", "asyncio", "--http", "h11",
    ],
    "uvicorn-workers uvloop+httptools": lambda n, port: [
        str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(n), "--lifespan", "off", "--no-access-log", "--loop", "uvloop", "--http", "httptools",
    ],
    "gunicorn + uvicorn-worker (uvloop+httptools)": lambda n, port: [
        str(BIN / "gunicorn"), "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", str(n), "--bind", f"127.0.0.1:{port}", "--keep-alive", "5",
    ],
    PRODUCTION: lambda n, port: [
        PYTHON, "manage.py", "serve", "--production", "--no-migrate", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(n),
    ],
}  # fmt: skip


def _environment() -> dict:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (the production settings require it)")
    return production_environment()


def measure(name: str, workers: int, args) -> dict:
    port = free_port(args.ports)
    with running_server(SERVERS[name](workers, port), port=port, env=_environment()):
        target = Target("127.0.0.1", port, "/healthz")
        run_load(target, concurrency=8, duration=1, processes=2)  # warm every worker up
        sequential = run_load(target, concurrency=1, requests=args.sequential)
        loaded = run_load(target, concurrency=32, duration=args.duration, processes=2)
    return {
        "p50": sequential.p50_ms,
        "p99": sequential.p99_ms,
        "rps": loaded.rps,
        "non200": sum(n for status, n in loaded.statuses.items() if status != 200) + sum(loaded.errors.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="all", help="'all', 'production', or a comma-separated list of names")
    parser.add_argument("--sequential", type=int, default=300, help="sequential requests for the latency figure")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per throughput figure")
    parser.add_argument("--ports", type=port_range, default=range(8100, 8200), help="e.g. 8130-8139")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, interleaved across servers; best one counts")
    args = parser.parse_args()
    if args.servers == "all":
        names = list(SERVERS)
    elif args.servers == "production":
        names = [PRODUCTION]
    else:
        names = [name.strip() for name in args.servers.split(",")]

    # Interleaved rounds (server A 1w, A 2w, B 1w, ... then again): a burst of load from elsewhere on a shared
    # machine hits every candidate alike. Per configuration: the best throughput, the median of the p50s.
    runs: dict[tuple[str, int], list[dict]] = {(name, n): [] for name in names for n in (1, 2)}
    for _ in range(args.rounds):
        for key in runs:
            runs[key].append(measure(*key, args))

    print(f"{'server':42} {'workers':>7} {'seq p50 ms':>10} {'seq p99 ms':>10} {'req/s @32':>10} {'2w/1w':>6}")
    for name in names:
        best = {}
        for workers in (1, 2):
            rows = runs[(name, workers)]
            best[workers] = {
                "p50": statistics.median(row["p50"] for row in rows),
                "p99": statistics.median(row["p99"] for row in rows),
                "rps": max(row["rps"] for row in rows),
                "non200": sum(row["non200"] for row in rows),
            }
        for workers, row in best.items():
            ratio = f"{best[2]['rps'] / best[1]['rps']:.2f}" if workers == 2 and best[1]["rps"] else ""
            failures = f"  ({row['non200']} non-200)" if row["non200"] else ""
            print(
                f"{name:42} {workers:>7} {row['p50']:>10.2f} {row['p99']:>10.2f} {row['rps']:>10.0f} {ratio:>6}"
                f"{failures}"
            )


if __name__ == "__main__":
    main()
