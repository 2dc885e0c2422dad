"""Benchmark: a spreadsheet import (``import_file``: parse, validate, save each row through the services, all or
nothing) against the services called directly for the same rows, in the same process, as a ratio.

    uv run python apps/api/benchmarks/bench_import.py --rows 1000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/api/benchmarks/bench_import.py

It builds a throw-away test database (SQLite in memory, or ``test_coveris_bench_import`` on PostgreSQL) with one org
unit, then per repeat: ``--rows`` new positions created with ``position_create`` in one transaction (the floor: no
file, no validation but the database's), and a CSV of as many other new positions imported with ``import_file``;
then the same for employee tags (``employee_tag_add``, which writes a log row per tag). It prints the median over
``--repeats`` of each side and the import's time as a multiple of the floor's, plus rows per second of the import —
the figure behind ``COVERIS_IMPORT_QUEUE_ROWS`` (a request should stay well under a few seconds). No time is
asserted. Not collected by pytest (the file name does not start with ``test_``).
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = (
        "test_coveris_bench_import" if connection.vendor == "postgresql" else connection.settings_dict["TEST"]["NAME"]
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run(args.rows, args.repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _run(rows: int, repeats: int) -> None:
    from apps.api.imports import EmployeeResource, PositionResource, import_file
    from apps.api.models import Employee
    from apps.api.services import org_unit_create, position_create
    from apps.tags.imports import EmployeeTagResource
    from apps.tags.models import TagCatalog
    from apps.tags.services import employee_tag_add
    from apps.users.models import User

    unit = org_unit_create(code="BENCH", name="Bench")
    actor = User.objects.create_user(email="bench@coveris.test", password="x", role="hr")  # noqa: S106
    people = "employee_number,first_name,last_name,email,org_unit,contracted_weekly_hours,hire_date\n" + "".join(
        f"B-{i},F{i},L{i},b{i}@bench.test,BENCH,40,2026-01-05\n" for i in range(rows)
    )
    import_file(resource_class=EmployeeResource, content=people.encode(), file_name="p.csv", actor=actor, dry_run=False)
    employees = list(Employee.objects.filter(employee_number__startswith="B-").order_by("pk"))
    figures = {"positions": ([], []), "employee tags": ([], [])}
    for repeat in range(repeats):
        floor_codes = [f"F{repeat}-{i}" for i in range(rows)]
        csv = "code,title,org_unit,standard_weekly_hours,is_active\n" + "".join(
            f"I{repeat}-{i},Post {i},BENCH,40,true\n" for i in range(rows)
        )

        def floor_positions(codes=floor_codes):
            with transaction.atomic():
                for code in codes:
                    position_create(code=code, title="Post", org_unit=unit, standard_weekly_hours=40, is_active=True)

        def import_positions(content=csv):
            report = import_file(
                resource_class=PositionResource, content=content.encode(), file_name="p.csv", actor=actor, dry_run=False
            )
            assert report.committed, report.problems[:3]

        figures["positions"][0].append(_timed(floor_positions))
        figures["positions"][1].append(_timed(import_positions))

        floor_tag = TagCatalog.objects.create(code=f"FT{repeat}", name="Floor tag")
        import_tag = TagCatalog.objects.create(code=f"IT{repeat}", name="Import tag")
        tags_csv = "employee_number,tag,level,valid_from,valid_until\n" + "".join(
            f"{e.employee_number},{import_tag.code},2,2026-02-02,\n" for e in employees
        )

        def floor_tags(tag=floor_tag):
            with transaction.atomic():
                for employee in employees:
                    employee_tag_add(
                        employee=employee, tag=tag, actor=actor, level=2, valid_from=datetime.date(2026, 2, 2)
                    )

        def import_tags(content=tags_csv):
            report = import_file(
                resource_class=EmployeeTagResource,
                content=content.encode(),
                file_name="t.csv",
                actor=actor,
                dry_run=False,
            )
            assert report.committed, report.problems[:3]

        figures["employee tags"][0].append(_timed(floor_tags))
        figures["employee tags"][1].append(_timed(import_tags))

    print(f"{connection.vendor}, {rows} rows, median of {repeats}")
    for name, (floor, imported) in figures.items():
        f, i = statistics.median(floor), statistics.median(imported)
        print(f"  {name:14} import / services-only floor = {i / f:5.2f}x   import: {rows / i:7.0f} rows/s")


if __name__ == "__main__":
    main()
