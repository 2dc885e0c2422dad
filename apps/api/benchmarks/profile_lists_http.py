"""Where a list request's CPU goes under the production settings, against the HTTP benchmark's baseline view, in one
process, interleaved per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris_perf REDIS_URL=redis://127.0.0.1:6379/1 \
        uv run python apps/api/benchmarks/profile_lists_http.py --size 10000 --repeat 300 [--profile employees]

``bench_lists_http.py`` measures the lists over HTTP, where requests/s and the workers' CPU swing with the machine's
load. This script takes what differs between the endpoint and its baseline — the view path, since both go through the
same server and middleware — into one process: it builds the same data (``scale.scale_fill`` in a throw-away
``<your database>_prof_http``), then, in a child process with the HTTP benchmark's settings
(``apps/api/benchmarks/http_settings.py``: the production settings and the baseline views; Redis when ``REDIS_URL`` is
set, the user throttle at full cost with a one-second window, as the HTTP benchmark runs it), requests each list and
its baseline view in turn through Django's ASGI application (``config.asgi``, what granian serves; one asyncio task per
request, so each runs in a context of its own as under the server, where Django makes its connection and cache objects
per request) and prints the medians and quartiles of each request's process CPU, and baseline ÷ endpoint (on a
CPU-bound server, the share of the baseline's requests/s the endpoint can reach). The bodies are checked equal first.
``--test-client`` uses Django's test client instead (one thread, the same objects for every request: it hid ADR 0044's
finding); ``--profile PATH`` prints a cProfile (CPU time) of the endpoints whose URL contains PATH and of their
baselines, through the test client. Not collected by pytest; nothing is asserted about time.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))


def _fill(args) -> None:
    """With the test settings: the throw-away database, filled; its name, the token and the balance statements to
    ``args.state``."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from apps.api.benchmarks.bench_lists_http import _balance_statements
    from apps.api.benchmarks.bench_lists_http import _fill as fill_scale

    database = settings.DATABASES["default"]
    name = f"{database['NAME']}_prof_http"
    database.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    began = time.perf_counter()
    token = fill_scale(args.size)
    statements = _balance_statements(token)
    host = database.get("HOST") or "127.0.0.1"
    url = f"postgres://{database['USER']}@{host}:{database.get('PORT') or 5432}/{name}"
    Path(args.state).write_text(json.dumps({"token": token, "statements": statements, "url": url, "bodies": []}))
    print(f"{args.size:,} employees in {name} ({time.perf_counter() - began:.0f} s)", flush=True)


