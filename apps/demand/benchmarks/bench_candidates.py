"""Benchmark: GET /api/coverage/candidates/ at 10,000 and 100,000 employees, in-process, against its SQL floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/demand/benchmarks/bench_candidates.py
    ... bench_candidates.py --employees 10000 100000 --repeat 5      # the defaults
    ... bench_candidates.py --explain     # also print EXPLAIN ANALYZE of the ranking query

It builds a throw-away database (``test_<your database>_bench`` on PostgreSQL, SQLite in memory otherwise), fills
it with bulk inserts — employees in every non-terminated state, most holding the position's tag, half with an
assignment elsewhere, a quarter on the hours ledger, three approval rules — runs ``ANALYZE``, and prints per size:

- the endpoint's median in-process time through the full DRF stack (APIClient) and its query count;
- the floor: the ranking's one SQL query (apps/demand/candidate_sql.py) run on the raw psycopg connection plus
  the page's employee rows, checked to return the endpoint's rows in the endpoint's order; and the ratio;
- the same query without its qualified-first pre-filter (every pool member's key, as before; same rows checked),
  interleaved with the floor so both see the same load.

The query count must not change between sizes (a per-employee query would show). Not collected by pytest (the
file name does not start with ``test_``). Figures: docs/benchmarks.md.
"""

import argparse
import contextlib
import datetime
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from backend.benchmarks.cpu import backend_cpu  # noqa: E402

D = datetime.date
EXPLAIN = "--explain" in sys.argv
STATES = ["active"] * 7 + ["pending", "on_leave", "suspended"]


def build(n: int, start_index: int, context: dict) -> None:
    """Add ``n`` employees (and their tags, assignments, ledger lines) to the benchmark organisation."""
    from apps.api.models import Employee

    unit, other, tag = context["unit"], context["other"], context["tag"]
    employees = [
        Employee(
            employee_number=f"B{i:06d}",
            first_name="Bench",
            last_name=f"Person {i}",
            email=f"bench{i}@coveris.test",
            org_unit=unit,
            contracted_weekly_hours=Decimal(40 if i % 5 else 24),
            hire_date=D(2025, 1, 6),
            state=STATES[i % len(STATES)],
        )
        for i in range(start_index, start_index + n)
    ]
    with _triggers_off():
        _bulk(employees, tag, other)
    _ledgerless_rebuilt()


def _ledgerless_rebuilt() -> None:
    """The list of employees without any ledger entry and the free-hours bounds, which candidates read
    (apps/demand/candidate_sql.py), written as ``rollup_rebuild`` writes them: the load above ran without the triggers
    that keep them."""
    if connection.vendor != "postgresql":
        return
    from apps.demand import candidate_bounds
    from apps.demand.rollups import LEDGERLESS

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEDGERLESS}")  # noqa: S608 -- a constant table name
        cursor.execute(
            f"INSERT INTO {LEDGERLESS} (employee_id) SELECT e.id FROM api_employee e "  # noqa: S608
            "WHERE NOT EXISTS (SELECT 1 FROM offer_ledgerentry x WHERE x.employee_id = e.id)"
        )
        for statement in candidate_bounds.rebuild_sql():  # the free-hours bounds (ADR 0036), as rollup_rebuild does
            cursor.execute(statement)


