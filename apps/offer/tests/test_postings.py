"""Automatic postings: each transition or contract change posts (or deliberately does not post) the entries
docs/ledger.md lists, in the same transaction as its cause. Weeks of 2026: Mondays Jan 5, 12, 19, 26, Feb 2."""

from decimal import Decimal

import pytest

from apps.api.models import Employee
from apps.api.services import employee_update
from apps.assignments.models import Assignment
from apps.assignments.services import assignment_transition
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.offer import services
from apps.offer.models import LedgerEntry
from apps.offer.services import ledger_contract_change
from apps.offer.tests.conftest import D, at, column, weekly
from backend.exceptions import RuleViolationError

JAN = (D(2026, 1, 5), D(2026, 2, 1))  # four weeks: Jan 5, 12, 19, 26


def entries(employee) -> list[tuple]:
    return [
        (e.kind, e.hours, e.period_start, e.period_end, e.reverses_id)
        for e in LedgerEntry.objects.filter(employee=employee).order_by("id")
    ]


# --- employee lifecycle -----------------------------------------------------------------------------


def test_activation_posts_the_contract_open_ended_from_the_effective_date(hire, move, hr):
    employee = hire(contracted_weekly_hours=Decimal("32.5"))
    move(employee, "activate", D(2026, 1, 8))  # a Thursday: 4 of 7 days
    (entry,) = LedgerEntry.objects.filter(employee=employee)
    assert (entry.kind, entry.basis, entry.hours, entry.period_start, entry.period_end) == (
        "contracted",
        "weekly_rate",
        Decimal("32.50"),
        D(2026, 1, 8),
        None,
    )
    assert (entry.source, entry.actor_id, entry.actor_email) == ("employee", hr.pk, hr.email)
    assert column(employee, "contracted", *JAN) == ["18.57", "32.50", "32.50", "32.50"]


def test_a_refused_transition_posts_nothing(hire, move, admin):
    rule_create(
        actor=admin,
        code="WHY_ACTIVATE",
        name="Say why",
        rule_type="reason_required",
        params={},
        severity="block",
        events=["employee.activate"],
    )
    employee = hire()
    with pytest.raises(RuleViolationError):
        move(employee, "activate", D(2026, 1, 5))
    assert not LedgerEntry.objects.exists()
    move(employee, "activate", D(2026, 1, 5), reason="First day")
    assert LedgerEntry.objects.get().reason == "employee.activate: First day"


def test_a_failing_posting_rolls_back_its_transition(hire, move, monkeypatch):
    employee = hire()

    def broken(**fields):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(services, "_post_many", broken)  # the insert activation's posting goes through
    with pytest.raises(RuntimeError):
        move(employee, "activate", D(2026, 1, 5))
    assert Employee.objects.get(pk=employee.pk).state == "pending"
    assert not EmployeeTransitionLog.objects.filter(employee=employee).exists()


def test_leave_from_a_wednesday_counts_five_sevenths_then_full_weeks(active, move):
    employee = active(contracted_weekly_hours=35)
    move(employee, "start_leave", D(2026, 1, 14))
    assert column(employee, "leave", *JAN) == ["0.00", "25.00", "35.00", "35.00"]
    move(employee, "return_from_leave", D(2026, 1, 21))  # back on Wednesday: leave was Jan 14–20
    assert column(employee, "leave", *JAN) == ["0.00", "25.00", "10.00", "0.00"]
    assert column(employee, "available", *JAN) == ["35.00", "10.00", "25.00", "35.00"]
    leave, close = LedgerEntry.objects.filter(employee=employee, kind="leave").order_by("id")
    assert (close.hours, close.period_start, close.period_end, close.reverses_id) == (
        Decimal("-35.00"),
        D(2026, 1, 21),
        None,
        leave.pk,
    )


def test_a_second_leave_is_a_new_entry(active, move):
    employee = active()
    move(employee, "start_leave", D(2026, 1, 12))
    move(employee, "return_from_leave", D(2026, 1, 19))
    move(employee, "start_leave", D(2026, 1, 26))
    assert column(employee, "leave", *JAN) == ["0.00", "40.00", "0.00", "40.00"]


