"""Preview and confirm of applying a plan: what the admin's "Apply" page shows (``render_preview_confirm``), then
performs through ``plan_apply`` — the service behind ``POST /api/coverage/plans/{id}/apply/``.

``plan_apply_preview`` says, per chosen proposal, what it would become (a ``proposed`` or ``approved`` assignment),
every rule result the engine gives it on today's data (``plan_verify``: each proposal judged with the plan's other
proposals counted in, the approval on the effective date), what changed since the plan was solved (the API's
staleness check), and — when everything may go ahead — what the real write would do, run inside a savepoint that
is always rolled back (the assignments and the approvals' log rows and ledger postings, described). A plan is
applied all or nothing, so Confirm is offered only when every chosen proposal goes ahead.
``plan_apply_confirm`` previews again and applies only when the fingerprint is the one the user saw.
Interface-free (no admin, no HTTP), like ``apps.fsm.preview``.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction

from apps.api.models import Employee, Position
from apps.assignments.choices import AssignmentState
from apps.assignments.models import Assignment
from apps.demand.models import Plan
from apps.demand.planning.services import (
    ApplyWrite,
    plan_apply,
    plan_apply_chosen,
    plan_apply_reason,
    plan_apply_write,
    plan_stale_changes,
)
from apps.demand.planning.verify import EVENTS, plan_verify
from apps.fsm.describe import describe, refusal_text
from apps.fsm.preview import REFUSALS, ObjectPreview, rule_lines
from apps.users.choices import Role
from backend import timezones

CREATE_ONLY = ("assignment.create",)


@dataclass(frozen=True)
class ApplyChoice:
    """What the person chose on the page: ``plan_apply``'s options."""

    proposals: list[int]
    approve: bool = False
    force_revalidate: bool = False
    acknowledge_warnings: bool = False
    reason: str = ""
    override_reason: str = ""
    effective_date: datetime.date | None = None


@dataclass
class ProposalPreview(ObjectPreview):
    """One proposal as the page shows it (``instance``: the assignment it would become, unsaved)."""

    index: int = 0

    @property
    def key(self) -> int:
        return self.index


@dataclass
class PlanPreview:
    plan: Plan
    choice: ApplyChoice
    rows: list[ProposalPreview] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # what changed since solving, in words
    refusal: str = ""  # the plan as a whole cannot be applied (its status, an unknown proposal, ...)
    batch_refusal: str = ""  # the rolled-back write refused (rules judged together, the database)

    @property
    def blocked_by_staleness(self) -> bool:
        return bool(self.stale) and not self.choice.force_revalidate

    @property
    def can_confirm(self) -> bool:
        return (
            bool(self.rows)
            and all(row.allowed for row in self.rows)
            and not (self.refusal or self.batch_refusal or self.blocked_by_staleness)
        )

    @property
    def fingerprint(self) -> str:
        """Identifies what the person saw: the proposals, their rule outcomes, the staleness, the options."""
        choice = self.choice
        seen = [
            [r.index, getattr(r.instance, "employee_id", None), getattr(r.instance, "position_id", None), r.label]
            + [r.target, r.allowed, r.refusal, [(line.rule, line.name, line.status) for line in r.rules]]
            for r in self.rows
        ]
        options = [choice.approve, choice.force_revalidate, choice.acknowledge_warnings, bool(choice.override_reason)]
        page = [self.plan.pk, self.plan.status, options, str(choice.effective_date), self.stale, seen]
        page += [self.refusal, self.batch_refusal]
        return hashlib.sha256(json.dumps(page, default=str).encode()).hexdigest()[:32]


class _Rollback(Exception):
    pass


def _stale_words(changes: list[dict]) -> list[str]:
    """``snapshot_changes`` entries in words: rules by code, people and positions by name (two queries)."""
    people = Employee.objects.in_bulk([c["employee"] for c in changes if c["kind"] == "employee"])
    places = Position.objects.in_bulk([c["position"] for c in changes if c["kind"] == "position"])
    words = []
    for change in changes:
        if change["kind"] == "rule":
            words.append(f"Rule {change['rule']} was {change['change']} since the plan was solved.")
        elif change["kind"] == "employee":
            who = people.get(change["employee"], f"employee {change['employee']} (deleted)")
            words.append(f"{who}: state, assignments, hours ledger or tags changed since the plan was solved.")
        else:
            where = places.get(change["position"], f"position {change['position']} (deleted)")
            words.append(f"{where}: its coverage gap changed since the plan was solved.")
    return words


