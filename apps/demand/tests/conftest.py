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
from apps.demand.tests.factories import CoverageRequirementFactory

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


def transitions_held() -> set[tuple]:
    """The transition rollup's non-zero rows (kind, org unit, week, transition, count)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, org_unit_id, week, transition, count FROM demand_transitionweek WHERE count <> 0")
        return set(cursor.fetchall())


def transitions_from_scratch() -> set[tuple]:
    """The same rows recomputed from the logs over the horizon (the oracle of the triggers)."""
    from apps.demand import rollups
    from apps.demand.models import RollupHorizon

    horizon = RollupHorizon.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(rollups.transitions_from_scratch_sql(), [horizon.first_week, horizon.last_week])
        return {row for row in cursor.fetchall() if row[4]}


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


@dataclass
class Scenario:
    p: object  # DEPT: demand from a Wednesday, two people, one for a mid-week slice
    q: object  # DEPT: over-covered, then assigned without demand
    r: object  # TEAM: nothing at all
    s: object  # OTHER: met by a completed assignment, then half-covered
    employees: list


@pytest.fixture
def scenario(tree, make_employee, make_assignment) -> Scenario:
    p = PositionFactory(code="P", org_unit=tree.dept)
    q = PositionFactory(code="Q", org_unit=tree.dept)
    r = PositionFactory(code="R", org_unit=tree.team)
    s = PositionFactory(code="S", org_unit=tree.other)
    e1, e2, e3, e4, e5, e6 = (make_employee(tree.dept) for _ in range(6))
    # P needs 2 people, 70 h/week, from Wednesday Mar 4 to Sunday Mar 22.
    CoverageRequirementFactory(
        position=p, valid_from=D(2026, 3, 4), valid_to=D(2026, 3, 22), required_headcount=2, required_weekly_hours=70
    )
    CoverageRequirementFactory(
        position=q, valid_from=D(2026, 3, 2), valid_to=D(2026, 3, 8), required_headcount=1, required_weekly_hours=20
    )
    CoverageRequirementFactory(position=s, valid_from=D(2026, 3, 2), valid_to=None, required_weekly_hours=40)
    make_assignment(e1, p, state="approved", hours=40, start=D(2026, 3, 2))
    make_assignment(e2, p, state="active", hours=35, start=D(2026, 3, 11), end=D(2026, 3, 17))  # Wed → Tue
    make_assignment(e3, p, state="proposed", hours=40)  # not committed: does not count
    make_assignment(e4, q, state="active", hours=30, start=D(2026, 3, 2), end=D(2026, 3, 15))
    make_assignment(e5, s, state="completed", hours=40, start=D(2026, 2, 2), end=D(2026, 3, 8))  # ran until Mar 8
    make_assignment(e1, s, state="approved", hours=20, start=D(2026, 3, 9))
    make_assignment(e6, s, state="cancelled", hours=40)  # never ran
    make_assignment(e6, s, state="rejected", hours=40)
    return Scenario(p=p, q=q, r=r, s=s, employees=[e1, e2, e3, e4, e5, e6])
