"""Benchmark: every list over HTTP under the production command, against a Django view doing the same work by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris_perf REDIS_URL=redis://127.0.0.1:6379/1 \
        uv run python apps/api/benchmarks/bench_lists_http.py --sizes 10000,100000 --rounds 3 --duration 3 \
        --ports 8130-8139

For each size it builds a throw-away database (``<your database>_bench_http``; not ``test_*``, which the production
settings refuse) with that many employees (``scale.scale_fill``, as ``bench_lists.py``), signs an admin's access
token, and starts ``manage.py serve --production`` (granian, 2 workers, the production settings, Redis for the cache
when ``REDIS_URL`` is set, as in production) with ``apps/api/benchmarks/http_settings.py``: the production URLs plus
two baselines per list (``http_urls.py``), behind the same middleware on the same server:

- **baseline** (the target's): a plain Django view that runs the floor's statements (``floor.py``: the same bounded
  count, one ``SELECT`` of the page's columns) on Django's connection and writes the same JSON — checked byte for
  byte against the endpoint's before timing (at 100,000 rows the estimated ``count`` may differ by the planner's
  rounding, as in ``bench_lists.py``);
- **static bytes**: a view answering the bytes the endpoint answered, no database at all (reported, not the target).

Then, per list and per concurrency (8 and 64 keep-alive clients, ``backend/benchmarks/loadgen.py`` in 2 processes),
rounds of endpoint, baseline, static, endpoint, ... (interleaved, so load from elsewhere hits all alike), and prints
the medians over rounds of requests/s, p50 and p99, and endpoint ÷ baseline requests/s (target ≥ 70 %, issue 8);
and the server's CPU per request (user + system time of its process group, the workers, from ``/proc``) for the
endpoint and the baseline, and baseline ÷ endpoint CPU: on a CPU-bound server requests/s go as the inverse of CPU per
request, and that ratio moves far less than requests/s when other work shares the machine.
The user throttle keeps its full cost (its cache round trips and history) with a one-second window, so it never
refuses: an hour-long window with an unreachable rate kept every request of the run in one history list, pickled
and unpickled on every request and growing through the run (tens of thousands of entries; production's worst case
is the rate, 1,000). Any non-200 is counted and printed. Not collected by pytest.
"""

import argparse
import datetime
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402 (lazy: nothing is configured before main())
from django.db import connection  # noqa: E402

from apps.api.benchmarks.floor import BALANCES_URL, HTTP_LISTS  # noqa: E402
from backend.benchmarks.loadgen import Target, run_load  # noqa: E402
from backend.serving import free_port, port_range, production_environment, running_server  # noqa: E402

LISTS = HTTP_LISTS
CONCURRENCY = (8, 64)


def _fill(size: int) -> str:
    """The scale data and an admin; the admin's access token."""
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.api.benchmarks.scale import scale_fill
    from apps.api.tests.factories import OrgUnitFactory, PositionFactory
    from apps.tags.models import TagCatalog
    from apps.users.models import User

    admin = User.objects.create_user("bench-admin@coveris.test", "bench-password", role="admin")
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    scale_fill(rows=size, unit_id=unit.pk, position_id=position.pk, tag_id=tag.pk, user_id=admin.pk)
    token = AccessToken.for_user(admin)
    token.set_exp(lifetime=datetime.timedelta(hours=3))  # a run outlasts the 5-minute production lifetime
    return str(token)


def _balance_statements(token: str) -> list[str]:
    """The two balance statements the endpoint runs (captured in this process, on the same database)."""
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BALANCES_URL)
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in queries if "RECURSIVE weeks" in q["sql"] or "bounds AS" in q["sql"]]
    assert len(statements) == 2, statements
    return statements


def _fetch(target: Target) -> bytes:
    import http.client

    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    try:
        conn.request("GET", target.path, headers=dict(target.headers))
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{target.path}: {response.status} {body[:500]!r}")
        return body
    finally:
        conn.close()