def _rows(plan: Plan, chosen, actor, choice: ApplyChoice, reason: str) -> list[ProposalPreview]:
    events = EVENTS if choice.approve else CREATE_ONLY
    verdicts = plan_verify(
        proposals=[p for _i, p in chosen],
        start=plan.period_start,
        end=plan.period_end,
        today=choice.effective_date or timezones.today(),
        reason=reason,
        events=events,
    )
    employees = Employee.objects.select_related("org_unit").in_bulk({p["employee"] for _i, p in chosen})
    positions = Position.objects.select_related("org_unit").in_bulk({p["position"] for _i, p in chosen})
    target = AssignmentState.APPROVED if choice.approve else AssignmentState.PROPOSED
    rows = []
    for (index, p), verdict in zip(chosen, verdicts, strict=True):
        employee, position = employees.get(p["employee"]), positions.get(p["position"])
        assignment_kwargs = {
            "employee_id": p["employee"],
            "position_id": p["position"],
            "start_date": plan.period_start,
            "end_date": plan.period_end,
            "weekly_hours": p["weekly_hours"],
        }
        if employee is None or position is None:
            label = f"#{index}: {p.get('employee_number', '?')} on {p.get('position_code', '?')}"
            row = ProposalPreview(None, label, "new", target, False, "Its employee or position no longer exists.")
            row.index = index
            rows.append(row)
            continue
        lines = rule_lines(verdict.results, actor=actor, override_reason=choice.override_reason)
        if len(events) > 1:  # say which step each result is for: proposing, or approving
            for line, result in zip(lines, verdict.results, strict=True):
                step = "on approval" if result["event"] == "assignment.approve" else "on proposal"
                line.name = f"{line.name} ({step})" if line.name else step
        warned = any(line.status == "warn" for line in lines)
        allowed = not any(line.status == "block" for line in lines) and (choice.acknowledge_warnings or not warned)
        label = (
            f"#{index}: {employee} → {position}, {p['weekly_hours']} h/week, "
            f"{plan.period_start.isoformat()} – {plan.period_end.isoformat()}"
        )
        row = ProposalPreview(
            Assignment(employee=employee, position=position, **assignment_kwargs), label, "new", target, allowed
        )
        row.rules, row.index = lines, index
        rows.append(row)
    return rows


def _simulate(preview: PlanPreview, chosen, actor, reason: str) -> None:
    """The real write, rolled back: what it would create and log, per proposal (or why the batch is refused)."""
    choice = preview.choice
    options = ApplyWrite(
        choice.approve, choice.acknowledge_warnings, reason, choice.override_reason, choice.effective_date
    )
    try:
        with transaction.atomic():
            outcome = plan_apply_write(preview.plan, chosen, actor, options)
            for n, row in enumerate(preview.rows):
                assignment, _results = outcome["made"][n]
                row.cascades = [f"New assignment: {describe(assignment)}"]
                if outcome["outcomes"]:
                    done = outcome["outcomes"][n]
                    row.cascades += [f"Log: {describe(done.log_entry)}"] if done.log_entry is not None else []
                    row.cascades += [describe(cascaded) for cascaded in done.cascaded]
            raise _Rollback
    except _Rollback:
        pass
    except REFUSALS as exc:
        preview.batch_refusal = refusal_text(exc) + "".join(f" {note}" for note in getattr(exc, "__notes__", []))


def plan_apply_preview(*, plan_id: int, actor, choice: ApplyChoice) -> PlanPreview:
    """What applying ``choice`` to plan ``plan_id`` would do, proposal by proposal; writes nothing."""
    plan = Plan.objects.select_related("org_unit").get(pk=plan_id)
    preview = PlanPreview(plan, choice)
    if choice.override_reason and getattr(actor, "role", None) != Role.ADMIN:
        preview.refusal = "Only an admin may override a blocking rule."
        return preview
    try:
        plan, chosen = plan_apply_chosen(plan_id=plan_id, proposals=choice.proposals)
    except REFUSALS as exc:
        preview.refusal = refusal_text(exc)
        return preview
    reason = plan_apply_reason(plan, choice.reason)
    if not choice.force_revalidate:
        preview.stale = _stale_words(plan_stale_changes(plan, chosen))
    preview.rows = _rows(plan, chosen, actor, choice, reason)
    if preview.can_confirm:
        _simulate(preview, chosen, actor, reason)
    return preview


@dataclass
class PlanConfirmation:
    preview: PlanPreview
    applied: dict | None = None  # plan_apply's outcome; None: nothing was done
    changed: bool = False  # the preview is not the one the person confirmed


def plan_apply_confirm(*, plan_id: int, actor, choice: ApplyChoice, fingerprint: str) -> PlanConfirmation:
    """Apply what the preview identified by ``fingerprint`` showed, through ``plan_apply`` (all or nothing).

    The preview is computed again first; when it differs from the one the person saw, or cannot be confirmed,
    nothing is done and the new preview is returned (``changed``). Refusals of the write propagate (nothing
    written)."""
    preview = plan_apply_preview(plan_id=plan_id, actor=actor, choice=choice)
    if preview.fingerprint != fingerprint or not preview.can_confirm:
        return PlanConfirmation(preview, changed=True)
    applied = plan_apply(
        plan_id=plan_id,
        actor=actor,
        proposals=choice.proposals,
        approve=choice.approve,
        force_revalidate=choice.force_revalidate,
        acknowledge_warnings=choice.acknowledge_warnings,
        reason=choice.reason,
        override_reason=choice.override_reason,
        effective_date=choice.effective_date,
    )
    return PlanConfirmation(preview, applied)
