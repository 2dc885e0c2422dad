"""Benchmark: the list endpoints' cost as a ratio against a raw query loop over the same rows, same process.

    uv run python apps/api/benchmarks/bench_lists.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/api/benchmarks/bench_lists.py

It builds a throw-away test database, fills one page (25 rows) per endpoint, then times, best of ``--repeat``:

- the baseline: a raw cursor ``SELECT`` of the page's rows and their joined names, turned into dicts in a loop
  and dumped to JSON — the least any JSON answer must do;
- the endpoint: one GET through the whole stack (middleware, auth, permissions, filters, pagination, serializer).

It prints, per endpoint, the ratio endpoint ÷ baseline and the query count, so a regression (an N+1 query, a
slow serializer) shows as a jump in either. No absolute times are printed or asserted; they depend on the
machine. Not collected by pytest (the file name does not start with ``test_``).
"""

import argparse
import datetime
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

# endpoint → the raw SQL a hand-written answer would run for the same page
ENDPOINTS = {
    "/api/employees/": (
        "SELECT e.id, e.employee_number, e.first_name, e.last_name, e.email, e.state, u.code, u.name "
        "FROM api_employee e JOIN api_orgunit u ON u.id = e.org_unit_id ORDER BY e.last_name, e.id LIMIT 25"
    ),
    "/api/assignments/": (
        "SELECT a.id, a.start_date, a.end_date, a.weekly_hours, a.state, e.first_name, e.last_name, p.code, p.title "
        "FROM assignments_assignment a JOIN api_employee e ON e.id = a.employee_id "
        "JOIN api_position p ON p.id = a.position_id ORDER BY a.start_date DESC, a.id LIMIT 25"
    ),
    "/api/audit/employee-transitions/": (
        "SELECT l.id, l.employee_id, l.transition, l.source_state, l.target_state, l.actor_email, l.created_at, "
        "l.reason, l.hash FROM fsm_employeetransitionlog l ORDER BY l.created_at, l.id LIMIT 25"
    ),
}


def build() -> object:
    """25 employees (activated through the service, so 25 log rows) and 25 assignments; returns an HR user."""
    from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
    from apps.assignments.tests.factories import AssignmentFactory
    from apps.fsm.services import employee_transition
    from apps.users.models import User

    hr = User.objects.create_user("bench-hr@coveris.test", "bench-password", role="hr")
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    for _ in range(25):
        employee = EmployeeFactory(org_unit=unit)
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
        AssignmentFactory(employee=employee, position=position, start_date=datetime.date(2026, 2, 2))
    return hr


def best_of(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here; irrelevant to timing
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from rest_framework.test import APIClient
        from rest_framework_simplejwt.tokens import AccessToken

        hr = build()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(hr)}")
        print(f"database: {connection.vendor}; best of {args.repeat}; 25 rows per page")
        for url, sql in ENDPOINTS.items():

            def baseline(sql=sql):
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    columns = [c[0] for c in cursor.description]
                    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
                    return json.dumps(rows, cls=DjangoJSONEncoder), len(rows)

            def endpoint(url=url):
                response = client.get(url)
                assert response.status_code == 200, response.content
                return response

            assert baseline()[1] == 25
            with CaptureQueriesContext(connection) as queries:
                assert endpoint().json()["count"] == 25
            query_count = len(queries)  # read now: later requests reset the connection's query log
            ratio = best_of(args.repeat, endpoint) / best_of(args.repeat, baseline)
            print(f"{url:<36} endpoint = {ratio:6.1f} × baseline   ({query_count} queries)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
