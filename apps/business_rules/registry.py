"""Rule types: code in one registry. Each is a pure evaluator of (params, facts) → Verdict, with a params schema."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.api.choices import EmployeeState
from apps.assignments.choices import COMMITTED_STATES, OPEN_STATES
from apps.business_rules.facts import Facts, peak


@dataclass
class Verdict:
    passed: bool
    message: str
    observed: Any = None
    threshold: Any = None
    remediation: str = ""
    related: list = field(default_factory=list)


@dataclass(frozen=True)
class RuleType:
    identifier: str
    description: str
    params_schema: dict
    evaluate: Callable[[dict, Facts], Verdict]
    # Checks a JSON schema cannot state (e.g. min ≤ max), run on schema-valid params: {"params.<path>": [msgs]}.
    check: Callable[[dict], dict[str, list[str]]] | None = None

    def as_dict(self) -> dict:
        return {"identifier": self.identifier, "description": self.description, "params_schema": self.params_schema}


REGISTRY: dict[str, RuleType] = {}


def register(identifier: str, description: str, params_schema: dict, *, check=None):
    """Register an evaluator under ``identifier`` with the JSON schema its params must satisfy."""
    schema = {"type": "object", "additionalProperties": False, **params_schema}

    def decorator(func: Callable[[dict, Facts], Verdict]):
        REGISTRY[identifier] = RuleType(identifier, description, schema, func, check)
        return func

    return decorator


def _num(value) -> float:
    return float(value)


def _not_applicable(what: str) -> Verdict:
    return Verdict(True, f"Not applicable: {what}.")


_STATE_LIST = {
    "type": "array",
    "items": {"type": "string", "enum": list(EmployeeState.values)},
    "minItems": 1,
    "maxItems": len(EmployeeState.values),
    "uniqueItems": True,
}


@register(
    "employee_state",
    "The employee must be in one of the given states (e.g. only active employees may be assigned).",
    {"properties": {"states": _STATE_LIST}, "required": ["states"]},
)
def employee_state(params: dict, facts: Facts) -> Verdict:
    if facts.employee is None:
        return _not_applicable("no employee in this event")
    state = facts.employee.state
    allowed = params["states"]
    if state in allowed:
        return Verdict(True, f"Employee is {state}.", state, allowed)
    return Verdict(
        False,
        f"Employee is '{state}', but this needs one of: {', '.join(allowed)}.",
        state,
        allowed,
        f"Move the employee to {' or '.join(allowed)} first, or choose another employee.",
        [{"type": "employee", "id": facts.employee.pk}],
    )


@register(
    "max_weekly_hours",
    "Weekly hours over all of the employee's overlapping approved/active assignments (including this one) stay "
    "within a maximum: absolute hours, a percentage of the contract, or both (the lower wins).",
    {
        "properties": {
            "max_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 168},
            "max_percent_of_contract": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        },
        "anyOf": [{"required": ["max_hours"]}, {"required": ["max_percent_of_contract"]}],
    },
)
def max_weekly_hours(params: dict, facts: Facts) -> Verdict:
    if facts.employee is None:
        return _not_applicable("no employee in this event")
    limits = []
    if "max_hours" in params:
        limits.append(Decimal(str(params["max_hours"])))
    if "max_percent_of_contract" in params:
        pct = Decimal(str(params["max_percent_of_contract"]))
        limits.append((facts.employee.contracted_weekly_hours * pct / 100).quantize(Decimal("0.01")))
    limit = min(limits)
    intervals = facts.intervals(COMMITTED_STATES)
    candidate = facts.candidate_interval()
    if candidate is not None:
        intervals.append(candidate)
    start, end = facts.period
    load, day, alive = peak(intervals, start, end, weight="hours")
    related = [i.ref for i in alive if i.ref.get("id") is not None]
    if load <= limit:
        return Verdict(True, f"Peak load {load} h/week is within {limit} h.", _num(load), _num(limit), "", related)
    return Verdict(
        False,
        f"Peak load would be {load} h/week on {day.isoformat()}, over the maximum of {limit} h.",
        _num(load),
        _num(limit),
        f"Reduce the weekly hours by at least {load - limit} h, shorten the period, or end another assignment.",
        related,
    )


@register(
    "required_tags",
    "The employee holds every tag the position requires, at the required level, valid over the whole period.",
    {
        "properties": {
            "include_optional": {"type": "boolean"},
            "extra_tags": {
                "type": "array",
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "properties": {
                        "tag": {"type": "string", "minLength": 1, "maxLength": 64},
                        "min_level": {"type": "integer", "minimum": 1, "maximum": 10},
                    },
                    "required": ["tag"],
                    "additionalProperties": False,
                },
            },
        }
    },
)
def required_tags(params: dict, facts: Facts) -> Verdict:
    if facts.employee is None or facts.position is None:
        return _not_applicable("needs an employee and a position")
    needs = {pt.tag.code: pt.min_level for pt in facts.position_tags if pt.required or params.get("include_optional")}
    for extra in params.get("extra_tags", []):
        needs[extra["tag"]] = max(needs.get(extra["tag"], 1), extra.get("min_level", 1))
    start, end = facts.period
    missing = []
    for code, min_level in sorted(needs.items()):
        held = [
            et
            for et in facts.employee_tags
            if et.tag.code == code
            and et.level >= min_level
            and et.valid_from <= start
            and (et.valid_until is None or (end is not None and et.valid_until >= end))
        ]
        if not held:
            missing.append({"type": "tag", "code": code, "min_level": min_level})
    observed = sorted({f"{et.tag.code}@{et.level}" for et in facts.employee_tags})
    threshold = [f"{code}@{level}" for code, level in sorted(needs.items())]
    if not missing:
        return Verdict(True, "Holds every required tag over the period.", observed, threshold)
    names = ", ".join(f"{m['code']} (level ≥ {m['min_level']})" for m in missing)
    return Verdict(
        False,
        f"Missing or not valid over the whole period: {names}.",
        observed,
        threshold,
        "Record the missing tags (or extend their validity) for the employee, or choose another employee.",
        missing,
    )


@register(
    "no_overlap_same_position",
    "An employee has at most one open (proposed, approved or active) assignment to a position at a time.",
    {"properties": {}},
)
def no_overlap_same_position(params: dict, facts: Facts) -> Verdict:
    if facts.position is None or facts.start_date is None:
        return _not_applicable("needs an assignment period and position")
    clashes = [
        a
        for a in facts.other_open_assignments
        if a.position_id == facts.position.pk
        and (a.end_date is None or a.end_date >= facts.start_date)
        and (facts.end_date is None or a.start_date <= facts.end_date)
    ]
    if not clashes:
        return Verdict(True, "No overlapping assignment to this position.", 0, 0)
    return Verdict(
        False,
        f"Already assigned to {facts.position.code} over overlapping dates (assignment "
        f"{', '.join('#' + str(a.pk) for a in clashes)}).",
        len(clashes),
        0,
        "Change the dates so they do not overlap, or end or cancel the other assignment.",
        [{"type": "assignment", "id": a.pk} for a in clashes],
    )


@register(
    "max_concurrent_assignments",
    "At most N assignments of the employee run at the same time (approved/active by default, this one included).",
    {
        "properties": {
            "max": {"type": "integer", "minimum": 1, "maximum": 1000},
            "count_proposed": {"type": "boolean"},
        },
        "required": ["max"],
    },
)
def max_concurrent_assignments(params: dict, facts: Facts) -> Verdict:
    if facts.employee is None:
        return _not_applicable("no employee in this event")
    states = OPEN_STATES if params.get("count_proposed") else COMMITTED_STATES
    intervals = facts.intervals(states)
    candidate = facts.candidate_interval()
    if candidate is not None:
        intervals.append(candidate)
    start, end = facts.period
    count, day, alive = peak(intervals, start, end, weight="count")
    limit = params["max"]
    related = [i.ref for i in alive if i.ref.get("id") is not None]
    if count <= limit:
        return Verdict(True, f"At most {int(count)} concurrent assignment(s).", int(count), limit, "", related)
    return Verdict(
        False,
        f"{int(count)} assignments would run at once on {day.isoformat()}, over the maximum of {limit}.",
        int(count),
        limit,
        "End or cancel an overlapping assignment, or change the dates.",
        related,
    )


def _min_not_above_max(params: dict) -> dict[str, list[str]]:
    if "min_hours" in params and "max_hours" in params and params["min_hours"] > params["max_hours"]:
        return {"params.max_hours": ["Must be at least min_hours."]}
    return {}


@register(
    "assignment_hours_bounds",
    "An assignment's weekly hours lie within [min_hours, max_hours].",
    {
        "properties": {
            "min_hours": {"type": "number", "minimum": 0, "maximum": 168},
            "max_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 168},
        },
        "anyOf": [{"required": ["min_hours"]}, {"required": ["max_hours"]}],
    },
    check=_min_not_above_max,
)
def assignment_hours_bounds(params: dict, facts: Facts) -> Verdict:
    if facts.weekly_hours is None:
        return _not_applicable("no assignment hours in this event")
    hours = Decimal(facts.weekly_hours)
    low = Decimal(str(params["min_hours"])) if "min_hours" in params else None
    high = Decimal(str(params["max_hours"])) if "max_hours" in params else None
    threshold = {
        "min_hours": _num(low) if low is not None else None,
        "max_hours": _num(high) if high is not None else None,
    }
    if (low is None or hours >= low) and (high is None or hours <= high):
        return Verdict(True, f"{hours} h/week is within bounds.", _num(hours), threshold)
    return Verdict(
        False,
        f"{hours} h/week is outside the allowed range {low if low is not None else 0}–"
        f"{high if high is not None else 'unbounded'}.",
        _num(hours),
        threshold,
        "Set the weekly hours within the allowed range.",
    )


@register(
    "before_termination",
    "No assignment runs past the employee's termination date (open-ended ones included).",
    {"properties": {}},
)
def before_termination(params: dict, facts: Facts) -> Verdict:
    employee = facts.employee
    if employee is None or facts.start_date is None:
        return _not_applicable("needs an employee and an assignment period")
    ends = employee.termination_date
    if ends is None:
        return Verdict(True, "The employee has no termination date.", None, None)
    end = facts.end_date
    observed = end.isoformat() if end else "open-ended"
    if end is not None and end <= ends and facts.start_date <= ends:
        return Verdict(True, f"Ends by the termination date {ends.isoformat()}.", observed, ends.isoformat())
    return Verdict(
        False,
        f"The assignment ({observed}) runs past the employee's termination date {ends.isoformat()}.",
        observed,
        ends.isoformat(),
        f"Set an end date on or before {ends.isoformat()}.",
        [{"type": "employee", "id": employee.pk}],
    )


@register(
    "reason_required",
    "The transition must give a reason (at least min_length characters).",
    {"properties": {"min_length": {"type": "integer", "minimum": 1, "maximum": 2000}}},
)
def reason_required(params: dict, facts: Facts) -> Verdict:
    need = params.get("min_length", 1)
    have = len((facts.reason or "").strip())
    if have >= need:
        return Verdict(True, "A reason is given.", have, need)
    return Verdict(False, f"A reason of at least {need} character(s) is required.", have, need, "Say why in 'reason'.")


@register(
    "single_clock_in_per_day",
    "An employee clocks in at most once per day.",
    {"properties": {}},
)
def single_clock_in_per_day(params: dict, facts: Facts) -> Verdict:
    count = facts.clock_ins
    if count is None:
        return _not_applicable("not a clock event")
    if count == 0:
        return Verdict(True, "First clock-in today.", 0, 0)
    return Verdict(
        False,
        f"Already clocked in {count} time(s) today.",
        count,
        0,
        "Clock out of the open shift, or ask HR to correct the earlier clock-in.",
        [{"type": "employee", "id": getattr(facts.employee, "pk", None)}],
    )
