import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import assignment_create, assignment_transition, assignment_update
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from backend.audit.chain import chain_verify
from backend.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    RuleViolationError,
    TransitionNotAllowedError,
)
from backend.request_context import current_request_id

D = datetime.date
pytestmark = pytest.mark.django_db


def _reload(assignment):
    return Assignment.objects.get(pk=assignment.pk)


def _create(actor, employee, position=None, **kw):
    kw.setdefault("start_date", D(2026, 2, 2))
    kw.setdefault("weekly_hours", Decimal(20))
    return assignment_create(actor=actor, employee=employee, position=position or PositionFactory(), **kw)


def test_create_starts_proposed_and_records_creator(hr, active_employee):
    assignment, results = _create(hr, active_employee)
    assert assignment.state == "proposed"
    assert assignment.created_by == hr
    assert results == []


@pytest.mark.parametrize(
    ("path", "expected_state"),
    [
        (["approve"], "approved"),
        (["reject"], "rejected"),
        (["cancel"], "cancelled"),
        (["approve", "cancel"], "cancelled"),
        (["approve", "activate"], "active"),
        (["approve", "activate", "complete"], "completed"),
    ],
)
def test_each_transition_moves_state_and_logs(hr, active_employee, path, expected_state):
    assignment, _ = _create(hr, active_employee)
    for name in path:
        outcome = assignment_transition(assignment_id=assignment.pk, name=name, actor=hr, reason=f"do {name}")
    assert _reload(assignment).state == expected_state
    logs = list(AssignmentTransitionLog.objects.filter(assignment=assignment).order_by("id"))
    assert [log.transition for log in logs] == path
    assert logs[-1].target_state == expected_state
    assert logs[-1].actor == hr
    assert logs[-1].reason == f"do {path[-1]}"
    assert outcome.log_entry == logs[-1]
    assert chain_verify(AssignmentTransitionLog).ok


@pytest.mark.parametrize(
    ("path", "refused"),
    [([], "activate"), ([], "complete"), (["approve"], "reject"), (["reject"], "approve"), (["approve"], "approve")],
)
def test_transition_refused_from_wrong_state_writes_nothing(hr, active_employee, path, refused):
    assignment, _ = _create(hr, active_employee)
    for name in path:
        assignment_transition(assignment_id=assignment.pk, name=name, actor=hr)
    before_state, before_logs = _reload(assignment).state, AssignmentTransitionLog.objects.count()
    with pytest.raises(TransitionNotAllowedError) as err:
        assignment_transition(assignment_id=assignment.pk, name=refused, actor=hr)
    assert err.value.details["current_state"] == before_state
    assert _reload(assignment).state == before_state
    assert AssignmentTransitionLog.objects.count() == before_logs


def test_complete_ends_on_the_effective_date(hr, active_employee):
    assignment, _ = _create(hr, active_employee, end_date=D(2026, 12, 31))
    for name in ("approve", "activate"):
        assignment_transition(assignment_id=assignment.pk, name=name, actor=hr)
    assignment_transition(assignment_id=assignment.pk, name="complete", actor=hr, effective_date=D(2026, 6, 30))
    assert _reload(assignment).end_date == D(2026, 6, 30)


def test_edit_only_while_proposed(hr, active_employee):
    assignment, _ = _create(hr, active_employee)
    updated, _ = assignment_update(assignment=assignment, actor=hr, weekly_hours=Decimal(25), notes="more")
    assert updated.weekly_hours == Decimal(25)
    assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr)
    with pytest.raises(ConflictError):
        assignment_update(assignment=assignment, actor=hr, weekly_hours=Decimal(30))
    assert _reload(assignment).weekly_hours == Decimal(25)


def test_bad_period_and_hours_refused(hr, active_employee):
    with pytest.raises(InvalidInputError) as err:
        _create(hr, active_employee, start_date=D(2026, 3, 1), end_date=D(2026, 2, 1))
    assert "end_date" in err.value.details
    with pytest.raises(InvalidInputError) as err:
        _create(hr, active_employee, weekly_hours=Decimal(-1))
    assert "weekly_hours" in err.value.details
    assert Assignment.objects.count() == 0


def test_database_checks_hold_without_python(active_employee):
    position = PositionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            employee=active_employee,
            position=position,
            start_date=D(2026, 3, 1),
            end_date=D(2026, 2, 1),
            weekly_hours=10,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(employee=active_employee, position=position, start_date=D(2026, 3, 1), weekly_hours=0)


def test_create_rules_block_with_explanation_and_nothing_written(hr, active_employee):
    rule_create(
        code="ACTIVE_ONLY",
        name="Active only",
        rule_type="employee_state",
        params={"states": ["active"]},
        events=["assignment.create"],
    )
    pending = EmployeeFactory()
    with pytest.raises(RuleViolationError) as err:
        _create(hr, pending)
    violation = err.value.details["violations"][0]
    assert violation["rule"] == "ACTIVE_ONLY"
    assert violation["observed"] == "pending"
    assert violation["remediation"]
    assert Assignment.objects.count() == 0
    assignment, results = _create(hr, active_employee)
    assert results[0]["outcome"] == "pass"


