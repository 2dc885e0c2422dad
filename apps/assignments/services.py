"""Writes for assignments: proposals (rules checked under the employee's lock), edits while proposed,
transitions through the shared machinery, and the cascade when an employee is terminated."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from apps.api.models import Employee, Position
from apps.assignments.choices import AssignmentState, AssignmentTransition
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.business_rules.engine import evaluate_event, raise_for_decision, rules_decision
from apps.fsm.services import TransitionKind, TransitionOutcome, TransitionRequest, transition_perform
from apps.users.choices import Role
from backend.exceptions import ConflictError

EDITABLE_FIELDS = ("employee", "position", "start_date", "end_date", "weekly_hours", "notes")
MANAGER_TRANSITIONS = frozenset(
    {AssignmentTransition.APPROVE, AssignmentTransition.REJECT, AssignmentTransition.CANCEL}
)


def manager_covers(user, position: Position) -> bool:
    """A manager acts on assignments whose position lies in the subtree of their own org unit."""
    unit = getattr(user, "org_unit", None)
    return unit is not None and position.org_unit.path.startswith(unit.path)


def manager_covers_employee(user, employee: Employee) -> bool:
    """A manager proposes only people of their own subtree (whom they can see)."""
    unit = getattr(user, "org_unit", None)
    return unit is not None and employee.org_unit.path.startswith(unit.path)


def _lock_employee(employee_id) -> Employee:
    try:
        return Employee.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=employee_id)
    except Employee.DoesNotExist as exc:
        raise exceptions.ValidationError({"employee": ["Unknown employee."]}) from exc


def _validate_period(start_date, end_date, weekly_hours) -> None:
    errors = {}
    if end_date is not None and start_date is not None and end_date < start_date:
        errors["end_date"] = ["Must be on or after start_date."]
    if weekly_hours is not None and not (Decimal(0) < Decimal(weekly_hours) <= Decimal(168)):
        errors["weekly_hours"] = ["Must be more than 0 and at most 168."]
    if errors:
        raise exceptions.ValidationError(errors)


def _check_create_rules(*, assignment: Assignment, actor, acknowledge_warnings: bool, override_reason: str) -> list:
    results = evaluate_event(
        event="assignment.create",
        context={
            "assignment": assignment,
            "employee": assignment.employee,
            "position": assignment.position,
            "end_date": assignment.end_date,
            "effective_date": assignment.start_date,
            "actor": actor,
        },
    )
    decision = rules_decision(
        results, actor=actor, acknowledge_warnings=acknowledge_warnings, override_reason=override_reason
    )
    raise_for_decision(decision, results)
    return results


@transaction.atomic
def assignment_create(
    *,
    actor,
    employee: Employee,
    position: Position,
    start_date: datetime.date,
    weekly_hours: Decimal,
    end_date: datetime.date | None = None,
    notes: str = "",
    acknowledge_warnings: bool = False,
    override_reason: str = "",
) -> tuple[Assignment, list]:
    """Propose an assignment; the ``assignment.create`` rules run while the employee row is locked."""
    if override_reason and getattr(actor, "role", None) != Role.ADMIN:
        raise exceptions.PermissionDenied("Only an admin may override a blocking rule.")
    if getattr(actor, "role", None) == Role.MANAGER and not (
        manager_covers(actor, position) and manager_covers_employee(actor, employee)
    ):
        raise exceptions.PermissionDenied(
            "Managers propose assignments only for employees and positions in their org unit subtree."
        )
    _validate_period(start_date, end_date, weekly_hours)
    employee = _lock_employee(employee.pk)
    assignment = Assignment(
        employee=employee,
        position=position,
        start_date=start_date,
        end_date=end_date,
        weekly_hours=weekly_hours,
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    results = _check_create_rules(
        assignment=assignment, actor=actor, acknowledge_warnings=acknowledge_warnings, override_reason=override_reason
    )
    assignment.save()
    return assignment, results


@transaction.atomic
def assignment_update(
    *, assignment: Assignment, actor, acknowledge_warnings: bool = False, override_reason: str = "", **fields
) -> tuple[Assignment, list]:
    """Edit a proposal (employee, position, dates, hours, notes); later changes go through transitions."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise exceptions.ValidationError({name: ["Not editable; use the transitions endpoint."] for name in unknown})
    current_employee_id = Assignment.objects.values_list("employee_id", flat=True).get(pk=assignment.pk)
    new_employee = fields.get("employee")
    for employee_id in sorted({current_employee_id, getattr(new_employee, "pk", current_employee_id)}):
        _lock_employee(employee_id)
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("employee", "position__org_unit")
        .get(pk=assignment.pk)
    )
    if assignment.state != AssignmentState.PROPOSED:
        raise ConflictError(
            f"Only proposed assignments can be edited; this one is {assignment.state}. Use its transitions.",
            details={"current_state": assignment.state},
        )
    if getattr(actor, "role", None) == Role.MANAGER and not (
        all(manager_covers(actor, p) for p in {assignment.position, fields.get("position", assignment.position)})
        and all(
            manager_covers_employee(actor, e)
            for e in {assignment.employee, fields.get("employee", assignment.employee)}
        )
    ):
        raise exceptions.PermissionDenied(
            "Managers edit assignments only for employees and positions in their org unit subtree."
        )
    for name, value in fields.items():
        setattr(assignment, name, value)
    _validate_period(assignment.start_date, assignment.end_date, assignment.weekly_hours)
    results: list = []
    if set(fields) - {"notes"}:
        results = _check_create_rules(
            assignment=assignment,
            actor=actor,
            acknowledge_warnings=acknowledge_warnings,
            override_reason=override_reason,
        )
    assignment.save()
    return assignment, results


