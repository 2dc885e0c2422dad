"""Writes for assignments: proposals (rules checked under the employee's lock), edits while proposed,
transitions through the shared machinery, and the cascade when an employee is terminated."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from apps.api.models import Employee, Position
from apps.api.timezones import employee_today
from apps.assignments.choices import OPEN_STATES, AssignmentState, AssignmentTransition
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.business_rules.engine import (
    active_rules,
    applicable_rules,
    evaluate_event,
    evaluate_rule,
    raise_for_decision,
    rules_decision,
)
from apps.business_rules.facts import Facts
from apps.fsm.services import (
    TransitionKind,
    TransitionOutcome,
    TransitionRequest,
    subject_today,
    transition_perform,
    transition_perform_many,
)
from apps.tags.models import EmployeeTag, PositionTag
from apps.users.choices import Role
from backend.bulk_copy import copy_insert
from backend.db import atomic_with_retry
from backend.errors import ConflictError, CoverisError, InvalidInputError, PermissionDeniedError

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
        raise InvalidInputError({"employee": ["Unknown employee."]}) from exc


def _validate_period(start_date, end_date, weekly_hours) -> None:
    errors = {}
    if end_date is not None and start_date is not None and end_date < start_date:
        errors["end_date"] = ["Must be on or after start_date."]
    if weekly_hours is not None and not (Decimal(0) < Decimal(weekly_hours) <= Decimal(168)):
        errors["weekly_hours"] = ["Must be more than 0 and at most 168."]
    if errors:
        raise InvalidInputError(errors)


def _create_context(assignment: Assignment, actor) -> dict:
    return {
        "assignment": assignment,
        "employee": assignment.employee,
        "position": assignment.position,
        "end_date": assignment.end_date,
        "effective_date": assignment.start_date,
        "actor": actor,
    }


def _check_create_rules(*, assignment: Assignment, actor, acknowledge_warnings: bool, override_reason: str) -> list:
    results = evaluate_event(event="assignment.create", context=_create_context(assignment, actor))
    decision = rules_decision(
        results, actor=actor, acknowledge_warnings=acknowledge_warnings, override_reason=override_reason
    )
    raise_for_decision(decision, results)
    return results


@dataclass(frozen=True)
class _Proposal:
    """One proposal of a batch: ``assignment_create``'s arguments (a missing or unknown key is a TypeError)."""

    employee: Employee
    position: Position
    start_date: datetime.date
    weekly_hours: Decimal
    end_date: datetime.date | None = None
    notes: str = ""


class _ProposalBatch:
    """What ``Facts`` loads per proposal — the employee's open assignments and tags, the position's tags — loaded
    once for the whole batch, each on first use (a rule that reads nothing costs nothing), as ``Facts`` would.

    ``proposed`` holds the batch's proposals already accepted, per employee: a later proposal of the same employee
    sees them as open assignments, as it would see them saved had the proposals been made one by one. Other rows
    cannot change meanwhile: the employees are locked, and every assignment change locks its employee.
    """

    def __init__(self, employee_ids: list, position_ids: list):
        self.employee_ids = employee_ids
        self.position_ids = position_ids
        self.proposed: dict = defaultdict(list)

    @cached_property
    def _open(self) -> dict:
        # The query of ``Facts.other_open_assignments`` for every employee at once (same filter, join and ordering).
        grouped = defaultdict(list)
        opened = Assignment.objects.filter(employee_id__in_array=self.employee_ids, state__in=OPEN_STATES)
        for assignment in opened.select_related("position"):
            grouped[assignment.employee_id].append(assignment)
        return grouped

    @cached_property
    def _employee_tags(self) -> dict:
        grouped = defaultdict(list)
        for tag in EmployeeTag.objects.filter(employee_id__in_array=self.employee_ids).select_related("tag"):
            grouped[tag.employee_id].append(tag)
        return grouped

    @cached_property
    def _position_tags(self) -> dict:
        grouped = defaultdict(list)
        for tag in PositionTag.objects.filter(position_id__in_array=self.position_ids).select_related("tag"):
            grouped[tag.position_id].append(tag)
        return grouped

    def open_assignments(self, employee_id) -> list:
        """The open assignments, in the model's order (latest start first, then id; an unsaved one after the saved)."""
        found = self._open.get(employee_id, []) + self.proposed.get(employee_id, [])
        return sorted(found, key=lambda a: (-a.start_date.toordinal(), math.inf if a.pk is None else a.pk))

    def employee_tags(self, employee_id) -> list:
        return list(self._employee_tags.get(employee_id, []))

    def position_tags(self, position_id) -> list:
        return list(self._position_tags.get(position_id, []))


