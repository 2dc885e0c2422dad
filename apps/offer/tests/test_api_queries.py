"""Query caps: the number of queries does not grow with employees, weeks or rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.offer.services import clock_in, clock_out, ledger_adjust, ledger_reverse
from apps.offer.tests.conftest import D, at


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.fixture
def staff(world, assign, active, hr):
    """``staff(n)``: n more employees in east, each with a contract, an assignment and a manual correction."""

    def _make(n: int):
        made = []
        for _ in range(n):
            employee = active(org_unit=world.east)
            assign(employee, D(2026, 1, 7), D(2026, 3, 31), weekly_hours=10)
            entry = ledger_adjust(
                actor=hr,
                employee=employee,
                adjusts="worked",
                hours=Decimal(3),
                period_start=D(2026, 1, 8),
                period_end=D(2026, 1, 9),
                reason="Timesheet",
            )
            ledger_reverse(actor=hr, entry=entry, reason="Duplicate")
            made.append(employee)
        return made

    return _make


@pytest.mark.parametrize("role", ["hr", "manager"])
def test_balances_queries_do_not_grow_with_employees(staff, client_as, role):
    client = client_as(role)
    params = {"from": "2026-01-05", "to": "2026-03-01"}
    staff(1)
    one = count_queries(client, "/api/hours-ledger/balances/", params)
    staff(24)
    many = count_queries(client, "/api/hours-ledger/balances/", params)
    body = client.get("/api/hours-ledger/balances/", params).json()
    assert len({row["employee"] for row in body["results"]}) >= 25
    assert many == one


def test_balances_queries_do_not_grow_with_weeks(staff, client_as):
    staff(3)
    client = client_as("hr")
    one = count_queries(client, "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2026-01-11"})
    year = count_queries(client, "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2027-01-03"})
    assert client.get("/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2027-01-03"}).json()["weeks"] == 52
    assert year == one


@pytest.mark.parametrize("role", ["hr", "manager", "employee"])
def test_entry_list_queries_do_not_grow_with_rows(world, hr, client_as, role):
    client = client_as(role)

    def add(reversed_too: bool):
        entry = ledger_adjust(
            actor=hr,
            employee=world.emp_in,
            adjusts="leave",
            hours=Decimal(1),
            period_start=D(2026, 1, 8),
            period_end=D(2026, 1, 8),
            reason="x",
        )
        if reversed_too:
            ledger_reverse(actor=hr, entry=entry, reason="y")

    params = {"kind": "adjustment", "page_size": 100}
    add(False)
    one = count_queries(client, "/api/hours-ledger/entries/", params)
    for _ in range(12):
        add(True)  # 1 + 24 rows, half of the new ones reversed
    many = count_queries(client, "/api/hours-ledger/entries/", params)
    assert client.get("/api/hours-ledger/entries/", params).json()["count"] == 25
    assert many == one


@pytest.mark.parametrize("role", ["hr", "manager", "employee"])
def test_clock_event_list_queries_do_not_grow_with_rows(world, hr, client_as, role):
    client = client_as(role)

    def shift(day):
        clock_in(actor=hr, employee_id=world.emp_in.pk, at=at(day, 9))
        clock_out(actor=hr, employee_id=world.emp_in.pk, at=at(day, 17))

    shift(D(2026, 1, 1))
    one = count_queries(client, "/api/clock/events/")
    for n in range(2, 26):
        shift(D(2026, 1, n))
    many = count_queries(client, "/api/clock/events/")
    assert client.get("/api/clock/events/").json()["count"] == 25
    assert many == one