# --- transitions -------------------------------------------------------------------------------


def _rule_context(assignment: Assignment, request: TransitionRequest) -> dict:
    return {
        "assignment": assignment,
        "transition": request.name,
        "effective_date": request.effective_date or timezone.localdate(),
        "actor": request.actor,
        "reason": request.reason,
    }


def _lock_assignment_employee(pk) -> None:
    _lock_assignments_employees([pk])


def _lock_assignments_employees(pks: list) -> None:
    """``_lock_assignment_employee`` for a batch: every assignment's employee in one query, in employee pk order."""
    employee_ids = Assignment.objects.filter(pk__in=pks).values("employee_id")
    list(Employee.objects.select_for_update().filter(pk__in=employee_ids).order_by("pk").values_list("pk", flat=True))


def _actor_may(actor, assignment: Assignment, name: str) -> bool:
    if actor.role != Role.MANAGER:
        return True
    return name in MANAGER_TRANSITIONS and manager_covers(actor, assignment.position)


ASSIGNMENT_TRANSITIONS = TransitionKind(
    model=Assignment,
    log_model=AssignmentTransitionLog,
    event_prefix="assignment",
    names=tuple(AssignmentTransition.values),
    roles=frozenset({Role.ADMIN, Role.HR, Role.MANAGER}),
    rule_context=_rule_context,
    actor_may=_actor_may,
    lock_related=_lock_assignment_employee,
    lock_related_many=_lock_assignments_employees,
)


def assignment_transition(*, assignment_id: int, **options) -> TransitionOutcome:
    """Perform (or dry-run) one assignment transition; ``options`` are TransitionRequest's fields (name, actor, ...)."""
    return transition_perform(kind=ASSIGNMENT_TRANSITIONS, pk=assignment_id, request=TransitionRequest(**options))


def assignments_close_on_termination(employee: Employee, request: TransitionRequest, log_entry) -> list:
    """Cascade of ``employee.terminate``: complete active assignments on the effective date and cancel
    proposed/approved ones — same transaction, one log row each, sharing the request id."""
    effective = request.effective_date or timezone.localdate()
    closing = {
        AssignmentState.ACTIVE.value: AssignmentTransition.COMPLETE.value,
        AssignmentState.PROPOSED.value: AssignmentTransition.CANCEL.value,
        AssignmentState.APPROVED.value: AssignmentTransition.CANCEL.value,
    }
    rows = []
    open_ones = Assignment.objects.filter(employee_id=employee.pk, state__in=list(closing)).order_by("id")
    for assignment_id, state in open_ones.values_list("id", "state"):
        outcome = transition_perform(
            kind=ASSIGNMENT_TRANSITIONS,
            pk=assignment_id,
            request=TransitionRequest(
                name=closing[state],
                actor=request.actor,
                reason=f"Employee terminated: {request.reason}".strip().rstrip(":"),
                effective_date=effective,
                acknowledge_warnings=True,
                override_reason=request.override_reason,
            ),
        )
        rows.append(outcome.log_entry)
    return rows
