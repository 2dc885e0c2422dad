"""Benchmark: GET /api/coverage/candidates/ over N employees, as a ratio against a baseline in the same process.

    uv run python apps/demand/benchmarks/bench_candidates.py --employees 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/demand/benchmarks/bench_candidates.py

It builds a throw-away test database (SQLite in memory, or ``test_coveris_bench`` on PostgreSQL), fills it with
bulk inserts — employees in every non-terminated state, most holding the position's tag, half with an
assignment elsewhere, a quarter on the hours ledger, three approval rules — and times, best of ``--repeat``:

- the baseline: one raw ``SELECT`` of the same employees' rows (what any per-employee answer must at least read);
- the endpoint, through the full DRF stack.

It prints the endpoint's time as a multiple of the baseline and its query count, at N/10 and at N employees, so
a per-employee query (the count grows) or a super-linear step (the ratio at N climbs far above the ratio at
N/10) shows at a glance. No absolute times are asserted or printed: they depend on the machine. Not collected
by pytest (the file name does not start with ``test_``).
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
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

D = datetime.date
STATES = ["active"] * 7 + ["pending", "on_leave", "suspended"]


def build(n: int, start_index: int, context: dict) -> None:
    """Add ``n`` employees (and their tags, assignments, ledger lines) to the benchmark organisation."""
    from apps.api.models import Employee
    from apps.assignments.models import Assignment
    from apps.offer.models import LedgerEntry
    from apps.tags.models import EmployeeTag

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


def best_of(repeat: int, func) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - began)
    return best


def measure(client, url: str, repeat: int) -> tuple[float, int, int]:
    """(endpoint time ÷ baseline time, endpoint query count, employees considered)."""

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, employee_number, first_name, last_name, state, contracted_weekly_hours, hire_date, "
                "termination_date, org_unit_id FROM api_employee WHERE state <> %s",
                ["terminated"],
            )
            cursor.fetchall()

    def endpoint():
        response = client.get(url)
        assert response.status_code == 200, response.content
        return response

    endpoint()  # warm caches (URL resolver, serializers, rule registry) before timing
    base = best_of(repeat, baseline)
    took = best_of(repeat, endpoint)
    with CaptureQueriesContext(connection) as ctx:
        considered = endpoint().json()["considered"]
    return took / base, len(ctx.captured_queries), considered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    if connection.vendor == "postgresql":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = "test_coveris_bench"
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
        small = max(1, args.employees // 10)
        build(small, 0, context)
        small_ratio, small_queries, small_n = measure(client, url, args.repeat)
        build(args.employees - small, small, context)
        big_ratio, big_queries, big_n = measure(client, url, args.repeat)

        print(f"database: {connection.vendor}")
        print(f"{small_n:>7} employees: endpoint = {small_ratio:8.1f} × baseline SELECT, {small_queries} queries")
        print(f"{big_n:>7} employees: endpoint = {big_ratio:8.1f} × baseline SELECT, {big_queries} queries")
        print(f"queries grow with employees: {'YES (a per-employee query!)' if big_queries != small_queries else 'no'}")
        print(
            f"ratio at {big_n} ÷ ratio at {small_n}: {big_ratio / small_ratio:.2f} (about 1 when both scale linearly)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
