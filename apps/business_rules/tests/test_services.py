"""Rule catalogue writes: validation against the type's schema (400 naming the path) and versioning."""

import datetime
from decimal import Decimal

import pytest

from apps.assignments.models import AssignmentTransitionLog
from apps.assignments.services import assignment_transition
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.services import rule_create, rule_update, rule_validate
from backend.errors import InvalidInputError

D = datetime.date
pytestmark = pytest.mark.django_db

VALID = {"rule_type": "max_weekly_hours", "params": {"max_hours": 40}, "events": ["assignment.approve"]}


def _errors(**overrides) -> dict:
    with pytest.raises(InvalidInputError) as err:
        rule_validate(**{**VALID, **overrides})
    return err.value.details


def test_a_valid_definition_passes():
    rule_validate(**VALID)
    rule_validate(**{**VALID, "valid_from": D(2026, 1, 1), "valid_to": D(2026, 1, 1)})


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"rule_type": "no_such_type"}, "rule_type", "Unknown rule type 'no_such_type'"),
        ({"rule_type": None}, "rule_type", "Unknown rule type"),
        ({"params": {"max_hours": "forty"}}, "params.max_hours", "not of type 'number'"),
        ({"params": {"max_hours": 0}}, "params.max_hours", "less than or equal to the minimum"),
        ({"params": {"max_hours": 40, "max_days": 3}}, "params.max_days", "Unknown param"),
        ({"params": {}}, "params", "at least one of: max_hours, max_percent_of_contract"),
        ({"params": ["max_hours"]}, "params", "JSON object"),
        ({"rule_type": "max_concurrent_assignments", "params": {}}, "params.max", "required"),
        ({"rule_type": "max_concurrent_assignments", "params": {"max": 1.5}}, "params.max", "not of type 'integer'"),
        ({"rule_type": "employee_state", "params": {"states": []}}, "params.states", "should be non-empty"),
        (
            {"rule_type": "required_tags", "params": {"extra_tags": [{"min_level": 2}]}},
            "params.extra_tags.0.tag",
            "required",
        ),
        ({"rule_type": "employee_state", "params": {"states": ["actve"]}}, "params.states.0", "is not one of"),
        (
            {"rule_type": "assignment_hours_bounds", "params": {"min_hours": 30, "max_hours": 10}},
            "params.max_hours",
            "at least min_hours",
        ),
        ({"events": ["assignment.aprove"]}, "events", "Unknown event(s): assignment.aprove"),
        ({"events": []}, "events", "non-empty"),
        ({"events": "assignment.approve"}, "events", "non-empty list"),
        ({"events": ["clock.in", "clock.in"]}, "events", "once"),
        ({"valid_from": D(2026, 2, 1), "valid_to": D(2026, 1, 31)}, "valid_to", "on or after valid_from"),
    ],
)
def test_bad_definitions_name_the_field(overrides, field, fragment):
    errors = _errors(**overrides)
    assert field in errors, errors
    assert any(fragment in str(message) for message in errors[field]), errors[field]


def test_every_problem_is_reported_at_once():
    errors = _errors(params={"max_hours": "forty"}, events=["nope"], valid_from=D(2026, 2, 1), valid_to=D(2026, 1, 1))
    assert set(errors) == {"params.max_hours", "events", "valid_to"}


def test_create_keeps_a_v1_snapshot_with_the_actor(make_user, tree):
    hr = make_user("hr")
    rule = rule_create(actor=hr, code="CAP", name="Cap", org_unit=tree["east"], valid_from=D(2026, 1, 1), **VALID)
    assert rule.version == 1
    (snapshot,) = BusinessRuleVersion.objects.filter(rule=rule)
    assert (snapshot.version, snapshot.actor) == (1, hr)
    assert snapshot.snapshot["params"] == {"max_hours": 40}
    assert snapshot.snapshot["org_unit_id"] == tree["east"].pk
    assert snapshot.snapshot["valid_from"] == "2026-01-01"
    assert snapshot.snapshot["severity"] == "block"


