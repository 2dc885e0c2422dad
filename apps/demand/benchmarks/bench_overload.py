"""Benchmark: 64 keep-alive clients for 30 s on a slow endpoint under the production command — zero 500s, and every
refusal a 503 with Retry-After (issue 8 target).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/demand/benchmarks/bench_overload.py
    ... bench_overload.py --employees 2000 --clients 64 --duration 30 --workers 2 --path kpis

It creates its own database (``<your database>_overload``, dropped at the end), migrates it, fills it with
``seed_demo --employees N`` (the real services), signs an HR user in, starts ``manage.py serve --production`` on a
free port in 8100-8199 with the production settings (default pool: 10 connections per worker, 3 s pool timeout),
and drives the endpoint with ``backend/benchmarks/loadgen.py``. The user throttle is lifted for the run so every
refusal comes from overload, not from the rate limit. It prints requests/s, p50/p99 and the statuses, and exits
non-zero on any 500 or any 503 without ``Retry-After``. Not collected by pytest. Figures: docs/benchmarks.md.
"""

import argparse
import os
import secrets
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from backend.benchmarks.loadgen import Target, run_load  # noqa: E402
from backend.serving import free_port, port_range, production_environment, running_server  # noqa: E402

PATHS = {
    # the endpoints issue 8 names as the slowest, with a quarter's period
    "candidates": "/api/coverage/candidates/?position={position}&from=2026-10-05&to=2026-12-27&limit=25",
    "kpis": "/api/kpis/?from=2026-10-05&to=2026-12-27",
    "coverage": "/api/coverage/?from=2026-10-05&to=2026-12-27",
}


def _bench_database_url(url: str) -> str:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (the production settings require it)")
    return parsed._replace(path=f"{parsed.path.rstrip('/')}_overload").geturl()


def _recreate(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def prepare(employees: int) -> tuple[str, int]:
    """Migrate and seed the database in this process; an HR user's access token and a position id."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.api.models import Position
    from apps.users.models import User

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", employees=employees, force=True, verbosity=0)  # DEBUG is off in test settings
    user = User.objects.filter(role="hr", is_active=True).first()
    token = str(AccessToken.for_user(user))
    position = Position.objects.order_by("pk").values_list("pk", flat=True).first()
    connections.close_all()
    return token, position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--path", choices=sorted(PATHS), default="candidates")
    parser.add_argument("--ports", type=port_range, default=range(8100, 8200), help="e.g. 8130-8139")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still stops its server and drops its db
    # One key for both sides: the token is signed here and verified by the server.
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    url = _bench_database_url(os.environ.get("DATABASE_URL", ""))
    _recreate(url)
    os.environ["DATABASE_URL"] = url
    with ExitStack() as cleanup:
        cleanup.callback(_drop, url)
        started = time.monotonic()
        token, position = prepare(args.employees)
        print(f"seeded {args.employees} employees in {time.monotonic() - started:.0f} s")
        port = free_port(args.ports)
        env = production_environment(
            secret_key=os.environ["DJANGO_SECRET_KEY"],
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            LOG_LEVEL="ERROR",
            THROTTLE_RATE_USER="100000000/hour",
        )
        command = [sys.executable, "manage.py", "serve", "--production", "--no-migrate"]
        command += ["--workers", str(args.workers), "--port", str(port)]
        cleanup.enter_context(running_server(command, port=port, env=env))
        target = Target(
            "127.0.0.1",
            port,
            PATHS[args.path].format(position=position),
            headers=(("Authorization", f"Bearer {token}"),),
        )
        single = run_load(target, concurrency=1, requests=5)
        assert single.statuses == {200: 5}, f"the endpoint does not answer 200 alone: {dict(single.statuses)}"
        stats = run_load(target, concurrency=args.clients, duration=args.duration, processes=2)

    statuses = dict(sorted(stats.statuses.items()))
    print(
        f"{args.path}: {args.clients} clients x {args.duration:.0f} s, {args.workers} workers: "
        f"{stats.requests} requests, {stats.rps:.0f}/s, p50 {stats.p50_ms:.0f} ms, p99 {stats.p99_ms:.0f} ms"
    )
    print(
        f"statuses {statuses}; 503 without Retry-After: {stats.unavailable_without_retry_after}; "
        f"connection errors: {dict(stats.errors)}"
    )
    failed = stats.statuses.get(500, 0) or stats.unavailable_without_retry_after or stats.errors
    print("FAIL" if failed else "OK: zero 500s, every 503 carries Retry-After")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
