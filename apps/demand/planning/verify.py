"""The engine's verdict on a whole plan: every proposal judged as if the plan's other proposals were already made.

For each proposal, the ``assignment.create`` and ``assignment.approve`` rules run through the engine
(``apps.business_rules.engine.evaluate_rule``) on facts holding the employee's open assignments *plus* their
other proposals of the plan (approved, the strictest reading: approving proposals one by one ends there). A
failing block rule means the plan must not contain that proposal; failing warn rules are reported with it.

Loads in a fixed number of queries (rules, employees, their open assignments, their tags, the positions' tags).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from apps.api.models import Employee, Position
from apps.api.timezones import todays_by_unit
from apps.assignments.choices import OPEN_STATES, AssignmentState
from apps.assignments.models import Assignment
from apps.business_rules.choices import Outcome, Severity
from apps.business_rules.engine import active_rules, applicable_rules, evaluate_rule
from apps.business_rules.facts import Facts
from apps.tags.models import EmployeeTag, PositionTag

EVENTS = ("assignment.create", "assignment.approve")


@dataclass
class Verdict:
    """One proposal's rule results: the block failures (must be empty), the warnings, and every result (each
    the engine's result with the ``event`` it was judged for; what a preview shows)."""

    blocks: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    evaluated: int = 0
    results: list[dict] = field(default_factory=list)


def plan_verify(
    *,
    proposals: list[dict],
    start: datetime.date,
    end: datetime.date,
    reason: str,
    today: datetime.date | None = None,
    events: tuple[str, ...] = EVENTS,
) -> list[Verdict]:
    """Judge ``proposals`` ({employee, position, weekly_hours}) over [start, end]; a ``Verdict`` each, in order.

    ``today`` is the approval's effective date (None: today where each employee works, their unit's zone);
    ``events`` narrows the judgement (only ``assignment.create`` when the proposals are to stay proposed)."""
    if not proposals:
        return []
    employee_ids = sorted({p["employee"] for p in proposals})
    position_ids = sorted({p["position"] for p in proposals})
    employees = {e.pk: e for e in Employee.objects.select_related("org_unit").filter(pk__in=employee_ids)}
    today_in = (
        (lambda _unit: today) if today is not None else todays_by_unit({e.org_unit_id for e in employees.values()})
    )
    positions = {p.pk: p for p in Position.objects.select_related("org_unit").filter(pk__in=position_ids)}
    rules = list(active_rules())
    opened: dict[int, list] = defaultdict(list)
    for a in Assignment.objects.filter(employee_id__in=employee_ids, state__in=OPEN_STATES).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start), start_date__lte=end
    ):
        opened[a.employee_id].append(a)
    tags: dict[int, list] = defaultdict(list)
    for t in EmployeeTag.objects.filter(employee_id__in=employee_ids).select_related("tag"):
        tags[t.employee_id].append(t)
    position_tags: dict[int, list] = defaultdict(list)
    for t in PositionTag.objects.filter(position_id__in=position_ids).select_related("tag"):
        position_tags[t.position_id].append(t)

    planned: dict[int, list[tuple[int, Assignment]]] = defaultdict(list)
    for index, p in enumerate(proposals):
        planned[p["employee"]].append(
            (
                index,
                Assignment(
                    employee_id=p["employee"],
                    position_id=p["position"],
                    start_date=start,
                    end_date=end,
                    weekly_hours=Decimal(str(p["weekly_hours"])),
                    state=AssignmentState.APPROVED,
                ),
            )
        )
    verdicts = []
    for index, p in enumerate(proposals):
        employee, position = employees.get(p["employee"]), positions.get(p["position"])
        verdict = Verdict()
        if employee is None or position is None:
            verdict.blocks.append({"rule": "exists", "message": "The employee or the position no longer exists."})
            verdicts.append(verdict)
            continue
        others = [a for i, a in planned[employee.pk] if i != index]
        for event in events:
            facts = Facts.preloaded(
                event,
                other_open_assignments=opened.get(employee.pk, []) + others,
                employee_tags=tags.get(employee.pk, []),
                position_tags=position_tags.get(position.pk, []),
                employee=employee,
                position=position,
                start_date=start,
                end_date=end,
                weekly_hours=Decimal(str(p["weekly_hours"])),
                effective_date=start if event == "assignment.create" else today_in(employee.org_unit_id),
                reason=reason,
            )
            for rule in applicable_rules(event, facts, rules):
                result = evaluate_rule(rule, facts)
                verdict.evaluated += 1
                verdict.results.append({**result, "event": event})
                if result["outcome"] != Outcome.FAIL:
                    continue
                entry = {"rule": result["rule"], "event": event, "message": result["message"]}
                (verdict.blocks if rule.severity == Severity.BLOCK else verdict.warnings).append(entry)
        verdicts.append(verdict)
    return verdicts
