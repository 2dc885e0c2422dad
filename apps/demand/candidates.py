"""Candidate matching: who could fill a position over [start, end] at ``hours`` a week, ranked, with reasons.

Built for 10,000 employees: a fixed number of queries whatever the pool size (position tags, rules, the pool,
their relevant tags, their open assignments overlapping the period, and one SQL aggregate of supply hours),
then pure Python. The ``assignment.approve`` rules are evaluated as a what-if through the engine's own
evaluators, on ``Facts`` whose lazily-loaded relations are filled from the batch loads, so the rules read
no row themselves. Ranking and reasons are described in docs/coverage.md.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet

from apps.api.choices import EmployeeState
from apps.api.models import Employee, Position
from apps.api.timezones import org_unit_zone
from apps.assignments.choices import OPEN_STATES
from apps.assignments.models import Assignment
from apps.business_rules.choices import Outcome, Severity
from apps.business_rules.engine import active_rules, applicable_rules, evaluate_rule
from apps.business_rules.facts import Facts
from apps.demand.candidate_sql import candidate_shortlist
from apps.demand.periods import CENT, hours_text
from apps.demand.periods import hours as to_hours
from apps.demand.supply import supply_by_employee
from apps.tags.models import EmployeeTag, PositionTag
from backend import timezones

EVENT = "assignment.approve"
# Rule types about the approval request rather than the person (a reason typed at approval time, clock
# events): a what-if cannot satisfy them, so they would fail every candidate alike and are not evaluated.
REQUEST_ONLY_RULE_TYPES = frozenset({"reason_required", "single_clock_in_per_day"})

# Weights of the score (0–100): tags held, free hours against hours needed, state, rules.
WEIGHTS = {"tags": 40, "hours": 30, "state": 20, "rules": 10}
STATE_SCORE = {
    EmployeeState.ACTIVE: Decimal(1),
    EmployeeState.PENDING: Decimal("0.5"),
    EmployeeState.ON_LEAVE: Decimal("0.25"),
    EmployeeState.SUSPENDED: Decimal(0),
}
STATE_NOTE = {
    EmployeeState.PENDING: "employee is pending (not started yet): only active employees fit",
    EmployeeState.ON_LEAVE: "employee is on leave: only active employees fit",
    EmployeeState.SUSPENDED: "employee is suspended: only active employees fit",
}


# What the ranking and the rule types read of an employee and of an assignment: loading only these keeps 10,000
# model instances cheap. A rule type that reads another field would cost a query per employee, which the
# query-count test (every shipped rule type that reads the employee) catches.
EMPLOYEE_FIELDS = (
    "id",
    "employee_number",
    "first_name",
    "last_name",
    "state",
    "org_unit_id",
    "contracted_weekly_hours",
    "hire_date",
    "termination_date",
)
ASSIGNMENT_FIELDS = ("id", "employee_id", "position_id", "start_date", "end_date", "weekly_hours", "state")


def fmt_hours(value: Decimal) -> str:
    value = value.quantize(CENT)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


@dataclass
class _Loaded:
    """Everything the ranking reads, loaded in a fixed number of queries."""

    position_tags: list[PositionTag]
    rules: list
    employees: list[Employee]
    tags_by_employee: dict[int, list[EmployeeTag]]
    open_by_employee: dict[int, list[Assignment]]
    supply: dict[int, tuple]


def what_if_rules(events) -> list:
    """The active rules for any of ``events`` that a what-if can evaluate (not the request-only types): one query.
    Shared with the auto-plan (apps/demand/planning/problem.py)."""
    wanted = set(events)
    return [r for r in active_rules() if wanted & set(r.events or []) and r.rule_type not in REQUEST_ONLY_RULE_TYPES]


def open_assignments_by_employee(*, employees: QuerySet[Employee], start, end) -> dict[int, list[Assignment]]:
    """employee id → their open assignments overlapping [start, end] (the fields the rules read), by id: one query."""
    found: dict[int, list[Assignment]] = defaultdict(list)
    overlapping = Q(end_date__isnull=True) | Q(end_date__gte=start)
    for assignment in (
        Assignment.objects.filter(
            overlapping, employee__in=employees.order_by().values("pk"), state__in=OPEN_STATES, start_date__lte=end
        )
        .only(*ASSIGNMENT_FIELDS)
        .order_by("id")
    ):
        found[assignment.employee_id].append(assignment)
    return found


def tags_by_employee(*, employees: QuerySet[Employee], wanted: Q) -> dict[int, list[EmployeeTag]]:
    """employee id → their tags matching ``wanted`` (catalogue entry joined): one query."""
    found: dict[int, list[EmployeeTag]] = defaultdict(list)
    for tag in EmployeeTag.objects.filter(wanted, employee__in=employees.order_by().values("pk")).select_related("tag"):
        found[tag.employee_id].append(tag)
    return found


def _fixed(*, position: Position, start, end, hours: Decimal, today) -> tuple[list[PositionTag], list, Facts]:
    """The position's tags, the approval rules that apply, and the what-if without an employee: two queries."""
    position_tags = list(PositionTag.objects.filter(position=position).select_related("tag").order_by("tag__code"))
    rules = what_if_rules([EVENT])
    # Scope and validity depend only on the position and the day, so one template decides them for everyone.
    template = Facts(
        event=EVENT, position=position, start_date=start, end_date=end, weekly_hours=hours, effective_date=today
    )
    return position_tags, applicable_rules(EVENT, template, rules), template