class _ProposalFacts(Facts):
    """``Facts`` of one proposal of a batch: its relations come from the batch's load (``_ProposalBatch``)."""

    batch: _ProposalBatch

    @cached_property
    def other_open_assignments(self) -> list:
        return self.batch.open_assignments(self.employee.pk) if self.employee is not None else []

    @cached_property
    def employee_tags(self) -> list:
        return self.batch.employee_tags(self.employee.pk) if self.employee is not None else []

    @cached_property
    def position_tags(self) -> list:
        return self.batch.position_tags(self.position.pk) if self.position is not None else []


def _proposal_rules_checked(
    assignment: Assignment,
    *,
    actor,
    rules: list,
    batch: _ProposalBatch,
    acknowledge_warnings: bool,
    override_reason: str,
) -> list:
    """``_check_create_rules`` for a proposal of a batch: the rules and the facts they read come from the batch."""
    facts = _ProposalFacts.from_context("assignment.create", _create_context(assignment, actor))
    facts.batch = batch
    results = [evaluate_rule(rule, facts) for rule in applicable_rules("assignment.create", facts, rules)]
    decision = rules_decision(
        results, actor=actor, acknowledge_warnings=acknowledge_warnings, override_reason=override_reason
    )
    raise_for_decision(decision, results)
    return results