@pytest.mark.parametrize("state_path", [["suspend"], ["suspend", "reinstate"]])
def test_suspension_and_reinstatement_post_nothing(active, move, state_path):
    employee = active()
    before = entries(employee)
    for name in state_path:
        move(employee, name, D(2026, 1, 14))
    assert entries(employee) == before
    assert column(employee, "contracted", *JAN) == ["40.00"] * 4


def test_termination_ends_contract_and_leave_on_the_effective_date(active, move):
    employee = active()
    move(employee, "start_leave", D(2026, 1, 12))
    move(employee, "terminate", D(2026, 1, 20))  # a Tuesday, the last day employed
    assert column(employee, "contracted", *JAN) == ["40.00", "40.00", "11.43", "0.00"]
    assert column(employee, "leave", *JAN) == ["0.00", "40.00", "11.43", "0.00"]


def test_termination_of_a_pending_employee_posts_nothing(hire, move):
    employee = hire()
    move(employee, "terminate", D(2026, 1, 20))
    assert not LedgerEntry.objects.exists()


def test_rehire_and_activation_start_a_new_contract(active, move):
    employee = active()
    move(employee, "terminate", D(2026, 1, 13))
    move(employee, "rehire", D(2026, 1, 26))
    assert column(employee, "contracted", *JAN) == ["40.00", "11.43", "0.00", "0.00"]
    move(employee, "activate", D(2026, 1, 28))
    assert column(employee, "contracted", *JAN) == ["40.00", "11.43", "0.00", "28.57"]


# --- assignments --------------------------------------------------------------------------------------


def test_approval_posts_assigned_hours_over_the_assignment(active, assign):
    employee = active()
    assignment = assign(employee, D(2026, 1, 14), D(2026, 1, 23), weekly_hours=14, state="approved")
    (entry,) = LedgerEntry.objects.filter(kind="assigned")
    assert (entry.assignment_id, entry.source, entry.hours, entry.period_start, entry.period_end) == (
        assignment.pk,
        "assignment",
        Decimal("14.00"),
        D(2026, 1, 14),
        D(2026, 1, 23),
    )
    assert column(employee, "assigned", *JAN) == ["0.00", "10.00", "10.00", "0.00"]


def test_proposal_rejection_and_activation_post_nothing(active, assign, hr):
    employee = active()
    proposed = assign(employee, D(2026, 1, 12), state="proposed")
    assignment_transition(assignment_id=proposed.pk, name="reject", actor=hr)
    approved = assign(employee, D(2026, 1, 12), D(2026, 1, 25), state="approved")
    count = LedgerEntry.objects.count()
    assignment_transition(assignment_id=approved.pk, name="activate", actor=hr, effective_date=D(2026, 1, 12))
    assert LedgerEntry.objects.count() == count
    assert not LedgerEntry.objects.filter(assignment=proposed).exists()


def test_cancelling_an_approved_assignment_nets_to_zero(active, assign, hr):
    employee = active()
    assignment = assign(employee, D(2026, 1, 7), weekly_hours=20, state="approved")  # open-ended
    assert column(employee, "assigned", *JAN) == ["14.29", "20.00", "20.00", "20.00"]
    assignment_transition(assignment_id=assignment.pk, name="cancel", actor=hr, reason="No longer needed")
    assert column(employee, "assigned", *JAN) == ["0.00"] * 4
    original, reversal = LedgerEntry.objects.filter(assignment=assignment).order_by("id")
    assert (reversal.hours, reversal.period_start, reversal.period_end, reversal.reverses_id) == (
        Decimal("-20.00"),
        D(2026, 1, 7),
        None,
        original.pk,
    )
    assert reversal.reason == "assignment.cancel: No longer needed"


def test_cancelling_a_proposal_posts_nothing(active, assign, hr):
    employee = active()
    assignment = assign(employee, D(2026, 1, 7), state="proposed")
    assignment_transition(assignment_id=assignment.pk, name="cancel", actor=hr)
    assert not LedgerEntry.objects.filter(assignment=assignment).exists()


