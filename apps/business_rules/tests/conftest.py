"""Fixtures for rule tests: people, an org tree, and helpers that build assignments and tags directly."""

import datetime
from decimal import Decimal

import pytest

from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.business_rules.engine import evaluate_event
from apps.business_rules.models import BusinessRule
from apps.fsm.services import employee_transition
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog

D = datetime.date


@pytest.fixture(autouse=True)
def _seeded_rules_inactive(db):
    """Migrations may seed rules (e.g. the clock-in rule): these tests start with none of them in force."""
    BusinessRule.objects.update(is_active=False)


@pytest.fixture
def hr(make_user):
    return make_user("hr")


@pytest.fixture
def employee(hr):
    """An active employee on a 40 h contract."""
    employee = EmployeeFactory(contracted_weekly_hours=40)
    employee_transition(employee_id=employee.pk, name="activate", actor=hr, effective_date=D(2026, 1, 5))
    return type(employee).objects.get(pk=employee.pk)


@pytest.fixture
def tree(db):
    """ROOT ─ EAST (position P_EAST); WEST (position P_WEST) is a second root."""
    root = OrgUnitFactory(code="ROOT")
    east = OrgUnitFactory(code="EAST", parent=root)
    west = OrgUnitFactory(code="WEST")
    return {
        "root": root,
        "east": east,
        "west": west,
        "p_root": PositionFactory(code="P_ROOT", org_unit=root),
        "p_east": PositionFactory(code="P_EAST", org_unit=east),
        "p_west": PositionFactory(code="P_WEST", org_unit=west),
    }


@pytest.fixture
def make_assignment(db):
    """``make_assignment(employee, state="approved", hours=20, start=..., end=None, position=None)``, saved as is."""

    def _make(employee, *, state="approved", hours=20, start=None, end=None, position=None):
        return Assignment.objects.create(
            employee=employee,
            position=position or PositionFactory(),
            start_date=start or D(2026, 2, 2),
            end_date=end,
            weekly_hours=Decimal(str(hours)),
            state=state,
        )

    return _make


@pytest.fixture
def make_tag(db):
    """``make_tag(code)`` → a catalogue tag."""

    def _make(code):
        return TagCatalog.objects.get_or_create(code=code, defaults={"name": code.title()})[0]

    return _make


@pytest.fixture
def hold_tag(make_tag):
    """``hold_tag(employee, code, level=1, valid_from=2026-01-01, valid_until=None)``."""

    def _hold(employee, code, *, level=1, valid_from=None, valid_until=None):
        return EmployeeTag.objects.create(
            employee=employee,
            tag=make_tag(code),
            level=level,
            valid_from=valid_from or D(2026, 1, 1),
            valid_until=valid_until,
        )

    return _hold


@pytest.fixture
def require_tag(make_tag):
    """``require_tag(position, code, min_level=1, required=True)``."""

    def _require(position, code, *, min_level=1, required=True):
        return PositionTag.objects.create(position=position, tag=make_tag(code), min_level=min_level, required=required)

    return _require


@pytest.fixture
def evaluate():
    """``evaluate(event, **context)`` → the engine's results, keyed by rule code."""

    def _evaluate(event, **context):
        return {r["rule"]: r for r in evaluate_event(event=event, context=context)}

    return _evaluate


@pytest.fixture
def rule(db):
    """``rule(rule_type, params, events=["assignment.approve"], **fields)`` → a saved rule (v1)."""
    from apps.business_rules.tests.factories import BusinessRuleFactory

    def _rule(rule_type, params=None, *, events=("assignment.approve",), **fields):
        return BusinessRuleFactory(rule_type=rule_type, params=params or {}, events=list(events), **fields)

    return _rule