@contextlib.contextmanager
def _triggers_off():
    """Replica mode on PostgreSQL while loading: the rollup and change-history triggers took minutes over 100,000
    rows under load. The candidate ranking reads neither the rollups nor the history (this throw-away database's
    rollups stay stale), only the list of ledgerless employees, rebuilt after the load."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET session_replication_role")


def _bulk(employees: list, tag, other) -> None:
    from apps.api.models import Employee
    from apps.assignments.models import Assignment
    from apps.offer.models import LedgerEntry
    from apps.tags.models import EmployeeTag

    employees = Employee.objects.bulk_create(employees, batch_size=2000)
    if connection.vendor == "sqlite" or any(e.pk is None for e in employees):
        numbers = [e.employee_number for e in employees]
        employees = list(Employee.objects.filter(employee_number__in=numbers).order_by("pk"))
    EmployeeTag.objects.bulk_create(
        [
            EmployeeTag(employee=e, tag=tag, level=1 + i % 4, valid_from=D(2025, 1, 1))
            for i, e in enumerate(employees)
            if i % 6
        ],
        batch_size=2000,
    )
    Assignment.objects.bulk_create(
        [
            Assignment(
                employee=e, position=other, start_date=D(2026, 1, 5), weekly_hours=Decimal(8 + i % 30), state="approved"
            )
            for i, e in enumerate(employees)
            if i % 2
        ],
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                employee=e,
                kind="contracted",
                hours=e.contracted_weekly_hours,
                period_start=D(2025, 1, 6),
                source="employee",
            )
            for i, e in enumerate(employees)
            if i % 4 == 0
        ],
        batch_size=2000,
    )


def median_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def floor_ids(args: dict, *, visit: bool = True) -> list[int] | None:
    """The floor: the ranking's one SQL query (apps/demand/candidate_sql.py) run on the raw psycopg connection,
    then the page's employee rows; None on SQLite (no SQL ranking there). ``visit=False``: the same query without
    its bounded visit (ADR 0036: every qualified person's key computed), as before."""
    if connection.vendor != "postgresql":
        return None
    from apps.demand.candidate_sql import candidate_shortlist

    captured = {}

    class Capture(Exception):
        pass

    def grab(execute, sql, params, many, context):
        captured["sql"], captured["params"] = sql, params
        raise Capture

    with connection.execute_wrapper(grab), contextlib.suppress(Capture):
        candidate_shortlist(**args, visit=visit)
    raw = connection.connection  # the psycopg connection itself: no Django cursor wrapper
    if EXPLAIN and visit:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured["sql"], captured["params"])
            print("\n".join(row[0] for row in cursor.fetchall()))

    def run():
        with raw.cursor() as cursor:
            cursor.execute(captured["sql"], captured["params"])
            rows = cursor.fetchall()
            ids = [row[3] for row in rows if row[3] is not None and not row[2]]
            cursor.execute(
                "SELECT id, employee_number, first_name, last_name, state, org_unit_id FROM api_employee "
                "WHERE id = ANY(%s)",
                [ids],
            )
            by_id = {row[0]: row for row in cursor.fetchall()}
            return [by_id[i][0] for i in ids], rows[0][9]

    return run


def _cpu() -> float:
    """CPU seconds of this process and of its PostgreSQL backend (0 for the backend on SQLite)."""
    return time.process_time() + (backend_cpu(connection) if connection.vendor == "postgresql" else 0)


def measure(client, url: str, repeat: int, shortlist_args: dict) -> dict:
    """In-process time (and CPU) of the endpoint with and without the bounded visit, interleaved; its query count; the
    floor's time with and without it; each floor's rows checked equal to the endpoint's."""
    from unittest import mock

    from apps.demand import candidate_sql, candidates

    def endpoint():
        response = client.get(url)
        assert response.status_code == 200, response.content
        return response

    def unvisited(**kwargs):
        return candidate_sql.candidate_shortlist(**kwargs, visit=False)

    def endpoint_before():
        with mock.patch.object(candidates, "candidate_shortlist", unvisited):
            return endpoint()

    endpoint()  # warm caches (URL resolver, serializers, rule registry) before timing
    before_body = endpoint_before().json()
    with CaptureQueriesContext(connection) as ctx:
        body = endpoint().json()
    assert body["results"] == before_body["results"], "the visit changed the page"
    assert body["considered"] == before_body["considered"]
    assert body["fitting"] <= before_body["fitting"]
    result = {
        "queries": len(ctx.captured_queries),
        "considered": body["considered"],
        "fitting": (body["fitting"], body["fitting_exact"], before_body["fitting"]),
    }
    times = {"ms": [], "before_ms": [], "cpu": [], "before_cpu": []}
    for _ in range(repeat):  # interleaved, so both see the same load
        for key, func in (("ms", endpoint), ("before_ms", endpoint_before)):
            cpu, began = _cpu(), time.perf_counter()
            func()
            times[key].append((time.perf_counter() - began) * 1000)
            times[key.replace("ms", "cpu")].append((_cpu() - cpu) * 1000)
    result |= {key: statistics.median(values) for key, values in times.items()}
    floor = floor_ids(shortlist_args)
    if floor is not None:
        ids, side = floor()
        assert ids == [r["employee"] for r in body["results"]], "the floor does not return the endpoint's rows"
        unvisited_floor = floor_ids(shortlist_args, visit=False)
        assert unvisited_floor()[0] == ids, "the query without its visit does not return the same rows"
        result["side"] = {1: "the visit", 2: "the qualified", 3: "the pool", 4: "the holders"}[side]
        floors, befores = [], []
        for _ in range(repeat):
            floors.append(median_of(1, floor))
            befores.append(median_of(1, unvisited_floor))
        result["floor_ms"] = statistics.median(floors) * 1000
        result["floor_before_ms"] = statistics.median(befores) * 1000
    return result


