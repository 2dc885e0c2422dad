"""One employee's whole story — hire, activate, assign, approve, clock a shift, leave, return, complete, terminate —
with the balances of every week checked after every step against numbers worked out by hand.

Calendar (2026): Mondays are Jan 5, 12, 19, 26, Feb 2, 9, 16, 23. Contract 40 h/week, assignment 20 h/week.
Pro-rating: a weekly rate counts rate × days covered in the week / 7 (docs/ledger.md).
"""

import pytest

from apps.assignments.services import assignment_transition
from apps.offer.models import LedgerEntry
from apps.offer.tests.conftest import D, at

WEEKS = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23"]
COLUMNS = ("contracted", "assigned", "leave", "worked", "available")


def table(text: str) -> dict[str, tuple[str, ...]]:
    """Rows "week contracted assigned leave worked available" → {week: (...)}."""
    rows = [line.split() for line in text.strip().splitlines()]
    return {row[0]: tuple(row[1:]) for row in rows}


def balances(client, employee_id) -> dict[str, tuple[str, ...]]:
    response = client.get(
        "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2026-03-01", "employee": employee_id}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["week"] for row in body["results"]] == WEEKS
    return {row["week"]: tuple(row[c] for c in COLUMNS) for row in body["results"]}


def totals(client, employee_id) -> tuple[str, ...]:
    body = client.get(
        "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2026-03-01", "employee": employee_id}
    ).json()
    return tuple(body["totals"][c] for c in COLUMNS)


