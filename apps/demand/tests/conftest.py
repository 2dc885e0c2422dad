"""Fixtures for demand tests: an org tree, helpers that build rows directly, clients per role, error checks."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.business_rules.models import BusinessRule

D = datetime.date
MARCH_2 = D(2026, 3, 2)
ROLES = ("admin", "hr", "manager", "auditor", "employee", "none", "anonymous")


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    """The response has this status, the one error shape with this code, and details naming ``fields``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    for field in fields:
        assert field in (body["error"]["details"] or {}), body
    return body["error"]


def count_queries(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


@pytest.fixture(autouse=True)
def _seeded_rules_inactive(db):
    """Migrations seed rules (the clock-in rule): these tests choose the rules in force themselves."""
    BusinessRule.objects.update(is_active=False)


@dataclass
class Tree:
    """ROOT has DEPT (which has TEAM) and OTHER; ELSEWHERE is a second root."""

    root: object
    dept: object
    team: object
    other: object
    elsewhere: object


@pytest.fixture
def tree(db) -> Tree:
    root = OrgUnitFactory(code="ROOT")
    dept = OrgUnitFactory(code="DEPT", parent=root)
    return Tree(
        root=root,
        dept=dept,
        team=OrgUnitFactory(code="TEAM", parent=dept),
        other=OrgUnitFactory(code="OTHER", parent=root),
        elsewhere=OrgUnitFactory(code="ELSEWHERE"),
    )


@pytest.fixture
def make_assignment(db):
    """``make_assignment(employee, position, state=, hours=, start=, end=)``: saved as is (no rules, no log)."""

    def _make(employee, position, *, state="approved", hours=40, start=MARCH_2, end=None):
        return Assignment.objects.create(
            employee=employee,
            position=position,
            start_date=start,
            end_date=end,
            weekly_hours=Decimal(str(hours)),
            state=state,
        )

    return _make


@pytest.fixture
def make_employee(db):
    """``make_employee(unit, state="active", contract=40, **fields)``: built directly in that state."""

    def _make(org_unit, *, state="active", contract=40, **fields):
        return EmployeeFactory(org_unit=org_unit, state=state, contracted_weekly_hours=contract, **fields)

    return _make


@pytest.fixture
def client_for(auth_client, make_user, api_client, tree):
    """``client_for(role)``: a client for that role; the manager manages DEPT; "none" has no role."""

    def _client(role: str):
        if role == "anonymous":
            return api_client
        if role == "manager":
            return auth_client(user=make_user("manager", org_unit=tree.dept))[0]
        if role == "none":
            return auth_client(user=make_user(""))[0]
        return auth_client(role)[0]

    return _client


@pytest.fixture
def position_in(tree):
    return PositionFactory(code="IN", org_unit=tree.team)


@pytest.fixture
def position_out(tree):
    return PositionFactory(code="OUT", org_unit=tree.other)