def _proposal_checked(proposal: _Proposal, *, actor, locked: dict) -> Assignment:
    """``assignment_create``'s checks before the rules, in its order; the unsaved assignment when they pass."""
    if getattr(actor, "role", None) == Role.MANAGER and not (
        manager_covers(actor, proposal.position) and manager_covers_employee(actor, proposal.employee)
    ):
        raise PermissionDeniedError(
            "Managers propose assignments only for employees and positions in their org unit subtree."
        )
    _validate_period(proposal.start_date, proposal.end_date, proposal.weekly_hours)
    employee = locked.get(proposal.employee.pk)
    if employee is None:
        raise InvalidInputError({"employee": ["Unknown employee."]})
    return Assignment(
        employee=employee,
        position=proposal.position,
        start_date=proposal.start_date,
        end_date=proposal.end_date,
        weekly_hours=proposal.weekly_hours,
        notes=proposal.notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@atomic_with_retry
def assignments_create_many(
    *, actor, proposals: list[dict], acknowledge_warnings: bool = False, override_reason: str = ""
) -> list[tuple[Assignment, list]]:
    """Propose many assignments in one transaction, all or nothing; ``(assignment, rule results)`` in input order.

    Each proposal (``assignment_create``'s keyword arguments: employee, position, start_date, weekly_hours,
    end_date, notes) gets exactly its checks, in its order — override only by an admin (403), a manager's scope
    (403), the period (400), the ``assignment.create`` rules (422) — and a later proposal of an employee sees the
    batch's earlier ones as open assignments, as one-by-one calls would. The first refusal raises the error that
    call would have raised (a note names the proposal) and nothing of the batch is written.

    What is batched: the employees are locked first, in one query in pk order (one lock order with the single
    call); the rules are loaded once and the rows they read once for the batch (``_ProposalBatch``); the rows are
    inserted in bulk, in input order, one insert per run of proposals without an employee twice (so order a big
    batch round by round: every employee's first proposal, then every second one ...). A proposal judged after the
    employee's earlier ones is judged again once they have ids, so its results name them as a single call's would;
    a refusal cannot name them (they were never saved). A refusal only the database makes (PostgreSQL's exclusion
    constraint) surfaces at the insert, after the rules of the whole batch.
    """
    if override_reason and getattr(actor, "role", None) != Role.ADMIN:
        raise PermissionDeniedError("Only an admin may override a blocking rule.")
    proposals = [_Proposal(**proposal) for proposal in proposals]
    if not proposals:
        return []
    locked = {
        employee.pk: employee
        for employee in Employee.objects.select_for_update(of=("self",))
        .select_related("org_unit")
        .filter(pk__in_array={proposal.employee.pk for proposal in proposals})
        .order_by("pk")
    }
    rules = list(active_rules())
    batch = _ProposalBatch(list(locked), list({p.position.pk for p in proposals if p.position.pk is not None}))
    options = {
        "actor": actor,
        "rules": rules,
        "batch": batch,
        "acknowledge_warnings": acknowledge_warnings,
        "override_reason": override_reason,
    }
    made: list[tuple[Assignment, list]] = []
    # Runs of consecutive proposals with no employee twice: each is one insert, so the ids follow the input order.
    runs: list[list[int]] = []
    seen: set = set()
    for index, proposal in enumerate(proposals):
        try:
            assignment = _proposal_checked(proposal, actor=actor, locked=locked)
            results = _proposal_rules_checked(assignment, **options)
        except CoverisError as exc:
            if len(proposals) > 1:
                exc.add_note(f"Refused for proposal {index}; nothing of the batch was written.")
            raise
        if not runs or assignment.employee_id in seen:
            runs.append([])
            seen = set()
        runs[-1].append(index)
        seen.add(assignment.employee_id)
        batch.proposed[assignment.employee_id].append(assignment)
        made.append((assignment, results))
    batch.proposed.clear()
    for run in runs:
        for index in run:
            assignment = made[index][0]
            if batch.proposed.get(assignment.employee_id):
                # Judged again now that the employee's earlier proposals have ids, which its results name as a single
                # call's would (the verdicts cannot change: rules judge hours, dates and tags, not ids).
                made[index] = (assignment, _proposal_rules_checked(assignment, **options))
        copy_insert(Assignment, [made[index][0] for index in run], batch_size=1000)  # COPY on PostgreSQL (ADR 0032)
        for index in run:
            batch.proposed[made[index][0].employee_id].append(made[index][0])
    return made


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
    [(assignment, results)] = assignments_create_many(
        actor=actor,
        proposals=[
            {
                "employee": employee,
                "position": position,
                "start_date": start_date,
                "weekly_hours": weekly_hours,
                "end_date": end_date,
                "notes": notes,
            }
        ],
        acknowledge_warnings=acknowledge_warnings,
        override_reason=override_reason,
    )
    return assignment, results


@atomic_with_retry
def assignment_update(
    *, assignment: Assignment, actor, acknowledge_warnings: bool = False, override_reason: str = "", **fields
) -> tuple[Assignment, list]:
    """Edit a proposal (employee, position, dates, hours, notes); later changes go through transitions."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInputError({name: ["Not editable; use the transitions endpoint."] for name in unknown})
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
        raise PermissionDeniedError(
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
        "effective_date": request.effective_date or subject_today(ASSIGNMENT_TRANSITIONS, assignment),
        "actor": request.actor,
        "reason": request.reason,
    }


def _lock_assignment_employee(pk) -> None:
    _lock_assignments_employees([pk])


def _lock_assignments_employees(pks: list) -> None:
    """``_lock_assignment_employee`` for a batch: every assignment's employee in one query, in employee pk order."""
    employee_ids = Assignment.objects.filter(pk__in_array=pks).values("employee_id")
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
    org_unit_of=lambda assignment: assignment.employee.org_unit_id,
    # What the rules (``Facts``: the employee, the position and its unit), ``_actor_may`` (the position's unit) and
    # the hooks read; not the creator or the employee's unit (ADR 0041: three fewer objects built per assignment).
    batch_related=("employee", "position__org_unit"),
)


