"""Fixtures for the org-structure API tests: a small tree with people in it, and error-shape checks."""

from dataclasses import dataclass

import pytest

from apps.api.models import Employee, OrgUnit, Position
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory

ORG_UNITS_URL = "/api/org-units/"
POSITIONS_URL = "/api/positions/"
EMPLOYEES_URL = "/api/employees/"


def detail_url(base: str, pk) -> str:
    return f"{base}{pk}/"


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    """The response has this status, the one error shape with this code, and details naming ``fields``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    for field in fields:
        assert field in body["error"]["details"], body
        assert body["error"]["details"][field], body
    return body["error"]


@dataclass
class World:
    """root ─┬─ child ── grandchild      other (a second root)

    Employees: ``employee`` (child, linked to ``employee_user``), ``grand_employee`` (grandchild),
    ``outsider`` (other). Positions: ``position`` (child), ``outside_position`` (other).
    """

    root: OrgUnit
    child: OrgUnit
    grandchild: OrgUnit
    other: OrgUnit
    position: Position
    outside_position: Position
    employee: Employee
    grand_employee: Employee
    outsider: Employee
    employee_user: object


@pytest.fixture
def world(db, make_user) -> World:
    root = OrgUnitFactory(code="ROOT", name="Head office")
    child = OrgUnitFactory(code="SALES", name="Sales", parent=root)
    grandchild = OrgUnitFactory(code="SALES-N", name="Sales north", parent=child)
    other = OrgUnitFactory(code="OTHER", name="Other company")
    employee_user = make_user("employee")
    return World(
        root=root,
        child=child,
        grandchild=grandchild,
        other=other,
        position=PositionFactory(code="SELLER", title="Seller", org_unit=child),
        outside_position=PositionFactory(code="OUT-POS", title="Elsewhere", org_unit=other),
        employee=EmployeeFactory(
            employee_number="E-CHILD", first_name="Ada", last_name="Lovelace", org_unit=child, user=employee_user
        ),
        grand_employee=EmployeeFactory(
            employee_number="E-GRAND", first_name="Grace", last_name="Hopper", org_unit=grandchild
        ),
        outsider=EmployeeFactory(employee_number="E-OUT", first_name="Alan", last_name="Turing", org_unit=other),
        employee_user=employee_user,
    )


@pytest.fixture
def role_client(auth_client, make_user, world, api_client):
    """``role_client(role)`` → an API client for that role, scoped like the matrix expects.

    manager: org unit ``root`` (sees root, child, grandchild); employee: linked to ``world.employee``;
    "none": an active user without a role; "anonymous": no credentials.
    """

    def _client(role: str):
        if role == "anonymous":
            return api_client
        if role == "none":
            return auth_client(user=make_user(""))[0]
        if role == "manager":
            return auth_client("manager", org_unit=world.root)[0]
        if role == "employee":
            return auth_client(user=world.employee_user)[0]
        return auth_client(role)[0]

    return _client
