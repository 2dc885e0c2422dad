"""The engine: which rules apply (event, scope, validity, active), every result returned, the decision, cost."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.services import assignment_transition
from apps.business_rules.engine import evaluate_event, event_evaluate, raise_for_decision, rules_decision
from apps.business_rules.models import BusinessRule
from backend.exceptions import RuleViolationError

D = datetime.date
pytestmark = pytest.mark.django_db
APPROVE = "assignment.approve"


def _codes(results) -> set[str]:
    return set(results)


def test_every_applicable_rule_is_evaluated_not_just_the_first_failure(rule, evaluate, employee):
    rule("assignment_hours_bounds", {"max_hours": 10}, code="A_TOO_MANY")
    rule("reason_required", code="B_REASON")
    rule("assignment_hours_bounds", {"min_hours": 1}, code="C_FINE")
    rule("employee_state", {"states": ["suspended"]}, code="D_STATE", severity="warn")
    results = evaluate_event(
        event=APPROVE, context={"employee": employee, "start_date": D(2026, 3, 2), "weekly_hours": Decimal(20)}
    )
    assert [(r["rule"], r["outcome"]) for r in results] == [
        ("A_TOO_MANY", "fail"),
        ("B_REASON", "fail"),
        ("C_FINE", "pass"),
        ("D_STATE", "fail"),
    ]
    assert results[3]["severity"] == "warn"


def test_only_rules_for_the_event_apply(rule, evaluate, employee):
    rule("reason_required", code="ON_APPROVE", events=[APPROVE])
    rule("reason_required", code="ON_BOTH", events=["assignment.reject", APPROVE])
    rule("reason_required", code="ON_REJECT", events=["assignment.reject"])
    assert _codes(evaluate(APPROVE, employee=employee)) == {"ON_APPROVE", "ON_BOTH"}
    assert _codes(evaluate("assignment.reject", employee=employee)) == {"ON_BOTH", "ON_REJECT"}
    assert evaluate("employee.terminate", employee=employee) == {}


def test_inactive_rules_are_ignored(rule, evaluate, employee):
    rule("reason_required", code="ON", is_active=True)
    rule("reason_required", code="OFF", is_active=False)
    assert _codes(evaluate(APPROVE, employee=employee)) == {"ON"}


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "applies"),
    [
        (None, None, True),
        (D(2026, 3, 2), None, True),  # from the effective date itself
        (D(2026, 3, 3), None, False),  # not yet
        (None, D(2026, 3, 2), True),  # through the effective date itself
        (None, D(2026, 3, 1), False),  # expired
        (D(2026, 3, 1), D(2026, 3, 3), True),
    ],
)
def test_validity_window_against_the_effective_date(rule, evaluate, employee, valid_from, valid_to, applies):
    rule("reason_required", code="WINDOW", valid_from=valid_from, valid_to=valid_to)
    results = evaluate(APPROVE, employee=employee, effective_date=D(2026, 3, 2))
    assert ("WINDOW" in results) is applies


def test_org_unit_scope_covers_the_subtree_of_the_positions_unit(rule, evaluate, employee, tree):
    rule("reason_required", code="IN_ROOT", org_unit=tree["root"])
    rule("reason_required", code="IN_EAST", org_unit=tree["east"])
    rule("reason_required", code="EVERYWHERE")
    assert _codes(evaluate(APPROVE, employee=employee, position=tree["p_root"])) == {"IN_ROOT", "EVERYWHERE"}
    assert _codes(evaluate(APPROVE, employee=employee, position=tree["p_east"])) == {
        "IN_ROOT",
        "IN_EAST",
        "EVERYWHERE",
    }
    assert _codes(evaluate(APPROVE, employee=employee, position=tree["p_west"])) == {"EVERYWHERE"}


def test_org_unit_scope_uses_the_employees_unit_for_employee_events(rule, evaluate, tree):
    rule("reason_required", code="EAST_ONLY", org_unit=tree["root"], events=["employee.suspend"])
    inside = EmployeeFactory(org_unit=tree["east"])
    outside = EmployeeFactory(org_unit=tree["west"])
    assert _codes(evaluate("employee.suspend", employee=inside)) == {"EAST_ONLY"}
    assert _codes(evaluate("employee.suspend", employee=outside)) == set()
    assert _codes(evaluate("employee.suspend")) == set()  # no subject: an org-scoped rule cannot apply


def test_position_scope(rule, evaluate, employee, tree):
    rule("reason_required", code="ONLY_EAST", position=tree["p_east"])
    assert _codes(evaluate(APPROVE, employee=employee, position=tree["p_east"])) == {"ONLY_EAST"}
    assert _codes(evaluate(APPROVE, employee=employee, position=tree["p_west"])) == set()
    assert _codes(evaluate(APPROVE, employee=employee)) == set()


def test_assignment_context_supplies_the_subject_and_explicit_fields_override(
    rule, evaluate, employee, make_assignment
):
    assignment = make_assignment(employee, state="proposed", hours=20, end=D(2026, 12, 31))
    rule("assignment_hours_bounds", {"max_hours": 25}, code="HOURS")
    rule("before_termination", code="END")
    assert evaluate(APPROVE, assignment=assignment)["HOURS"]["observed"] == 20.0
    assert evaluate(APPROVE, assignment=assignment, weekly_hours=Decimal(30))["HOURS"]["outcome"] == "fail"
    leaving = EmployeeFactory(termination_date=D(2026, 6, 30))
    results = evaluate(APPROVE, assignment=assignment, employee=leaving)
    assert results["END"]["observed"] == "2026-12-31"
    assert evaluate(APPROVE, assignment=assignment, employee=leaving, end_date=None)["END"]["observed"] == "open-ended"


def test_float_hours_in_a_context_compare_exactly(rule, evaluate, employee):
    rule("assignment_hours_bounds", {"max_hours": 20.03}, code="HOURS")
    result = evaluate(APPROVE, employee=employee, start_date=D(2026, 3, 2), weekly_hours=20.03)["HOURS"]
    assert (result["outcome"], result["observed"]) == ("pass", 20.03)


def test_a_rule_naming_an_unknown_type_fails_explainably(rule, evaluate, employee):
    broken = rule("reason_required", code="GONE")
    BusinessRule.objects.filter(pk=broken.pk).update(rule_type="retired_type")
    result = evaluate(APPROVE, employee=employee)["GONE"]
    assert result["outcome"] == "fail"
    assert "retired_type" in result["message"]
    assert result["remediation"]


def test_params_that_bypassed_validation_fail_instead_of_crashing(rule, evaluate, employee):
    broken = rule("assignment_hours_bounds", {"max_hours": 10}, code="BROKEN")
    BusinessRule.objects.filter(pk=broken.pk).update(params={"max_hours": "ten"})
    result = evaluate(APPROVE, employee=employee, start_date=D(2026, 3, 2), weekly_hours=Decimal(5))["BROKEN"]
    assert result["outcome"] == "fail"
    assert "could not be evaluated" in result["message"]


# --- the decision ------------------------------------------------------------------------------------


def _result(outcome, severity):
    return {"rule": "R", "outcome": outcome, "severity": severity}


@pytest.mark.parametrize(
    ("results", "kwargs", "decision"),
    [
        ([], {}, None),
        ([_result("pass", "block"), _result("pass", "warn")], {}, None),
        ([_result("fail", "block")], {}, "rule_violation"),
        ([_result("fail", "block"), _result("fail", "warn")], {"acknowledge_warnings": True}, "rule_violation"),
        ([_result("fail", "warn")], {}, "warnings_not_acknowledged"),
        ([_result("fail", "warn")], {"acknowledge_warnings": True}, None),
    ],
)
def test_rules_decision(results, kwargs, decision):
    assert rules_decision(results, **kwargs) == decision


def test_only_an_admin_with_a_reason_overrides_a_block(make_user):
    failing = [_result("fail", "block")]
    admin, hr = make_user("admin"), make_user("hr")
    assert rules_decision(failing, actor=admin, override_reason="urgent") is None
    assert rules_decision(failing, actor=admin) == "rule_violation"
    assert rules_decision(failing, actor=hr, override_reason="urgent") == "rule_violation"
    both = [*failing, _result("fail", "warn")]
    assert rules_decision(both, actor=admin, override_reason="urgent") == "warnings_not_acknowledged"


def test_raise_for_decision_explains_with_every_failure():
    results = [_result("fail", "block"), _result("pass", "block"), _result("fail", "warn")]
    raise_for_decision(None, results)
    with pytest.raises(RuleViolationError) as err:
        raise_for_decision("rule_violation", results)
    assert err.value.status_code == 422
    assert err.value.details["violations"] == [results[0], results[2]]
    assert err.value.details["rule_results"] == results
    with pytest.raises(RuleViolationError) as err:
        raise_for_decision("warnings_not_acknowledged", results)
    assert err.value.details["acknowledge_warnings_required"] is True


def test_event_evaluate_allows_warnings_but_not_blocks(rule, employee):
    rule("reason_required", code="WARN", severity="warn")
    outcome = event_evaluate(event=APPROVE, context={"employee": employee})
    assert (outcome["allowed"], outcome["decision"]) == (True, "warnings_not_acknowledged")
    rule("reason_required", code="BLOCK")
    outcome = event_evaluate(event=APPROVE, context={"employee": employee})
    assert (outcome["allowed"], outcome["decision"]) == (False, "rule_violation")
    assert [r["rule"] for r in outcome["rule_results"]] == ["BLOCK", "WARN"]


# --- cost ----------------------------------------------------------------------------------------------

EVERY_TYPE = [
    ("employee_state", {"states": ["active"]}),
    ("max_weekly_hours", {"max_hours": 60}),
    ("required_tags", {}),
    ("no_overlap_same_position", {}),
    ("max_concurrent_assignments", {"max": 5}),
    ("assignment_hours_bounds", {"max_hours": 40}),
    ("before_termination", {}),
    ("reason_required", {}),
    ("single_clock_in_per_day", {}),
]


def _add_rules(rule, count, types, *, prefix, tree):
    for n in range(count):
        rule_type, params = types[n % len(types)]
        scope = {"org_unit": tree["root"]} if n % 3 == 1 else {"position": tree["p_east"]} if n % 3 == 2 else {}
        rule(rule_type, params, code=f"{prefix}_{n:03d}", severity="warn", **scope)


def _approval_queries(hr, employee, make_assignment, require_tag, hold_tag, tree) -> int:
    """Queries of one real approval of a fresh assignment (with another open one and tags to read)."""
    make_assignment(employee, state="active", hours=10, start=D(2026, 1, 5))
    require_tag(tree["p_east"], f"skill-{employee.pk}")
    hold_tag(employee, f"skill-{employee.pk}")
    assignment = make_assignment(employee, state="proposed", position=tree["p_east"])
    with CaptureQueriesContext(connection) as ctx:
        outcome = assignment_transition(
            assignment_id=assignment.pk, name="approve", actor=hr, reason="ok", acknowledge_warnings=True
        )
    assert outcome.log_entry is not None
    return len(ctx.captured_queries), outcome.rule_results


@pytest.mark.parametrize("types", [EVERY_TYPE[1:2], EVERY_TYPE], ids=["one-type", "every-type"])
def test_transition_cost_does_not_grow_with_the_number_of_rules(
    rule, hr, make_assignment, require_tag, hold_tag, tree, types
):
    _add_rules(rule, 5, types, prefix="FIRST", tree=tree)
    few, few_results = _approval_queries(hr, _active(hr), make_assignment, require_tag, hold_tag, tree)
    _add_rules(rule, 45, types, prefix="MORE", tree=tree)
    many, many_results = _approval_queries(hr, _active(hr), make_assignment, require_tag, hold_tag, tree)
    assert (len(few_results), len(many_results)) == (5, 50)  # every rule applies (scopes all match P_EAST)
    assert many == few
    # The approval posts a ledger entry (its chain lock and last-hash read are two of them); no effective_date
    # given, one query finds the employee's time zone for today.
    assert many <= 23


def test_evaluating_fifty_rules_reads_the_rules_and_each_fact_once(rule, employee, make_assignment, tree):
    make_assignment(employee, state="active", hours=10)
    _add_rules(rule, 50, EVERY_TYPE, prefix="R", tree=tree)
    position = PositionFactory(org_unit=tree["east"])
    BusinessRule.objects.filter(position__isnull=False).update(position=position)
    context = {"employee": employee, "position": position, "start_date": D(2026, 3, 2), "weekly_hours": Decimal(8)}
    with CaptureQueriesContext(connection) as ctx:
        results = evaluate_event(event=APPROVE, context=context)
    assert len(results) == 50
    # rules (with their org units), the employee's open assignments, employee tags, position tags, the
    # position's org unit (for scope)
    assert len(ctx.captured_queries) <= 5


def _active(hr):
    from apps.fsm.services import employee_transition

    employee = EmployeeFactory(contracted_weekly_hours=40)
    employee_transition(employee_id=employee.pk, name="activate", actor=hr, effective_date=D(2026, 1, 5))
    return type(employee).objects.get(pk=employee.pk)