def test_create_refuses_bad_params_and_writes_nothing():
    rules, versions = BusinessRule.objects.count(), BusinessRuleVersion.objects.count()
    with pytest.raises(InvalidInputError):
        rule_create(code="BAD", name="Bad", **{**VALID, "params": {"max_hours": "forty"}})
    assert (BusinessRule.objects.count(), BusinessRuleVersion.objects.count()) == (rules, versions)


def test_edit_bumps_the_version_and_keeps_every_snapshot(make_user):
    admin = make_user("admin")
    rule = rule_create(code="CAP", name="Cap", **VALID)
    rule = rule_update(rule=rule, actor=admin, params={"max_hours": 38})
    rule = rule_update(rule=rule, actor=admin, severity="warn")
    assert rule.version == 3
    assert BusinessRule.objects.get(pk=rule.pk).version == 3
    snapshots = list(BusinessRuleVersion.objects.filter(rule=rule).order_by("version"))
    assert [s.version for s in snapshots] == [1, 2, 3]
    assert [s.snapshot["params"]["max_hours"] for s in snapshots] == [40, 38, 38]
    assert [s.snapshot["severity"] for s in snapshots] == ["block", "block", "warn"]
    assert snapshots[2].actor == admin


def test_a_no_op_edit_keeps_the_version():
    rule = rule_create(code="CAP", name="Cap", **VALID)
    rule = rule_update(rule=rule, params={"max_hours": 40}, events=["assignment.approve"], name="Cap")
    assert rule.version == 1
    assert BusinessRuleVersion.objects.filter(rule=rule).count() == 1


def test_an_invalid_edit_changes_nothing():
    rule = rule_create(code="CAP", name="Cap", **VALID)
    with pytest.raises(InvalidInputError) as err:
        rule_update(rule=rule, params={"max_hours": -1})
    assert "params.max_hours" in err.value.details
    stored = BusinessRule.objects.get(pk=rule.pk)
    assert (stored.version, stored.params) == (1, {"max_hours": 40})
    assert BusinessRuleVersion.objects.filter(rule=rule).count() == 1


def test_the_code_cannot_change():
    rule = rule_create(code="CAP", name="Cap", **VALID)
    with pytest.raises(InvalidInputError) as err:
        rule_update(rule=rule, code="CAP2")
    assert "code" in err.value.details
    assert BusinessRule.objects.get(pk=rule.pk).code == "CAP"


def test_deactivating_is_an_edit_too():
    rule = rule_create(code="CAP", name="Cap", **VALID)
    rule = rule_update(rule=rule, is_active=False)
    assert rule.version == 2
    assert BusinessRuleVersion.objects.get(rule=rule, version=2).snapshot["is_active"] is False


def test_logs_keep_the_version_they_were_checked_against(hr, employee, make_assignment):
    rule = rule_create(
        code="HOURS",
        name="Hours",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 30},
        events=["assignment.approve"],
    )
    first = make_assignment(employee, state="proposed", hours=20)
    assignment_transition(assignment_id=first.pk, name="approve", actor=hr)
    rule_update(rule=rule, actor=hr, params={"max_hours": 25})
    second = make_assignment(employee, state="proposed", hours=Decimal(20), start=D(2027, 1, 4))
    assignment_transition(assignment_id=second.pk, name="approve", actor=hr)

    first_log = AssignmentTransitionLog.objects.get(assignment=first)
    second_log = AssignmentTransitionLog.objects.get(assignment=second)
    assert [(r["rule"], r["version"], r["outcome"]) for r in first_log.rule_results] == [("HOURS", 1, "pass")]
    assert [(r["rule"], r["version"], r["outcome"]) for r in second_log.rule_results] == [("HOURS", 2, "pass")]
    # Each (code, version) a log cites can be read back as it was.
    cited = BusinessRuleVersion.objects.get(rule__code="HOURS", version=first_log.rule_results[0]["version"])
    assert cited.snapshot["params"] == {"max_hours": 30}
    assert first_log.rule_results[0]["threshold"] == {"min_hours": None, "max_hours": 30.0}