def _load_people(
    *, position_tags: list[PositionTag], rules: list, employees: QuerySet[Employee], start, end, supply=None
) -> _Loaded:
    """The employees, their relevant tags and open assignments overlapping the period, and (unless given) their
    supply: four queries (three with ``supply``)."""
    extra_codes = {
        extra["tag"]
        for rule in rules
        if rule.rule_type == "required_tags" and isinstance(rule.params, dict)
        for extra in rule.params.get("extra_tags") or []
        if isinstance(extra, dict) and "tag" in extra
    }
    held: dict[int, list[EmployeeTag]] = {}
    if position_tags or extra_codes:
        wanted = Q(tag_id__in=[pt.tag_id for pt in position_tags]) | Q(tag__code__in=sorted(extra_codes))
        held = tags_by_employee(employees=employees, wanted=wanted)
    return _Loaded(
        position_tags=position_tags,
        rules=rules,
        employees=list(employees.only(*EMPLOYEE_FIELDS).order_by("pk")),
        tags_by_employee=held,
        open_by_employee=open_assignments_by_employee(employees=employees, start=start, end=end),
        supply=supply if supply is not None else supply_by_employee(employees=employees, start=start, end=end),
    )


def _load(*, position: Position, start, end, hours: Decimal, employees: QuerySet[Employee], today) -> _Loaded:
    """Everything ``_rank_one`` reads for ``employees``, in six queries whatever their number."""
    position_tags, rules, _template = _fixed(position=position, start=start, end=end, hours=hours, today=today)
    return _load_people(position_tags=position_tags, rules=rules, employees=employees, start=start, end=end)


def _tag_check(required: list[PositionTag], held: list[EmployeeTag], start, end) -> tuple[int, list[str]]:
    """How many required tags are held at level over the whole period, and a reason per tag."""
    ok, reasons = 0, []
    for need in required:
        code, level = need.tag.code, need.min_level
        mine = [t for t in held if t.tag_id == need.tag_id]
        at_level = [t for t in mine if t.level >= level]
        covering = [t for t in at_level if t.valid_from <= start and (t.valid_until is None or t.valid_until >= end)]
        if covering:
            ok += 1
            reasons.append(f"holds tag {code} at level {max(t.level for t in covering)} (≥ {level})")
        elif not mine:
            reasons.append(f"missing tag {code} (level ≥ {level})")
        elif not at_level:
            reasons.append(f"tag {code} at level {max(t.level for t in mine)}, needs level ≥ {level}")
        else:
            spans = ", ".join(
                f"{t.valid_from.isoformat()}–{t.valid_until.isoformat() if t.valid_until else 'open'}" for t in at_level
            )
            reasons.append(f"tag {code} (level ≥ {level}) is not valid over the whole period (valid {spans})")
    return ok, reasons


