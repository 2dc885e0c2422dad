"""Benchmark: /api/coverage/ and /api/kpis/ for a quarter on the configured database, in-process, against their SQL.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris_bench
    uv run python manage.py migrate && uv run python manage.py seed_demo --employees 10000 --quiet
    psql "$DATABASE_URL" -c ANALYZE
    uv run python apps/demand/benchmarks/bench_reports.py [--from 2026-10-01 --to 2026-12-31] [--repeat 7]

Unlike the candidates benchmark it builds nothing: it reads whatever the database holds (seed_demo's organisation,
topped up to 10,000 then 100,000 employees between two runs), read-only, as an admin. Per endpoint it prints:

- the median in-process time through the full DRF stack (APIClient) and the query count;
- the floor: the very SQL statements the endpoint ran, replayed on the raw psycopg connection (no ORM, no DRF, no
  JSON), their rows checked equal to what the endpoint's cursor fetched; and the ratio to it;
- the live figure: the same endpoint with the weekly rollups bypassed (apps/demand/rollups.py), i.e. what it cost
  before them, checked to give the same body.

No absolute time is asserted; record the figures in docs/benchmarks.md. Not collected by pytest.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def median_ms(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--from", dest="start", default="2026-10-01")
    parser.add_argument("--to", dest="end", default="2026-12-31")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from rest_framework.test import APIClient

    from apps.api.models import Employee
    from apps.demand import coverage, kpis
    from apps.users.models import User

    client = APIClient()
    client.force_authenticate(User(email="bench@coveris.test", role="admin"))  # unsaved: nothing is written
    period = f"from={args.start}&to={args.end}"
    print(f"database: {connection.vendor}, {Employee.objects.count()} employees, {period}, median of {args.repeat}")
    for name, url in (("coverage", f"/api/coverage/?{period}"), ("kpis", f"/api/kpis/?{period}")):

        def endpoint(url=url):
            response = client.get(url)
            assert response.status_code == 200, response.content
            return response.json()

        body = endpoint()
        took = median_ms(args.repeat, endpoint)
        with CaptureQueriesContext(connection) as ctx:
            endpoint()
        statements = [q["sql"] for q in ctx.captured_queries]
        raw = connection.connection  # the psycopg connection: no Django cursor wrapper

        def floor(statements=statements, raw=raw):
            results = []
            with raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    results.append(cursor.fetchall() if cursor.description else None)
            return results

        with connection.cursor() as cursor:
            expected = []
            for sql in statements:
                cursor.execute(sql)
                expected.append(cursor.fetchall() if cursor.description else None)
        assert floor() == expected, "the floor does not return the endpoint's rows"
        floor_ms = median_ms(args.repeat, floor)

        bypass = contextlib.ExitStack()
        bypass.enter_context(mock.patch.object(coverage, "_from_rollup", return_value=None))
        bypass.enter_context(mock.patch.object(kpis, "supply_totals_rolled", return_value=None))
        with bypass:
            assert endpoint() == body, "the live computation gives another body"
            live = median_ms(max(1, args.repeat // 2), endpoint)
        print(
            f"{name:>9}: {took:8.1f} ms in-process, {len(statements)} queries, floor {floor_ms:.1f} ms "
            f"(ratio {took / floor_ms:.2f}); without rollups {live:.1f} ms ({live / took:.1f}×)"
        )


if __name__ == "__main__":
    main()
