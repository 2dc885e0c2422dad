"""Benchmark: the batched transition path (``transition_perform_many``) against the per-call path
(``transition_perform`` in a loop) on the same data size, in the same process, as a ratio.

    uv run python apps/api/benchmarks/bench_seed.py --employees 1000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/api/benchmarks/bench_seed.py

It builds a throw-away test database (SQLite in memory, or ``test_coveris_bench_seed`` on PostgreSQL) with the
demo's business rules (``seed_demo``'s six ``DEMO_*`` rules), one position asking for a tag, and two equal groups
of ``--employees`` pending employees holding that tag. One group goes through the steps ``seed_demo`` runs most —
activate the employees, approve and activate one assignment each, suspend half of them with a reason — one call
per object; the other group goes through the same steps in batches of ``--batch``. The ledger postings, the log
rows and the rules are the real ones in both.

It prints, per step and for all of them, the batched path's time as a multiple of the per-call path's (below 1 is
faster) and the queries per object of each. No absolute times are printed or asserted: they depend on the machine.
Not collected by pytest (the file name does not start with ``test_``).
"""

import argparse
import datetime
import os
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
from django.test.utils import setup_test_environment  # noqa: E402

D = datetime.date


class QueryCounter:
    """Counts the queries run on the connection while installed (no debug cursor, no limit)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(func) -> tuple[float, int]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        began = time.perf_counter()
        func()
        took = time.perf_counter() - began
    return took, counter.count


def build_group(prefix: str, n: int, unit, tag) -> list[int]:
    """``n`` pending employees holding ``tag`` at level 3 (bulk inserts, as ``seed_demo`` makes them)."""
    from apps.api.models import Employee
    from apps.tags.models import EmployeeTag

    employees = Employee.objects.bulk_create(
        [
            Employee(
                employee_number=f"{prefix}{i:06d}",
                first_name="Bench",
                last_name=f"{prefix} {i}",
                email=f"{prefix.lower()}{i}@coveris.test",
                org_unit=unit,
                contracted_weekly_hours=Decimal(40),
                hire_date=D(2026, 1, 5),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    EmployeeTag.objects.bulk_create(
        [EmployeeTag(employee=e, tag=tag, level=3, valid_from=D(2025, 1, 1)) for e in employees], batch_size=2000
    )
    return [e.pk for e in employees]


def propose(employee_ids: list[int], position, actor) -> list[int]:
    from apps.assignments.models import Assignment

    rows = Assignment.objects.bulk_create(
        [
            Assignment(
                employee_id=pk, position=position, start_date=D(2026, 2, 2), weekly_hours=Decimal(32), created_by=actor
            )
            for pk in employee_ids
        ],
        batch_size=2000,
    )
    return [a.pk for a in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--employees", type=int, default=1000, help="employees per path")
    parser.add_argument("--batch", type=int, default=5000, help="objects per transition_perform_many call")
    args = parser.parse_args()

    setup_test_environment()
    if connection.vendor == "postgresql":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "test_coveris_bench_seed"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from apps.api.management.commands.seed_demo import ASSIGNMENT_TRANSITIONS, RULES
        from apps.api.models import Position
        from apps.api.services import org_unit_create
        from apps.business_rules.services import rule_create
        from apps.fsm.services import (
            EMPLOYEE_TRANSITIONS,
            TransitionRequest,
            transition_perform,
            transition_perform_many,
        )
        from apps.tags.models import PositionTag, TagCatalog
        from apps.users.models import User

        hr = User.objects.create(email="hr@bench.coveris.test", role="hr")
        for code, name, description, rule_type, params, severity, events in RULES:
            rule_create(
                code=code,
                name=name,
                description=description,
                rule_type=rule_type,
                params=params,
                severity=severity,
                events=events,
            )
        unit = org_unit_create(code="BENCH", name="Bench")
        position = Position.objects.create(code="FORK", title="Forklift driver", org_unit=unit)
        tag = TagCatalog.objects.create(code="forklift", name="Forklift")
        PositionTag.objects.create(position=position, tag=tag, min_level=2)
        n = args.employees
        groups = {"per-call": build_group("C", n, unit, tag), "batched": build_group("B", n, unit, tag)}
        assignments: dict[str, list[int]] = {}

        def run(path: str, kind, pks: list[int], request) -> None:
            if path == "per-call":
                for pk in pks:
                    transition_perform(kind=kind, pk=pk, request=request)
            else:
                for start in range(0, len(pks), args.batch):
                    transition_perform_many(kind=kind, pks=pks[start : start + args.batch], request=request)

        def request(name: str, day: datetime.date, reason: str = "") -> TransitionRequest:
            return TransitionRequest(name=name, actor=hr, effective_date=day, reason=reason, acknowledge_warnings=True)

        steps = [
            ("employee.activate", lambda p: (EMPLOYEE_TRANSITIONS, groups[p], request("activate", D(2026, 1, 5)))),
            (
                "assignment.approve",
                lambda p: (ASSIGNMENT_TRANSITIONS, assignments[p], request("approve", D(2026, 1, 26))),
            ),
            (
                "assignment.activate",
                lambda p: (ASSIGNMENT_TRANSITIONS, assignments[p], request("activate", D(2026, 2, 2))),
            ),
            (
                "employee.suspend",
                lambda p: (EMPLOYEE_TRANSITIONS, groups[p][::2], request("suspend", D(2026, 3, 2), "Under review")),
            ),
        ]
        totals = {"per-call": 0.0, "batched": 0.0}
        lines = []
        for step, prepare in steps:
            if step == "assignment.approve":  # the proposals are plain rows, as seed_demo inserts them
                assignments = {path: propose(pks, position, hr) for path, pks in groups.items()}
            measured = {}
            for path in ("per-call", "batched"):
                kind, pks, req = prepare(path)
                took, queries = timed(lambda kind=kind, pks=pks, req=req, path=path: run(path, kind, pks, req))
                measured[path] = (took, queries / len(pks))
                totals[path] += took
            ratio = measured["batched"][0] / measured["per-call"][0]
            lines.append(f"{step:<22} {measured['per-call'][1]:>14.1f} {measured['batched'][1]:>14.1f} {ratio:>22.2f}")

        print(f"database: {connection.vendor}; {n} employees per path; batches of up to {args.batch}")
        print(f"{'step':<22} {'per-call q/obj':>14} {'batched q/obj':>14} {'batched time ÷ per-call':>22}")
        print("\n".join(lines))
        print(f"{'all four steps':<22} {'':>14} {'':>14} {totals['batched'] / totals['per-call']:>22.2f}")
        print(f"(the batched path takes {totals['batched'] / totals['per-call']:.0%} of the per-call path's time)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