def _rank_one(employee: Employee, position: Position, start, end, hours: Decimal, data: _Loaded, today) -> dict:
    period_days = (end - start).days + 1
    from_ledger, contracted, leave, assigned, _worked = data.supply.get(employee.pk, (False, 0, 0, 0, 0))
    free_total = Decimal(str(contracted)) - Decimal(str(leave)) - Decimal(str(assigned))
    free = to_hours(free_total * 7 / period_days)
    reasons: list[str] = []

    state = employee.state
    state_ok = state == EmployeeState.ACTIVE
    reasons.append("employee is active" if state_ok else STATE_NOTE.get(state, f"employee is {state}"))

    required = [pt for pt in data.position_tags if pt.required]
    held_count, tag_reasons = _tag_check(required, data.tags_by_employee.get(employee.pk, []), start, end)
    tags_ok = held_count == len(required)
    reasons.extend(tag_reasons)

    hours_ok = free >= hours
    if hours_ok:
        reasons.append(f"{fmt_hours(free)} h free of {fmt_hours(hours)} needed")
    else:
        reasons.append(f"only {fmt_hours(max(free, Decimal(0)))} h free of {fmt_hours(hours)} needed")

    open_assignments = data.open_by_employee.get(employee.pk, [])
    clashes = [a for a in open_assignments if a.position_id == position.pk]
    for clash in clashes:
        reasons.append(f"already assigned to {position.code} over overlapping dates (#{clash.pk}, {clash.state})")

    # The relations come from the batch loads (the assignments overlapping the period, all the rules look at),
    # so no rule costs a query per employee.
    facts = Facts.preloaded(
        EVENT,
        other_open_assignments=open_assignments,
        employee_tags=data.tags_by_employee.get(employee.pk, []),
        position_tags=data.position_tags,
        employee=employee,
        position=position,
        start_date=start,
        end_date=end,
        weekly_hours=hours,
        effective_date=today,
    )
    results = [evaluate_rule(rule, facts) for rule in data.rules]
    failures = [r for r in results if r["outcome"] == Outcome.FAIL]
    blocks = [r for r in failures if r["severity"] == Severity.BLOCK]
    warns = [r for r in failures if r["severity"] != Severity.BLOCK]
    reasons.extend(f"rule {r['rule']}: {r['message']}" for r in blocks)
    reasons.extend(f"warning from rule {r['rule']}: {r['message']}" for r in warns)
    if results and not failures:
        reasons.append(f"all {len(results)} approval rule(s) pass")

    fits = state_ok and tags_ok and hours_ok and not clashes and not blocks
    tag_part = Decimal(held_count) / len(required) if required else Decimal(1)
    hours_part = min(Decimal(1), max(Decimal(0), free / hours)) if hours else Decimal(1)
    rules_part = Decimal(0) if blocks or clashes else Decimal("0.5") if warns else Decimal(1)
    score = (
        WEIGHTS["tags"] * tag_part
        + WEIGHTS["hours"] * hours_part
        + WEIGHTS["state"] * STATE_SCORE.get(state, Decimal(0))
        + WEIGHTS["rules"] * rules_part
    )
    return {
        "employee": employee.pk,
        "employee_number": employee.employee_number,
        "name": employee.full_name,
        "state": state,
        "org_unit": employee.org_unit_id,
        "score": float(score.quantize(Decimal("0.1"))),
        "fits": fits,
        "free_hours": hours_text(free),
        "free_hours_source": "ledger" if from_ledger else "contract",
        "reasons": reasons,
        "rule_failures": [{"rule": r["rule"], "severity": r["severity"], "message": r["message"]} for r in failures],
    }


def _sort_key(candidate: dict) -> tuple:
    """The ranking: fitting first, then score, free hours (more first), employee number, id."""
    return (
        not candidate["fits"],
        -candidate["score"],
        -Decimal(candidate["free_hours"]),
        candidate["employee_number"],
        candidate["employee"],
    )


def candidate_rank(
    *,
    position: Position,
    start: datetime.date,
    end: datetime.date,
    hours: Decimal,
    employees: QuerySet[Employee],
    limit: int,
    today: datetime.date | None = None,
    shortlist: bool | None = None,
) -> dict:
    """Rank ``employees`` (the caller's pool: in scope, not terminated) for ``position`` over [start, end].

    Fitting candidates come first, then by score, free hours and employee number; ``limit`` cuts the list.
    On PostgreSQL (``shortlist`` None or True) one query shortlists who can reach the top ``limit`` and Python
    ranks only them (apps/demand/candidate_sql.py); ``shortlist=False``, and SQLite, rank everyone in Python.
    Both give the same body.
    """
    today = today or timezones.today(org_unit_zone(position.org_unit_id))
    position_tags, rules, template = _fixed(position=position, start=start, end=end, hours=hours, today=today)
    if shortlist is None:
        shortlist = connection.vendor == "postgresql"
    if shortlist:
        short = candidate_shortlist(
            position=position,
            position_tags=position_tags,
            rules=rules,
            start=start,
            end=end,
            hours=hours,
            employees=employees,
            limit=limit,
            template=template,
        )
        picked = Employee.objects.filter(pk__in=sorted(short.supply))
        data = _load_people(
            position_tags=position_tags, rules=rules, employees=picked, start=start, end=end, supply=short.supply
        )
        ranked = [_rank_one(e, position, start, end, hours, data, today) for e in data.employees]
        considered, fitting_exact = short.considered, short.fitting_exact
        fitting = short.fitting_decided + sum(1 for c in ranked if c["fits"] and c["employee"] in short.undecided)
    else:
        data = _load_people(position_tags=position_tags, rules=rules, employees=employees, start=start, end=end)
        ranked = [_rank_one(e, position, start, end, hours, data, today) for e in data.employees]
        considered, fitting, fitting_exact = len(ranked), sum(1 for c in ranked if c["fits"]), True
    ranked.sort(key=_sort_key)
    return {
        "position": {
            "id": position.pk,
            "code": position.code,
            "title": position.title,
            "org_unit": position.org_unit_id,
        },
        "from": start.isoformat(),
        "to": end.isoformat(),
        "hours": hours_text(hours),
        "considered": considered,
        "fitting": fitting,
        "fitting_exact": fitting_exact,
        "rules_evaluated": [rule.code for rule in rules],
        "results": ranked[:limit],
    }
