"""Benchmark: the auto-plan's gap hours closed against a greedy baseline and the proven optimum, and its time.

    uv run python apps/demand/benchmarks/bench_plan.py                 # small + contested + 1,000 × 500
    uv run python apps/demand/benchmarks/bench_plan.py --huge          # also 10,000 employees × 500 positions
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/demand/benchmarks/bench_plan.py

Each instance is a generated organisation (bulk inserts into a throw-away test database: SQLite in memory, or
``test_coveris_bench`` on PostgreSQL) planned over four ISO weeks:

- **small** (≤ 30 employees, ≤ 10 positions, equal priorities): the plan (default weights) against the *proven
  optimum* of gap hours closed — the same model with every soft weight 0, solved to OPTIMAL;
- **contested**: scarce skills whose holders are also the people with the most free hours, so the greedy
  baseline (best candidate per position, in priority order) spends them on positions anyone could fill;
- **large**: 1,000 (and with ``--huge`` 10,000) employees × 500 positions.

It prints, per instance: gap hours before, closed by greedy, closed by the plan, the plan ÷ greedy ratio, the
proven optimum where computed, the solver status and optimality gap, and the plan's time as a ratio of the time
to build its input (the same-run baseline). Not collected by pytest.
"""

import argparse
import datetime
import os
import random
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
START, END = D(2027, 1, 4), D(2027, 1, 31)


def _wipe() -> None:
    from apps.api.models import Employee, OrgUnit, Position
    from apps.assignments.models import Assignment
    from apps.business_rules.models import BusinessRule
    from apps.demand.models import CoverageRequirement
    from apps.tags.models import EmployeeTag, PositionTag, TagCatalog

    Assignment.objects.all().delete()
    CoverageRequirement.objects.all().delete()
    EmployeeTag.objects.all().delete()
    PositionTag.objects.all().delete()
    TagCatalog.objects.all().delete()
    BusinessRule.objects.update(is_active=False)
    Employee.objects.all().delete()
    Position.objects.all().delete()
    OrgUnit.objects.all().delete()


def generate(*, employees: int, positions: int, seed: int, contested: bool, equal_priority: bool = False) -> None:
    """A generated organisation: positions with demand and required tags, people with tags and some load."""
    from apps.api.models import Employee, OrgUnit, Position
    from apps.assignments.models import Assignment
    from apps.business_rules.models import BusinessRule
    from apps.demand.models import CoverageRequirement
    from apps.tags.models import EmployeeTag, PositionTag, TagCatalog

    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    _wipe()
    unit = OrgUnit.objects.create(code=f"B{seed}", name="Bench")
    tags = [TagCatalog.objects.create(code=f"SKILL-{i}", name=f"Skill {i}") for i in range(8)]
    made = Position.objects.bulk_create(
        [Position(code=f"P{i:04d}", title=f"Position {i}", org_unit=unit) for i in range(positions)]
    )
    made = list(Position.objects.filter(org_unit=unit).order_by("pk"))
    needs_tag = {}
    for i, position in enumerate(made):
        if i % 3 == 0:  # a third need a skill
            needs_tag[position.pk] = tags[i % len(tags)]
    PositionTag.objects.bulk_create(
        [PositionTag(position_id=pk, tag=tag, min_level=2) for pk, tag in needs_tag.items()]
    )
    CoverageRequirement.objects.bulk_create(
        [
            CoverageRequirement(
                position=p,
                valid_from=START,
                required_headcount=1,
                required_weekly_hours=Decimal(rng.choice([20, 30, 40, 60, 80])),
                # contested: the skill-free positions come first in priority, so greedy serves them first
                priority=3 if equal_priority else (2 if p.pk in needs_tag and contested else rng.randint(1, 5)),
            )
            for p in made
        ]
    )
    if contested:
        for p in made:
            if p.pk not in needs_tag:
                CoverageRequirement.objects.filter(position=p).update(priority=1)
    people = Employee.objects.bulk_create(
        [
            Employee(
                employee_number=f"BE{seed}-{i:06d}",
                first_name="Bench",
                last_name=f"Person {i}",
                email=f"bench{seed}-{i}@coveris.test",
                org_unit=unit,
                contracted_weekly_hours=Decimal(rng.choice([20, 24, 30])),
                hire_date=D(2025, 1, 6),
                state="active",
            )
            for i in range(employees)
        ],
        batch_size=2000,
    )
    people = list(Employee.objects.filter(org_unit=unit).order_by("pk"))
    skilled = []
    for i, e in enumerate(people):
        if rng.random() < (0.12 if contested else 0.25):
            tag = tags[rng.randrange(len(tags))]
            skilled.append(EmployeeTag(employee=e, tag=tag, level=rng.randint(1, 4), valid_from=D(2026, 1, 1)))
            if contested:  # the skilled have the most free hours: greedy's first choice everywhere
                Employee.objects.filter(pk=e.pk).update(contracted_weekly_hours=40)
        elif i % 4 == 0:
            Assignment.objects.create(
                employee=e,
                position=made[rng.randrange(len(made))],
                start_date=D(2026, 6, 1),
                weekly_hours=Decimal(rng.choice([8, 12, 16])),
                state="approved",
            )
    EmployeeTag.objects.bulk_create(skilled, batch_size=2000)
    BusinessRule.objects.create(
        code=f"BENCH-MAX48-{seed}",
        name="48 h",
        rule_type="max_weekly_hours",
        params={"max_hours": 48},
        events=["assignment.approve"],
    )
    BusinessRule.objects.create(
        code=f"BENCH-BOUNDS-{seed}",
        name="bounds",
        rule_type="assignment_hours_bounds",
        params={"min_hours": 4, "max_hours": 40},
        events=["assignment.create"],
    )