@pytest.mark.django_db
def test_the_whole_story_week_by_week(hire, move, assign, hr, auth_client, clock, make_user):
    client, _ = auth_client(user=hr)
    employee_user = make_user("employee")
    employee = hire(contracted_weekly_hours=40, hire_date=D(2026, 1, 5), user=employee_user)

    # Hired, not started: nothing is posted.
    assert balances(client, employee.pk) == dict.fromkeys(WEEKS, ("0.00",) * 5)

    # Activated on Monday Jan 5: 40 h every week from then on.
    move(employee, "activate", D(2026, 1, 5))
    assert balances(client, employee.pk) == dict.fromkeys(WEEKS, ("40.00", "0.00", "0.00", "0.00", "40.00"))

    # Assignment Wed Jan 7 – Fri Feb 27 at 20 h/week, approved: 5 of 7 days in its first and last weeks.
    assignment = assign(employee, D(2026, 1, 7), D(2026, 2, 27), weekly_hours=20, state="proposed")
    assert balances(client, employee.pk)["2026-01-12"][1] == "0.00"  # a proposal posts nothing
    assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr, effective_date=D(2026, 1, 6))
    assignment_transition(assignment_id=assignment.pk, name="activate", actor=hr, effective_date=D(2026, 1, 7))
    assert balances(client, employee.pk) == table("""
        2026-01-05 40.00 14.29 0.00 0.00 25.71
        2026-01-12 40.00 20.00 0.00 0.00 20.00
        2026-01-19 40.00 20.00 0.00 0.00 20.00
        2026-01-26 40.00 20.00 0.00 0.00 20.00
        2026-02-02 40.00 20.00 0.00 0.00 20.00
        2026-02-09 40.00 20.00 0.00 0.00 20.00
        2026-02-16 40.00 20.00 0.00 0.00 20.00
        2026-02-23 40.00 14.29 0.00 0.00 25.71
    """)

    # A shift on Tue Jan 13, 09:00–17:30, clocked by the employee themself: 8.5 h worked.
    employee_client, _ = auth_client(user=employee_user)
    clock(at(D(2026, 1, 13), 9))
    assert employee_client.post("/api/clock/in/", {}).status_code == 201
    clock(at(D(2026, 1, 13), 17, 30))
    assert employee_client.post("/api/clock/out/", {}).status_code == 200
    assert balances(client, employee.pk)["2026-01-12"] == ("40.00", "20.00", "0.00", "8.50", "20.00")

    # Leave from Wednesday Jan 21, open-ended at the contract rate: 5/7 of 40 in that week, then 40.
    move(employee, "start_leave", D(2026, 1, 21))
    assert balances(client, employee.pk) == table("""
        2026-01-05 40.00 14.29 0.00 0.00 25.71
        2026-01-12 40.00 20.00 0.00 8.50 20.00
        2026-01-19 40.00 20.00 28.57 0.00 -8.57
        2026-01-26 40.00 20.00 40.00 0.00 -20.00
        2026-02-02 40.00 20.00 40.00 0.00 -20.00
        2026-02-09 40.00 20.00 40.00 0.00 -20.00
        2026-02-16 40.00 20.00 40.00 0.00 -20.00
        2026-02-23 40.00 14.29 40.00 0.00 -14.29
    """)

    # Back on Wednesday Jan 28: the leave covered Jan 21–27, i.e. Mon–Tue (2/7) of the week of Jan 26.
    move(employee, "return_from_leave", D(2026, 1, 28))
    assert balances(client, employee.pk) == table("""
        2026-01-05 40.00 14.29 0.00 0.00 25.71
        2026-01-12 40.00 20.00 0.00 8.50 20.00
        2026-01-19 40.00 20.00 28.57 0.00 -8.57
        2026-01-26 40.00 20.00 11.43 0.00 8.57
        2026-02-02 40.00 20.00 0.00 0.00 20.00
        2026-02-09 40.00 20.00 0.00 0.00 20.00
        2026-02-16 40.00 20.00 0.00 0.00 20.00
        2026-02-23 40.00 14.29 0.00 0.00 25.71
    """)

    # The assignment completes early, on Wednesday Feb 11: Mon–Wed (3/7) of that week, nothing after.
    assignment_transition(assignment_id=assignment.pk, name="complete", actor=hr, effective_date=D(2026, 2, 11))
    assert balances(client, employee.pk) == table("""
        2026-01-05 40.00 14.29 0.00 0.00 25.71
        2026-01-12 40.00 20.00 0.00 8.50 20.00
        2026-01-19 40.00 20.00 28.57 0.00 -8.57
        2026-01-26 40.00 20.00 11.43 0.00 8.57
        2026-02-02 40.00 20.00 0.00 0.00 20.00
        2026-02-09 40.00 8.57 0.00 0.00 31.43
        2026-02-16 40.00 0.00 0.00 0.00 40.00
        2026-02-23 40.00 0.00 0.00 0.00 40.00
    """)

    # Terminated on Wednesday Feb 18 (the last day employed): Mon–Wed of that week, nothing after.
    move(employee, "terminate", D(2026, 2, 18))
    assert balances(client, employee.pk) == table("""
        2026-01-05 40.00 14.29 0.00 0.00 25.71
        2026-01-12 40.00 20.00 0.00 8.50 20.00
        2026-01-19 40.00 20.00 28.57 0.00 -8.57
        2026-01-26 40.00 20.00 11.43 0.00 8.57
        2026-02-02 40.00 20.00 0.00 0.00 20.00
        2026-02-09 40.00 8.57 0.00 0.00 31.43
        2026-02-16 17.14 0.00 0.00 0.00 17.14
        2026-02-23 0.00 0.00 0.00 0.00 0.00
    """)
    # Totals from the unrounded sums: contract 45 days, assignment 36 days, leave 7 days (all × rate / 7).
    assert totals(client, employee.pk) == ("257.14", "102.86", "40.00", "8.50", "114.28")

    # Nothing was edited: three originals closed by reversals pointing at them, plus the worked shift.
    entries = list(LedgerEntry.objects.filter(employee=employee).order_by("id"))
    summary = [(e.kind, str(e.hours), str(e.period_start), str(e.period_end), e.reverses_id) for e in entries]
    contract, assigned, worked, leave, leave_close, assigned_close, contract_close = entries
    assert summary == [
        ("contracted", "40.00", "2026-01-05", "None", None),
        ("assigned", "20.00", "2026-01-07", "2026-02-27", None),
        ("worked", "8.50", "2026-01-13", "2026-01-13", None),
        ("leave", "40.00", "2026-01-21", "None", None),
        ("leave", "-40.00", "2026-01-28", "None", leave.pk),
        ("assigned", "-20.00", "2026-02-12", "2026-02-27", assigned.pk),
        ("contracted", "-40.00", "2026-02-19", "None", contract.pk),
    ]
    assert {e.actor_id for e in entries} == {hr.pk, employee_user.pk}
    assert worked.actor_id == employee_user.pk
    assert worked.clock_event_id is not None
    assert all(e.actor_email for e in entries)