def test_warn_rule_needs_acknowledgement(hr, active_employee):
    rule_create(
        code="SMALL",
        name="Small",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 10},
        severity="warn",
        events=["assignment.approve"],
    )
    assignment, _ = _create(hr, active_employee)
    with pytest.raises(RuleViolationError) as err:
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr)
    assert err.value.details["acknowledge_warnings_required"] is True
    assert _reload(assignment).state == "proposed"
    outcome = assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr, acknowledge_warnings=True)
    assert outcome.log_entry.rule_results[0]["outcome"] == "fail"
    assert outcome.log_entry.rule_results[0]["severity"] == "warn"


def test_admin_override_is_logged_and_others_may_not(make_user, hr, active_employee):
    rule_create(
        code="TINY",
        name="Tiny",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 5},
        events=["assignment.approve"],
    )
    assignment, _ = _create(hr, active_employee)
    with pytest.raises(PermissionDeniedError):
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr, override_reason="urgent")
    admin = make_user("admin")
    outcome = assignment_transition(assignment_id=assignment.pk, name="approve", actor=admin, override_reason="urgent")
    assert outcome.log_entry.override_reason == "urgent"
    assert outcome.log_entry.rule_results[0]["rule"] == "TINY"
    assert outcome.log_entry.rule_results[0]["version"] == 1


def test_dry_run_writes_nothing(hr, active_employee):
    assignment, _ = _create(hr, active_employee)
    outcome = assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr, dry_run=True)
    assert outcome.allowed is True
    assert outcome.target == "approved"
    assert _reload(assignment).state == "proposed"
    assert AssignmentTransitionLog.objects.count() == 0


def test_manager_acts_only_inside_subtree(make_user, hr, tree):
    manager = make_user("manager", org_unit=tree["root"])
    local = EmployeeFactory(org_unit=tree["east"])
    outsider = EmployeeFactory(org_unit=tree["west"])
    inside, _ = _create(manager, local, position=tree["p_east"])
    with pytest.raises(PermissionDeniedError):
        _create(manager, local, position=tree["p_west"])
    with pytest.raises(PermissionDeniedError):  # an employee outside the subtree, even for an inside position
        _create(manager, outsider, position=tree["p_east"])
    assignment_transition(assignment_id=inside.pk, name="approve", actor=manager)
    with pytest.raises(PermissionDeniedError):  # managers propose and approve; HR starts and ends
        assignment_transition(assignment_id=inside.pk, name="activate", actor=manager)
    outside, _ = _create(hr, local, position=tree["p_west"])
    with pytest.raises(PermissionDeniedError):
        assignment_transition(assignment_id=outside.pk, name="approve", actor=manager)


@pytest.mark.parametrize("role", ["auditor", "employee", ""])
def test_other_roles_cannot_transition(make_user, hr, active_employee, role):
    assignment, _ = _create(hr, active_employee)
    with pytest.raises(PermissionDeniedError):
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=make_user(role))


def test_termination_cascades_in_one_transaction(hr, active_employee):
    running, _ = _create(hr, active_employee, end_date=D(2026, 12, 31))
    approved, _ = _create(hr, active_employee)
    proposed, _ = _create(hr, active_employee)
    done, _ = _create(hr, active_employee, end_date=D(2026, 3, 1))
    for name in ("approve", "activate"):
        assignment_transition(assignment_id=running.pk, name=name, actor=hr)
    assignment_transition(assignment_id=approved.pk, name="approve", actor=hr)
    assignment_transition(assignment_id=done.pk, name="reject", actor=hr)

    token = current_request_id.set("req-terminate-1")
    try:
        outcome = employee_transition(
            employee_id=active_employee.pk, name="terminate", actor=hr, effective_date=D(2026, 5, 31), reason="moved"
        )
    finally:
        current_request_id.reset(token)

    assert _reload(running).state == "completed"
    assert _reload(running).end_date == D(2026, 5, 31)
    assert _reload(approved).state == "cancelled"
    assert _reload(proposed).state == "cancelled"
    assert _reload(done).state == "rejected"
    cascade_logs = AssignmentTransitionLog.objects.filter(request_id="req-terminate-1")
    assert sorted((log.assignment_id, log.transition) for log in cascade_logs) == sorted(
        [(running.pk, "complete"), (approved.pk, "cancel"), (proposed.pk, "cancel")]
    )
    assert {log.pk for log in outcome.cascaded} == {log.pk for log in cascade_logs}
    assert EmployeeTransitionLog.objects.get(transition="terminate").request_id == "req-terminate-1"


def test_cascade_failure_rolls_back_the_termination(hr, active_employee):
    rule_create(
        code="WHY", name="Why", rule_type="reason_required", params={"min_length": 200}, events=["assignment.cancel"]
    )
    proposed, _ = _create(hr, active_employee)
    with pytest.raises(RuleViolationError):
        employee_transition(employee_id=active_employee.pk, name="terminate", actor=hr, reason="short")
    assert type(active_employee).objects.get(pk=active_employee.pk).state == "active"
    assert _reload(proposed).state == "proposed"
    assert not EmployeeTransitionLog.objects.filter(transition="terminate").exists()
    assert AssignmentTransitionLog.objects.count() == 0