def _group_cpu_ms(group: int) -> float:
    """User + system CPU of every process in the server's process group (granian and its workers), in ms."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def _measure(target: Target, concurrency: int, duration: float, group: int) -> dict:
    before = _group_cpu_ms(group)
    stats = run_load(target, concurrency=concurrency, duration=duration, processes=2)
    cpu = (_group_cpu_ms(group) - before) / max(stats.requests, 1)
    other = Counter({status: n for status, n in stats.statuses.items() if status != 200}) + Counter(stats.errors)
    return {"rps": stats.rps, "p50": stats.p50_ms, "p99": stats.p99_ms, "cpu": cpu, "other": other}


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def run(size: int, args) -> None:
    database = settings.DATABASES["default"]
    name = f"{database['NAME']}_bench_http"
    database.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    bodies_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115 (closed below)
    try:
        began = time.perf_counter()
        token = _fill(size)
        statements = _balance_statements(token)
        connection.close()
        print(f"\n{size:,} employees (database ready in {time.perf_counter() - began:.0f} s)", flush=True)
        port = free_port(args.ports)
        host = database.get("HOST") or "127.0.0.1"
        env = production_environment(
            secret_key=os.environ["DJANGO_SECRET_KEY"],
            DJANGO_SETTINGS_MODULE="apps.api.benchmarks.http_settings",
            DATABASE_URL=f"postgres://{database['USER']}@{host}:{database.get('PORT') or 5432}/{name}",
            THROTTLE_RATE_USER="1000000000/second",  # full cost, never a refusal (module docstring)
            LOG_LEVEL="ERROR",
            CACHE_KEY_PREFIX="coveris-bench-http",
            COVERIS_BENCH_BODIES=bodies_file.name,
        )
        command = [sys.executable, "manage.py", "serve", "--production", "--no-migrate"]
        command += ["--workers", str(args.workers), "--port", str(port)]
        auth = (("Authorization", f"Bearer {token}"),)
        with running_server(command, port=port, env=env) as server:
            endpoints = [Target("127.0.0.1", port, url, headers=auth) for url in LISTS]
            bodies = [_fetch(target).decode() for target in endpoints]
            json.dump({"bodies": bodies, "statements": statements}, bodies_file)
            bodies_file.close()
            baselines = [Target("127.0.0.1", port, f"/api/bench-baseline/{n}/") for n, _ in enumerate(LISTS)]
            statics = [Target("127.0.0.1", port, f"/api/bench-static/{n}/") for n, _ in enumerate(LISTS)]
            for endpoint, baseline, static in zip(endpoints, baselines, statics, strict=True):
                _check_same(_fetch(endpoint), _fetch(baseline), endpoint.path)
                assert _fetch(static) == _fetch(endpoint), endpoint.path
            _report(endpoints, baselines, statics, args, group=server.pid)
    finally:
        bodies_file.close()
        Path(bodies_file.name).unlink(missing_ok=True)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _check_same(endpoint: bytes, baseline: bytes, path: str) -> None:
    """The baseline answers the endpoint's bytes; only an estimated count (above the exact limit) may differ."""
    if endpoint == baseline:
        return
    mine, base = json.loads(endpoint), json.loads(baseline)
    assert mine["count"] > settings.COVERIS_EXACT_COUNT_LIMIT, (path, endpoint[:300], baseline[:300])
    assert abs(mine["count"] - base["count"]) <= 0.05 * base["count"], (path, mine["count"], base["count"])
    for body in (mine, base):
        del body["count"], body["total_pages"]
    assert mine == base, path


def _report(endpoints: list[Target], baselines: list[Target], statics: list[Target], args, group: int) -> None:
    print(
        f"{'endpoint':36} {'c':>3} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}   {'baseline':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7}   {'ratio':>6}   {'static':>7} {'ratio':>6}   {'cpu ms':>6} {'base':>5} {'ratio':>6}"
    )
    for endpoint, baseline, static in zip(endpoints, baselines, statics, strict=True):
        if args.only is not None and not any(part in endpoint.path for part in args.only.split(",")):
            continue
        for target in (endpoint, baseline, static):
            run_load(target, concurrency=8, duration=1, processes=2)  # warm every worker up
        for concurrency in CONCURRENCY:
            mine, base, fixed = [], [], []
            for _ in range(args.rounds):
                mine.append(_measure(endpoint, concurrency, args.duration, group))
                base.append(_measure(baseline, concurrency, args.duration, group))
                fixed.append(_measure(static, concurrency, args.duration, group))
            ratio = _median(mine, "rps") / _median(base, "rps")
            cpu_ratio = _median(base, "cpu") / _median(mine, "cpu")
            failures = sum((row["other"] for row in mine + base + fixed), Counter())
            print(
                f"{endpoint.path.split('?')[0]:36} {concurrency:>3} {_median(mine, 'rps'):>7.0f} "
                f"{_median(mine, 'p50'):>7.1f} {_median(mine, 'p99'):>7.1f}   {_median(base, 'rps'):>8.0f} "
                f"{_median(base, 'p50'):>7.1f} {_median(base, 'p99'):>7.1f}   {ratio:>5.0%}   "
                f"{_median(fixed, 'rps'):>7.0f} {_median(mine, 'rps') / _median(fixed, 'rps'):>5.0%}   "
                f"{_median(mine, 'cpu'):>6.2f} {_median(base, 'cpu'):>5.2f} {cpu_ratio:>5.0%}"
                + (f"  (not 200: {dict(failures)})" if failures else ""),
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="Comma-separated employee counts (e.g. 10000,100000).")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per list and concurrency")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per round and side")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ports", type=port_range, default=range(8100, 8200), help="e.g. 8130-8139")
    parser.add_argument("--only", metavar="PATH", help="only the lists whose URL contains one of PATH,...")
    args = parser.parse_args()
    # Django is set up here, not at import: the load generator's processes (spawned) import this module again.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)  # one key: signed here, verified by the server
    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still stops its server and drops its db
    if connection.vendor != "postgresql":
        sys.exit("bench_lists_http needs PostgreSQL: set DATABASE_URL=postgres://...")
    print(
        f"production command, {args.workers} workers; medians of {args.rounds} interleaved rounds of "
        f"{args.duration:g} s; cache: {'Redis' if os.environ.get('REDIS_URL') else 'per-process memory'}; "
        "target: endpoint ≥ 70 % of the baseline's requests/s (static: the bytes-only view, reported)"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args)


if __name__ == "__main__":
    main()