def test_completion_closes_from_the_day_after_the_new_end(active, assign, hr):
    employee = active()
    assignment = assign(employee, D(2026, 1, 5), D(2026, 1, 30), weekly_hours=21, state="active")
    assignment_transition(assignment_id=assignment.pk, name="complete", actor=hr, effective_date=D(2026, 1, 15))
    assert Assignment.objects.get(pk=assignment.pk).end_date == D(2026, 1, 15)
    assert column(employee, "assigned", *JAN) == ["21.00", "12.00", "0.00", "0.00"]


def test_completion_after_the_planned_end_changes_nothing(active, assign, hr):
    employee = active()
    assignment = assign(employee, D(2026, 1, 5), D(2026, 1, 16), state="active")
    assignment_transition(assignment_id=assignment.pk, name="complete", actor=hr, effective_date=D(2026, 1, 30))
    assert LedgerEntry.objects.filter(assignment=assignment).count() == 1


def test_termination_cascade_closes_active_and_reverses_approved_assignments(active, assign, move):
    employee = active()
    running = assign(employee, D(2026, 1, 5), weekly_hours=10, state="active")
    upcoming = assign(employee, D(2026, 1, 26), weekly_hours=7, state="approved")
    proposal = assign(employee, D(2026, 1, 26), weekly_hours=5, state="proposed")
    move(employee, "terminate", D(2026, 1, 14))  # Wednesday
    assert Assignment.objects.get(pk=running.pk).state == "completed"
    assert Assignment.objects.get(pk=upcoming.pk).state == "cancelled"
    assert column(employee, "assigned", *JAN) == ["10.00", "4.29", "0.00", "0.00"]
    assert column(employee, "contracted", *JAN) == ["40.00", "17.14", "0.00", "0.00"]
    assert not LedgerEntry.objects.filter(assignment=proposal).exists()


# --- contract changes -------------------------------------------------------------------------------


def test_contract_change_mid_week_rerates_from_the_change_date(active, hr):
    employee = active(contracted_weekly_hours=40)
    employee = employee_update_direct(employee, 20)
    posted = ledger_contract_change(employee=employee, actor=hr, effective_date=D(2026, 1, 14))  # Wednesday
    assert [(e.hours, e.period_start, e.period_end) for e in posted] == [
        (Decimal("-40.00"), D(2026, 1, 14), None),
        (Decimal("20.00"), D(2026, 1, 14), None),
    ]
    # Week of Jan 12: Mon–Tue at 40 (2/7) + Wed–Sun at 20 (5/7) = 11.43 + 14.29 = 25.71 (180/7).
    assert column(employee, "contracted", *JAN) == ["40.00", "25.71", "20.00", "20.00"]
    assert all(e.actor_id == hr.pk and e.reason == "Contract changed to 20.00 h/week" for e in posted)


def test_contract_change_through_employee_update_posts_in_the_same_transaction(active, hr, clock):
    employee = active(contracted_weekly_hours=40)
    clock(at(D(2026, 1, 21), 12))
    employee_update(employee=employee, actor=hr, contracted_weekly_hours=Decimal(30))
    assert column(employee, "contracted", *JAN) == ["40.00", "40.00", "32.86", "30.00"]
    assert LedgerEntry.objects.filter(employee=employee).latest("id").actor_id == hr.pk


def test_contract_change_through_the_api_records_who_made_it(active, auth_client, clock):
    employee = active(contracted_weekly_hours=40)
    clock(at(D(2026, 1, 21), 12))
    client, hr_user = auth_client("hr")
    response = client.patch(f"/api/employees/{employee.pk}/", {"contracted_weekly_hours": "30"}, format="json")
    assert response.status_code == 200, response.content
    rerated = LedgerEntry.objects.filter(employee=employee, kind="contracted").order_by("-id")[:2]
    assert [(e.actor_id, e.actor_email) for e in rerated] == [(hr_user.pk, hr_user.email)] * 2


def test_contract_change_on_leave_rerates_the_leave_too(active, move, hr):
    employee = active(contracted_weekly_hours=40)
    move(employee, "start_leave", D(2026, 1, 12))
    employee = employee_update_direct(employee, 28)
    ledger_contract_change(employee=employee, actor=hr, effective_date=D(2026, 1, 19))
    assert weekly(employee, *JAN)["2026-01-19"] == ("28.00", "0.00", "28.00", "0.00", "0.00")
    assert column(employee, "leave", *JAN) == ["0.00", "40.00", "28.00", "28.00"]