def run(name: str, *, optimum: bool, time_limit: float) -> dict:
    from django.utils import timezone

    from apps.api.models import Employee, Position
    from apps.demand.periods import Period
    from apps.demand.planning.compute import plan_compute
    from apps.demand.planning.greedy import greedy_plan
    from apps.demand.planning.problem import problem_build
    from apps.demand.planning.solver import solve

    period = Period(START, END)
    positions, pool = Position.objects.all(), Employee.objects.all()
    started = time.perf_counter()
    problem = problem_build(period=period, positions=positions, pool=pool, today=timezone.localdate())
    build = time.perf_counter() - started
    greedy = greedy_plan(problem)
    started = time.perf_counter()
    results = plan_compute(
        period=period, positions=positions, pool=pool, today=timezone.localdate(), seed=1, time_limit=time_limit
    )
    plan_time = time.perf_counter() - started
    metrics = results["metrics"]
    row = {
        "instance": name,
        "pool": metrics["pool"],
        "positions": len(problem.needs),
        "pairs": metrics["candidates"],
        "gap_before": float(metrics["gap_hours_before"]),
        "greedy": greedy.closed_hours,
        "plan": float(metrics["gap_hours_closed"]),
        "status": metrics["solver_status"],
        "opt_gap": metrics["optimality_gap"],
        "plan_vs_build": round(plan_time / build, 1) if build else None,
        "plan_seconds": round(plan_time, 1),
    }
    row["plan/greedy"] = round(row["plan"] / row["greedy"], 3) if row["greedy"] else None
    if optimum:
        zero = {"warnings": 0, "continuity": 0, "changes": 0, "fairness": 0}
        best = solve(problem, weights=zero, seed=1, time_limit=60)
        row["optimum"] = sum(best.fill.values()) / 100 if best.status == "OPTIMAL" else f"({best.status})"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--huge", action="store_true", help="also 10,000 employees × 500 positions")
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--small", type=int, default=5, help="how many small instances")
    parser.add_argument("--no-large", action="store_true", help="skip 1,000 × 500")
    parser.add_argument("--only-huge", action="store_true", help="only 10,000 × 500 (implies --huge)")
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    from django.test.utils import get_runner

    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    rows = []
    keys = ["instance", "pool", "positions", "pairs", "gap_before", "greedy", "plan", "plan/greedy", "optimum"]
    keys += ["status", "opt_gap", "plan_seconds", "plan_vs_build"]
    print(" | ".join(keys), flush=True)

    def show(row):
        rows.append(row)
        print(" | ".join(str(row.get(k, "")) for k in keys), flush=True)

    try:
        if args.only_huge:
            args.small, args.huge, args.no_large = 0, True, True
        for seed in range(args.small):
            generate(employees=30, positions=10, seed=seed, contested=seed % 2 == 1, equal_priority=True)
            show(run(f"small-{seed}", optimum=True, time_limit=args.time_limit))
        for seed in () if args.only_huge else (101, 102):
            generate(employees=200, positions=40, seed=seed, contested=True)
            show(run(f"contested-{seed}", optimum=False, time_limit=args.time_limit))
        sizes = ([] if args.no_large else [(1000, 500)]) + ([(10000, 500)] if args.huge else [])
        for employees, positions in sizes:
            generate(employees=employees, positions=positions, seed=employees + positions, contested=False)
            show(run(f"{employees}x{positions}", optimum=False, time_limit=args.time_limit))
    finally:
        runner.teardown_databases(old)
    print(
        f"database: {connection.vendor}; plan/greedy ≥ 1 on {sum(1 for r in rows if (r['plan/greedy'] or 1) >= 1)}"
        f" of {len(rows)} instances"
    )


if __name__ == "__main__":
    main()