def _shortlist_args(position) -> dict:
    """What the endpoint passes candidate_shortlist for the benchmark's URL (admin: everyone not terminated)."""
    from apps.business_rules.facts import Facts
    from apps.demand.candidates import _fixed
    from apps.demand.selectors import candidate_pool
    from apps.users.models import User

    start, end, hours = D(2026, 3, 2), D(2026, 3, 29), Decimal(20)
    today = datetime.date.today()
    position_tags, rules, template = _fixed(position=position, start=start, end=end, hours=hours, today=today)
    assert isinstance(template, Facts)
    return {
        "position": position,
        "position_tags": position_tags,
        "rules": rules,
        "start": start,
        "end": end,
        "hours": hours,
        "employees": candidate_pool(user=User.objects.get(email="bench@coveris.test")),
        "limit": 100,
        "template": template,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the ranking query")
    args = parser.parse_args()

    setup_test_environment()
    if connection.vendor == "postgresql":
        # Named after the configured database, so engineers sharing a server do not drop each other's benchmark.
        name = settings.DATABASES["default"]["NAME"]
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_{name}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from rest_framework.test import APIClient

        from apps.api.models import Position
        from apps.api.services import org_unit_create
        from apps.business_rules.models import BusinessRule
        from apps.business_rules.services import rule_create
        from apps.tags.models import PositionTag, TagCatalog
        from apps.users.models import User

        BusinessRule.objects.update(is_active=False)
        unit = org_unit_create(code="BENCH", name="Bench")
        position = Position.objects.create(code="FORK", title="Forklift driver", org_unit=unit)
        other = Position.objects.create(code="DESK", title="Desk", org_unit=unit)
        tag = TagCatalog.objects.create(code="FORKLIFT", name="Forklift")
        PositionTag.objects.create(position=position, tag=tag, min_level=2)
        for code, rule_type, params in [
            ("MAX40", "max_weekly_hours", {"max_hours": 40}),
            ("TAGS", "required_tags", {}),
            ("ACTIVE", "employee_state", {"states": ["active"]}),
        ]:
            rule_create(code=code, name=code, rule_type=rule_type, params=params, events=["assignment.approve"])
        user = User.objects.create(email="bench@coveris.test", role="admin")
        client = APIClient()
        client.force_authenticate(user)
        url = f"/api/coverage/candidates/?position={position.pk}&from=2026-03-02&to=2026-03-29&hours=20&limit=100"

        context = {"unit": unit, "other": other, "tag": tag}
        shortlist_args = _shortlist_args(position)
        built, results = 0, []
        print(f"database: {connection.vendor}; median of {args.repeat}; limit 100")
        for size in args.employees:
            build(size - built, built, context)
            built = size
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            load = os.getloadavg()[0]
            r = measure(client, url, args.repeat, shortlist_args)
            results.append(r)
            fitting, exact, before_fitting = r["fitting"]
            print(
                f"{r['considered']:>7} employees (load {load:.1f} → {os.getloadavg()[0]:.1f}): "
                f"{r['ms']:7.1f} ms in-process ({r['cpu']:.1f} ms CPU), {r['queries']} queries, "
                f"fitting {fitting}{'' if exact else ' (lower bound)'} of {before_fitting}; "
                f"without the visit {r['before_ms']:.1f} ms ({r['before_cpu']:.1f} ms CPU), "
                f"after ÷ before {r['ms'] / r['before_ms']:.2f}"
            )
            if "floor_ms" in r:
                print(
                    f"{'':>7}   page decided by {r['side']}; the query raw {r['floor_ms']:.1f} ms "
                    f"(endpoint ÷ query {r['ms'] / r['floor_ms']:.2f}), without the visit {r['floor_before_ms']:.1f} ms"
                )
        if len(results) > 1:
            first, last = results[0], results[-1]
            print(
                f"growth {first['considered']:,} → {last['considered']:,}: in-process {last['ms'] / first['ms']:.2f}× "
                f"(CPU {last['cpu'] / first['cpu']:.2f}×); "
                f"without the visit {last['before_ms'] / first['before_ms']:.2f}× "
                f"(CPU {last['before_cpu'] / first['before_cpu']:.2f}×)"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