def test_contract_change_without_an_open_contract_posts_nothing(hire, move, hr):
    pending = hire()
    assert ledger_contract_change(employee=employee_update_direct(pending, 20), actor=hr) == []
    # Activation then posts the current rate.
    move(pending, "activate", D(2026, 1, 5))
    assert LedgerEntry.objects.get(employee=pending).hours == Decimal(20)
    move(pending, "terminate", D(2026, 1, 9))
    assert ledger_contract_change(employee=employee_update_direct(pending, 10), actor=hr) == []


def test_contract_change_to_the_same_rate_posts_nothing(active, hr):
    employee = active(contracted_weekly_hours=40)
    assert ledger_contract_change(employee=employee, actor=hr, effective_date=D(2026, 1, 14)) == []


def test_contract_change_before_the_contract_started_replaces_it_whole(hire, move, hr):
    employee = hire()
    move(employee, "activate", D(2026, 1, 19))
    employee = employee_update_direct(employee, 10)
    ledger_contract_change(employee=employee, actor=hr, effective_date=D(2026, 1, 6))
    assert column(employee, "contracted", *JAN) == ["0.00", "0.00", "10.00", "10.00"]


def test_two_contract_changes_chain(active, hr):
    employee = active(contracted_weekly_hours=40)
    ledger_contract_change(employee=employee_update_direct(employee, 30), actor=hr, effective_date=D(2026, 1, 12))
    ledger_contract_change(employee=employee_update_direct(employee, 20), actor=hr, effective_date=D(2026, 1, 26))
    assert column(employee, "contracted", *JAN) == ["40.00", "30.00", "30.00", "20.00"]
    # Then a termination closes only what is still in force (the 20 h contract), nothing twice.
    from apps.fsm.services import employee_transition

    employee_transition(employee_id=employee.pk, name="terminate", actor=hr, effective_date=D(2026, 1, 27))
    assert column(employee, "contracted", *JAN) == ["40.00", "30.00", "30.00", "5.71"]


def employee_update_direct(employee, hours) -> Employee:
    """Set the contract hours without the service (the service's own posting is tested separately)."""
    Employee.objects.filter(pk=employee.pk).update(contracted_weekly_hours=Decimal(hours))
    return Employee.objects.get(pk=employee.pk)


def test_a_contract_change_through_the_employees_api_posts_to_the_ledger(active, auth_client, clock):
    employee = active(contracted_weekly_hours=40)
    client, _ = auth_client("hr")
    clock(at(D(2026, 1, 21), 12))
    response = client.patch(f"/api/employees/{employee.pk}/", {"contracted_weekly_hours": "30"})
    assert response.status_code == 200, response.content
    assert column(employee, "contracted", *JAN) == ["40.00", "40.00", "32.86", "30.00"]
    # Editing something else leaves the ledger alone.
    count = LedgerEntry.objects.count()
    assert client.patch(f"/api/employees/{employee.pk}/", {"first_name": "Ada"}).status_code == 200
    assert LedgerEntry.objects.count() == count


def test_leave_from_the_first_representable_day_does_not_wedge_the_ledger(hire, move, hr):
    """A reversal starting on date.min once made every later posting for the employee overflow (a 500)."""
    import datetime

    first = datetime.date.min
    employee = hire(hire_date=first)
    move(employee, "activate", first)
    move(employee, "start_leave", first)
    move(employee, "return_from_leave", first)
    move(employee, "start_leave", D(2026, 1, 5))
    move(employee, "return_from_leave", D(2026, 1, 12))
    employee = Employee.objects.get(pk=employee.pk)
    employee_update(employee=employee, actor=hr, contracted_weekly_hours=Decimal(30))
    move(employee, "terminate", D(2026, 3, 31))
    assert Employee.objects.get(pk=employee.pk).state == "terminated"
    assert column(employee, "leave", *JAN)[:2] == ["40.00", "0.00"]  # on leave the week of Jan 5, back on Jan 12