def assignment_transition(*, assignment_id: int, **options) -> TransitionOutcome:
    """Perform (or dry-run) one assignment transition; ``options`` are TransitionRequest's fields (name, actor, ...)."""
    return transition_perform(kind=ASSIGNMENT_TRANSITIONS, pk=assignment_id, request=TransitionRequest(**options))


# What the termination cascade does to each open assignment: by its state, the transition that closes it.
_CLOSING = {
    AssignmentState.ACTIVE.value: AssignmentTransition.COMPLETE.value,
    AssignmentState.PROPOSED.value: AssignmentTransition.CANCEL.value,
    AssignmentState.APPROVED.value: AssignmentTransition.CANCEL.value,
}


def _closing_request(name: str, request: TransitionRequest, effective) -> TransitionRequest:
    return TransitionRequest(
        name=name,
        actor=request.actor,
        reason=f"Employee terminated: {request.reason}".strip().rstrip(":"),
        effective_date=effective,
        acknowledge_warnings=True,
        override_reason=request.override_reason,
    )


def assignments_close_on_termination(employee: Employee, request: TransitionRequest, log_entry) -> list:
    """Cascade of ``employee.terminate``: complete active assignments on the effective date and cancel
    proposed/approved ones — same transaction, one log row each, sharing the request id."""
    effective = request.effective_date or employee_today(employee)
    closing = _CLOSING
    rows = []
    open_ones = Assignment.objects.filter(employee_id=employee.pk, state__in=list(closing)).order_by("id")
    for assignment_id, state in open_ones.values_list("id", "state"):
        outcome = transition_perform(
            kind=ASSIGNMENT_TRANSITIONS, pk=assignment_id, request=_closing_request(closing[state], request, effective)
        )
        rows.append(outcome.log_entry)
    return rows


def assignments_close_on_termination_many(items) -> list:
    """``assignments_close_on_termination`` for a batch of terminations (``transition_perform_many``'s twin): the
    open assignments of every employee of the batch in one query, closed by one ``transition_perform_many`` per
    closing transition and effective date — the same checks, log rows and ledger postings per assignment as the
    per-employee cascade (each assignment's outcome depends only on itself and its own employee, all locked here).
    Returns, per item, the log rows of its employee's assignments in id order, as the per-employee hook does."""
    effective = {}
    for employee, request, _ in items:
        effective[employee.pk] = request.effective_date or employee_today(employee)
    _, request, _ = items[0]  # one batch: one transition, actor and reason (each object's own date above)
    open_ones = (
        Assignment.objects.filter(employee_id__in_array=list(effective), state__in=list(_CLOSING))
        .order_by("id")
        .values_list("id", "employee_id", "state")
    )
    groups: dict[tuple, list] = defaultdict(list)
    owner = {}
    for assignment_id, employee_id, state in open_ones:
        groups[(_CLOSING[state], effective[employee_id])].append(assignment_id)
        owner[assignment_id] = employee_id
    logs: dict = {}
    for (name, day), pks in sorted(groups.items(), key=lambda group: group[1][0]):  # by first id: as one by one
        for outcome in transition_perform_many(
            kind=ASSIGNMENT_TRANSITIONS, pks=pks, request=_closing_request(name, request, day)
        ):
            logs[outcome.instance.pk] = outcome.log_entry
    by_employee: dict = defaultdict(list)
    for assignment_id in sorted(logs):
        by_employee[owner[assignment_id]].append(logs[assignment_id])
    return [by_employee.get(employee.pk, []) for employee, _, _ in items]
