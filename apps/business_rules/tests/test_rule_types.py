"""Each of the nine rule types: pass, fail, the boundary, and the explanation a person can act on."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.business_rules.registry import REGISTRY
from apps.offer.models import ClockEvent

D = datetime.date
SPRING = D(2026, 3, 2)
SUMMER = D(2026, 6, 30)
pytestmark = pytest.mark.django_db

RESULT_KEYS = {
    "rule",
    "version",
    "rule_type",
    "outcome",
    "severity",
    "message",
    "observed",
    "threshold",
    "remediation",
    "related",
}
APPROVE = "assignment.approve"


def _one(results: dict) -> dict:
    assert len(results) == 1
    (result,) = results.values()
    assert set(result) == RESULT_KEYS
    return result


def _period(employee, position=None, *, hours=20, start=SPRING, end=SUMMER) -> dict:
    return {
        "employee": employee,
        "position": position or PositionFactory(),
        "start_date": start,
        "end_date": end,
        "weekly_hours": Decimal(str(hours)),
    }


def test_all_nine_types_are_registered_with_valid_schemas():
    from jsonschema import Draft202012Validator

    assert set(REGISTRY) >= {
        "employee_state",
        "max_weekly_hours",
        "required_tags",
        "no_overlap_same_position",
        "max_concurrent_assignments",
        "assignment_hours_bounds",
        "before_termination",
        "reason_required",
        "single_clock_in_per_day",
    }
    for rule_type in REGISTRY.values():
        Draft202012Validator.check_schema(rule_type.params_schema)
        assert rule_type.description


# --- employee_state -------------------------------------------------------------------------------


def test_employee_state_passes_in_an_allowed_state(rule, evaluate, employee):
    rule("employee_state", {"states": ["active", "on_leave"]}, code="STATE")
    result = _one(evaluate(APPROVE, employee=employee))
    assert result["outcome"] == "pass"
    assert result["observed"] == "active"
    assert result["threshold"] == ["active", "on_leave"]
    assert (result["rule"], result["version"], result["rule_type"]) == ("STATE", 1, "employee_state")


def test_employee_state_fails_with_an_explanation(rule, evaluate, db):
    pending = EmployeeFactory()
    rule("employee_state", {"states": ["active"]}, code="STATE")
    result = _one(evaluate(APPROVE, employee=pending))
    assert result["outcome"] == "fail"
    assert result["severity"] == "block"
    assert "'pending'" in result["message"]
    assert "active" in result["message"]
    assert result["observed"] == "pending"
    assert result["threshold"] == ["active"]
    assert "active" in result["remediation"]
    assert result["related"] == [{"type": "employee", "id": pending.pk}]


def test_employee_state_does_not_apply_without_an_employee(rule, evaluate):
    rule("employee_state", {"states": ["active"]})
    result = _one(evaluate(APPROVE))
    assert result["outcome"] == "pass"
    assert result["message"].startswith("Not applicable")


# --- max_weekly_hours -------------------------------------------------------------------------------


def test_max_weekly_hours_exactly_the_maximum_passes(rule, evaluate, employee, make_assignment):
    other = make_assignment(employee, hours=20, start=D(2026, 1, 5))
    rule("max_weekly_hours", {"max_hours": 40})
    result = _one(evaluate(APPROVE, **_period(employee, hours=20)))
    assert result["outcome"] == "pass"
    assert result["observed"] == 40.0
    assert result["threshold"] == 40.0
    assert {"type": "assignment", "id": other.pk} in result["related"]


def test_max_weekly_hours_one_hundredth_over_fails(rule, evaluate, employee, make_assignment):
    other = make_assignment(employee, hours=20, start=D(2026, 1, 5))
    rule("max_weekly_hours", {"max_hours": 40})
    result = _one(evaluate(APPROVE, **_period(employee, hours="20.01")))
    assert result["outcome"] == "fail"
    assert result["observed"] == 40.01
    assert result["threshold"] == 40.0
    assert "40.01" in result["message"]
    assert "2026-03-02" in result["message"]
    assert "0.01" in result["remediation"]
    assert result["related"] == [{"type": "assignment", "id": other.pk}]


def test_max_weekly_hours_counts_only_committed_overlapping_assignments(rule, evaluate, employee, make_assignment):
    make_assignment(employee, state="proposed", hours=30)  # not committed
    make_assignment(employee, state="completed", hours=30, end=D(2026, 2, 27))  # not open
    make_assignment(employee, state="active", hours=30, start=D(2025, 1, 1), end=D(2026, 3, 1))  # ends the day before
    rule("max_weekly_hours", {"max_hours": 25})
    result = _one(evaluate(APPROVE, **_period(employee, hours=25)))
    assert result["outcome"] == "pass"
    assert result["observed"] == 25.0


def test_max_weekly_hours_finds_the_peak_inside_the_period(rule, evaluate, employee, make_assignment):
    later = make_assignment(employee, hours=15, start=D(2026, 5, 4), end=D(2026, 5, 31))
    rule("max_weekly_hours", {"max_hours": 30})
    result = _one(evaluate(APPROVE, **_period(employee, hours=20)))
    assert result["outcome"] == "fail"
    assert result["observed"] == 35.0
    assert "2026-05-04" in result["message"]
    assert result["related"] == [{"type": "assignment", "id": later.pk}]


@pytest.mark.parametrize(("hours", "outcome"), [("20", "pass"), ("20.01", "fail")])
def test_max_weekly_hours_as_percent_of_contract(rule, evaluate, employee, hours, outcome):
    rule("max_weekly_hours", {"max_percent_of_contract": 50})  # 50 % of 40 h
    result = _one(evaluate(APPROVE, **_period(employee, hours=hours)))
    assert result["outcome"] == outcome
    assert result["threshold"] == 20.0


@pytest.mark.parametrize(
    ("params", "limit"),
    [
        ({"max_hours": 30, "max_percent_of_contract": 100}, 30.0),  # 30 h < 40 h
        ({"max_hours": 50, "max_percent_of_contract": 50}, 20.0),  # 20 h < 50 h
    ],
)
def test_max_weekly_hours_with_both_limits_the_lower_wins(rule, evaluate, employee, params, limit):
    rule("max_weekly_hours", params)
    at_limit = _one(evaluate(APPROVE, **_period(employee, hours=limit)))
    assert (at_limit["outcome"], at_limit["threshold"]) == ("pass", limit)
    over = _one(evaluate(APPROVE, **_period(employee, hours=limit + 0.5)))
    assert (over["outcome"], over["threshold"]) == ("fail", limit)


# --- required_tags -----------------------------------------------------------------------------------


@pytest.fixture
def forklift_position(require_tag):
    position = PositionFactory()
    require_tag(position, "forklift", min_level=2)
    return position


def test_required_tags_pass_when_held_at_level_over_the_period(rule, evaluate, employee, hold_tag, forklift_position):
    hold_tag(employee, "forklift", level=2)
    rule("required_tags")
    result = _one(evaluate(APPROVE, **_period(employee, forklift_position)))
    assert result["outcome"] == "pass"
    assert result["observed"] == ["forklift@2"]
    assert result["threshold"] == ["forklift@2"]


def test_required_tags_level_too_low_fails(rule, evaluate, employee, hold_tag, forklift_position):
    hold_tag(employee, "forklift", level=1)
    rule("required_tags")
    result = _one(evaluate(APPROVE, **_period(employee, forklift_position)))
    assert result["outcome"] == "fail"
    assert "forklift (level ≥ 2)" in result["message"]
    assert result["observed"] == ["forklift@1"]
    assert result["threshold"] == ["forklift@2"]
    assert result["related"] == [{"type": "tag", "code": "forklift", "min_level": 2}]
    assert result["remediation"]


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "outcome"),
    [
        (D(2026, 3, 2), D(2026, 6, 30), "pass"),  # exactly the period
        (D(2026, 3, 3), None, "fail"),  # starts a day late
        (D(2026, 1, 1), D(2026, 6, 29), "fail"),  # lapses a day early
    ],
)
def test_required_tags_must_cover_the_whole_period(
    rule, evaluate, employee, hold_tag, forklift_position, valid_from, valid_until, outcome
):
    hold_tag(employee, "forklift", level=3, valid_from=valid_from, valid_until=valid_until)
    rule("required_tags")
    assert _one(evaluate(APPROVE, **_period(employee, forklift_position)))["outcome"] == outcome


@pytest.mark.parametrize(("valid_until", "outcome"), [(D(2030, 12, 31), "fail"), (None, "pass")])
def test_required_tags_open_ended_assignment_needs_open_ended_tag(
    rule, evaluate, employee, hold_tag, forklift_position, valid_until, outcome
):
    hold_tag(employee, "forklift", level=2, valid_until=valid_until)
    rule("required_tags")
    result = _one(evaluate(APPROVE, **_period(employee, forklift_position, end=None)))
    assert result["outcome"] == outcome


def test_required_tags_optional_only_with_include_optional(rule, evaluate, employee, require_tag):
    position = PositionFactory()
    require_tag(position, "spanish", required=False)
    rule("required_tags", code="STRICT", params={"include_optional": True})
    rule("required_tags", code="LENIENT")
    results = evaluate(APPROVE, **_period(employee, position))
    assert results["LENIENT"]["outcome"] == "pass"
    assert results["STRICT"]["outcome"] == "fail"


def test_required_tags_extra_tags_from_params(rule, evaluate, employee, hold_tag):
    hold_tag(employee, "first-aid", level=1)
    rule("required_tags", {"extra_tags": [{"tag": "first-aid", "min_level": 2}]})
    result = _one(evaluate(APPROVE, **_period(employee)))
    assert result["outcome"] == "fail"
    assert result["related"] == [{"type": "tag", "code": "first-aid", "min_level": 2}]


# --- no_overlap_same_position --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("other_end", "other_state", "outcome"),
    [
        (D(2026, 3, 1), "approved", "pass"),  # ends the day before
        (D(2026, 3, 2), "approved", "fail"),  # ends on the first day
        (None, "proposed", "fail"),  # proposals count too
        (None, "cancelled", "pass"),  # closed ones do not
    ],
)
def test_no_overlap_same_position(rule, evaluate, employee, make_assignment, other_end, other_state, outcome):
    position = PositionFactory(code="DOCK")
    other = make_assignment(employee, position=position, start=D(2026, 1, 5), end=other_end, state=other_state)
    make_assignment(employee, start=D(2026, 1, 5))  # another position: never a clash
    rule("no_overlap_same_position")
    result = _one(evaluate(APPROVE, **_period(employee, position)))
    assert result["outcome"] == outcome
    if outcome == "fail":
        assert result["observed"] == 1
        assert result["threshold"] == 0
        assert "DOCK" in result["message"]
        assert f"#{other.pk}" in result["message"]
        assert result["related"] == [{"type": "assignment", "id": other.pk}]
        assert result["remediation"]


def test_no_overlap_ignores_the_assignment_being_decided(rule, evaluate, employee, make_assignment):
    assignment = make_assignment(employee, state="proposed")
    rule("no_overlap_same_position")
    assert _one(evaluate(APPROVE, assignment=assignment))["outcome"] == "pass"


# --- max_concurrent_assignments ------------------------------------------------------------------------


def test_max_concurrent_exactly_the_maximum_passes(rule, evaluate, employee, make_assignment):
    make_assignment(employee, state="active", start=D(2026, 1, 5))
    rule("max_concurrent_assignments", {"max": 2})
    result = _one(evaluate(APPROVE, **_period(employee)))
    assert (result["outcome"], result["observed"], result["threshold"]) == ("pass", 2, 2)


def test_max_concurrent_one_over_fails(rule, evaluate, employee, make_assignment):
    first = make_assignment(employee, state="active", start=D(2026, 1, 5))
    second = make_assignment(employee, state="approved", start=D(2026, 4, 1), end=D(2026, 4, 30))
    rule("max_concurrent_assignments", {"max": 2})
    result = _one(evaluate(APPROVE, **_period(employee)))
    assert (result["outcome"], result["observed"], result["threshold"]) == ("fail", 3, 2)
    assert "2026-04-01" in result["message"]
    assert {"type": "assignment", "id": first.pk} in result["related"]
    assert {"type": "assignment", "id": second.pk} in result["related"]
    assert result["remediation"]


def test_max_concurrent_counts_proposals_only_when_asked(rule, evaluate, employee, make_assignment):
    make_assignment(employee, state="proposed", start=D(2026, 1, 5))
    rule("max_concurrent_assignments", {"max": 1}, code="COMMITTED")
    rule("max_concurrent_assignments", {"max": 1, "count_proposed": True}, code="OPEN")
    results = evaluate(APPROVE, **_period(employee))
    assert results["COMMITTED"]["outcome"] == "pass"
    assert results["OPEN"]["outcome"] == "fail"


# --- assignment_hours_bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "outcome"),
    [("10", "pass"), ("30", "pass"), ("9.99", "fail"), ("30.01", "fail")],
)
def test_assignment_hours_bounds(rule, evaluate, employee, hours, outcome):
    rule("assignment_hours_bounds", {"min_hours": 10, "max_hours": 30})
    result = _one(evaluate(APPROVE, **_period(employee, hours=hours)))
    assert result["outcome"] == outcome
    assert result["observed"] == float(hours)
    assert result["threshold"] == {"min_hours": 10.0, "max_hours": 30.0}
    if outcome == "fail":
        assert "10" in result["message"]
        assert "30" in result["message"]
        assert result["remediation"]


def test_assignment_hours_bounds_with_only_a_minimum(rule, evaluate, employee):
    rule("assignment_hours_bounds", {"min_hours": 8})
    result = _one(evaluate(APPROVE, **_period(employee, hours=4)))
    assert result["outcome"] == "fail"
    assert result["threshold"] == {"min_hours": 8.0, "max_hours": None}
    assert "unbounded" in result["message"]


# --- before_termination -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "outcome", "observed"),
    [
        (D(2026, 6, 30), "pass", "2026-06-30"),  # ends on the termination date
        (D(2026, 7, 1), "fail", "2026-07-01"),
        (None, "fail", "open-ended"),
    ],
)
def test_before_termination(rule, evaluate, db, end, outcome, observed):
    leaving = EmployeeFactory(termination_date=D(2026, 6, 30))
    rule("before_termination")
    result = _one(evaluate(APPROVE, **_period(leaving, end=end)))
    assert (result["outcome"], result["observed"], result["threshold"]) == (outcome, observed, "2026-06-30")
    if outcome == "fail":
        assert "2026-06-30" in result["message"]
        assert "2026-06-30" in result["remediation"]
        assert result["related"] == [{"type": "employee", "id": leaving.pk}]


def test_before_termination_passes_without_a_termination_date(rule, evaluate, employee):
    rule("before_termination")
    assert _one(evaluate(APPROVE, **_period(employee, end=None)))["outcome"] == "pass"


# --- reason_required -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "outcome", "observed"),
    [("x" * 10, "pass", 10), ("x" * 9, "fail", 9), ("   ", "fail", 0), ("", "fail", 0)],
)
def test_reason_required(rule, evaluate, employee, reason, outcome, observed):
    rule("reason_required", {"min_length": 10}, events=["employee.terminate"])
    result = _one(evaluate("employee.terminate", employee=employee, reason=reason))
    assert (result["outcome"], result["observed"], result["threshold"]) == (outcome, observed, 10)
    if outcome == "fail":
        assert "10" in result["message"]
        assert "reason" in result["remediation"]


def test_reason_required_defaults_to_one_character(rule, evaluate, employee):
    rule("reason_required", events=["employee.suspend"])
    assert _one(evaluate("employee.suspend", employee=employee, reason="a"))["outcome"] == "pass"
    assert _one(evaluate("employee.suspend", employee=employee))["outcome"] == "fail"


# --- single_clock_in_per_day ---------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "outcome"), [(0, "pass"), (1, "fail"), (3, "fail")])
def test_single_clock_in_per_day(rule, evaluate, employee, count, outcome):
    rule("single_clock_in_per_day", events=["clock.in"])
    result = _one(evaluate("clock.in", employee=employee, clock_ins_today=count))
    assert (result["outcome"], result["observed"], result["threshold"]) == (outcome, count, 0)
    if outcome == "fail":
        assert str(count) in result["message"]
        assert result["remediation"]
        assert result["related"] == [{"type": "employee", "id": employee.pk}]


def test_single_clock_in_not_applicable_outside_clock_events(rule, evaluate, employee):
    rule("single_clock_in_per_day", events=["clock.in", "employee.suspend"])
    for event, context in (("employee.suspend", {"employee": employee}), ("clock.in", {})):
        result = _one(evaluate(event, **context))
        assert result["outcome"] == "pass"
        assert result["message"].startswith("Not applicable")


def test_single_clock_in_counts_the_real_clock_ins_on_the_effective_date(rule, evaluate, employee, hr):
    """Without a given ``clock_ins_today`` the facts count the employee's clock events that day: one query."""
    rule("single_clock_in_per_day", events=["clock.in"])
    day = D(2026, 1, 13)
    moment = datetime.datetime(2026, 1, 13, 8, tzinfo=datetime.UTC)
    ClockEvent.objects.create(
        employee=employee, day=day - datetime.timedelta(days=1), clock_in_at=moment, clock_out_at=moment
    )
    assert _one(evaluate("clock.in", employee=employee, effective_date=day))["observed"] == 0
    ClockEvent.objects.create(employee=employee, day=day, clock_in_at=moment)
    with CaptureQueriesContext(connection) as queries:
        result = _one(evaluate("clock.in", employee=employee, effective_date=day))
    assert (result["outcome"], result["observed"], result["threshold"]) == ("fail", 1, 0)
    assert len(queries) == 2  # the rules, the count
    given = _one(evaluate("clock.in", employee=employee, effective_date=day, clock_ins_today=0))
    assert given["outcome"] == "pass"  # a what-if wins over the real count