def _drop(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _quartiles(samples: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(samples, n=4)
    return q1 * 1000, q2 * 1000, q3 * 1000


def _measure(args) -> None:
    """With the HTTP benchmark's settings: each list against its baseline view, per request, in turn."""
    import django

    django.setup()
    from django.test import Client

    from apps.api.benchmarks.bench_lists_http import _check_same
    from apps.api.benchmarks.floor import HTTP_LISTS

    state = json.loads(Path(args.state).read_text())
    auth = {"HTTP_AUTHORIZATION": f"Bearer {state['token']}"}
    if args.profile is not None or args.test_client:
        client = Client(HTTP_HOST="127.0.0.1")
        clock = time.thread_time

        def get(url: str, headers: dict) -> bytes:
            response = client.get(url, **headers)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            return response.content
    else:
        get, clock = _asgi_get(), time.process_time

    lists = [(n, url) for n, url in enumerate(HTTP_LISTS) if args.only is None or args.only in url]
    if not args.balances:
        lists = [(n, url) for n, url in lists if "balances" not in url]
    how = "test client, thread CPU" if args.test_client else "ASGI application, process CPU"
    print(f"{how} per request, median (quartiles) of {args.repeat}, ms; load {os.getloadavg()[0]:.1f}")
    for n, url in lists:
        baseline = f"/api/bench-baseline/{n}/"
        for _ in range(20):  # warm: caches, the statement cache, the pool
            get(url, auth), get(baseline, {})
        _check_same(get(url, auth), get(baseline, {}), url)
        if args.profile is not None:
            if args.profile in url:
                print(f"=== {url}", flush=True)
                _profile(lambda url=url: get(url, auth), args.repeat)
                print(f"=== {baseline}", flush=True)
                _profile(lambda baseline=baseline: get(baseline, {}), args.repeat)
            continue
        times = {"endpoint": [], "baseline": []}
        for _ in range(args.repeat):
            for side, target, headers in (("endpoint", url, auth), ("baseline", baseline, {})):
                began = clock()
                get(target, headers)
                times[side].append(clock() - began)
        mine, base = _quartiles(times["endpoint"]), _quartiles(times["baseline"])
        print(
            f"  {url.split('?')[0]:36} endpoint {mine[1]:6.3f} ({mine[0]:.3f}–{mine[2]:.3f})  "
            f"baseline {base[1]:6.3f} ({base[0]:.3f}–{base[2]:.3f})  difference {mine[1] - base[1]:6.3f}  "
            f"baseline ÷ endpoint {base[1] / mine[1]:4.0%}",
            flush=True,
        )


def _asgi_get():
    """A GET through Django's ASGI application (``config.asgi``, what granian serves), one asyncio task per request,
    so each runs in a fresh context as under the server: context-local caches and connections are made per request,
    the view runs on asgiref's thread. Answers the body."""
    import asyncio

    from config.asgi import application

    loop = asyncio.new_event_loop()

    def get(url: str, headers: dict) -> bytes:
        path, _, query = url.partition("?")
        raw = [(b"host", b"127.0.0.1:18300")]
        raw += [(name[5:].lower().replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 18300),
        }
        sent, received = [], []

        async def receive():
            if received:  # Django then listens for a disconnect, cancelled when the response is sent
                await asyncio.Event().wait()
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        loop.run_until_complete(application(scope, receive, send))
        assert sent[0]["status"] == 200, (url, sent)
        return b"".join(m.get("body", b"") for m in sent[1:])

    return get


def _profile(call, repeat: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.thread_time)  # CPU, not waits on the database or Redis
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(70)
    stats.sort_stats("tottime").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--only", metavar="PATH", help="only the lists whose URL contains PATH")
    parser.add_argument("--balances", action="store_true", help="balances too (their SQL dominates both sides)")
    parser.add_argument("--profile", metavar="PATH", help="a cProfile of the endpoints whose URL contains PATH")
    parser.add_argument("--test-client", action="store_true", help="Django's test client (one thread), not ASGI")
    parser.add_argument("--keep", metavar="STATE", help="reuse (or keep) the filled database described in STATE")
    parser.add_argument("--phase", choices=("fill", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "fill":
        return _fill(args)
    if args.phase == "measure":
        return _measure(args)
    state = args.keep or tempfile.mkstemp(suffix=".json")[1]
    key = secrets.token_urlsafe(64)
    child = [sys.executable, __file__, *sys.argv[1:], "--state", state]
    filled = args.keep and Path(args.keep).exists() and Path(args.keep).stat().st_size
    if not filled:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DJANGO_SECRET_KEY": key}
        subprocess.run([*child, "--phase", "fill"], env=env, check=True, cwd=ROOT)  # noqa: S603
        if args.keep:
            Path(args.keep + ".key").write_text(key)
    elif Path(args.keep + ".key").exists():
        key = Path(args.keep + ".key").read_text()
    url = json.loads(Path(state).read_text())["url"]
    from backend.serving import production_environment

    env = production_environment(
        secret_key=key,
        DJANGO_SETTINGS_MODULE="apps.api.benchmarks.http_settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=url,
        THROTTLE_RATE_USER="1000000000/second",  # as bench_lists_http.py: full cost, never a refusal
        LOG_LEVEL="ERROR",
        CACHE_KEY_PREFIX="coveris-prof-http",
        COVERIS_BENCH_BODIES=state,
    )
    try:
        subprocess.run([*child, "--phase", "measure"], env=env, check=True, cwd=ROOT)  # noqa: S603
    finally:
        if not args.keep:
            _drop(url)
            Path(state).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
