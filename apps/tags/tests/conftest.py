"""Fixtures for the tag tests: a small org tree with people and tags inside and outside a manager's scope."""

import datetime
from dataclasses import dataclass

import pytest

from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory, TagCatalogFactory

D = datetime.date


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The response has this status and the one error shape with this code (and names ``field``)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    if field is not None:
        assert field in body["error"]["details"], body
    return body["error"]


@dataclass
class World:
    root: object
    dept: object
    other: object
    emp_in: object
    emp_out: object
    pos_in: object
    pos_out: object
    tag: object
    et_in: object
    et_out: object
    pt_in: object
    pt_out: object


@pytest.fixture
def world(db) -> World:
    """``dept`` sits under ``root``; ``other`` is a sibling; *_in objects live in dept, *_out in other."""
    root = OrgUnitFactory(code="ROOT")
    dept = OrgUnitFactory(code="DEPT", parent=root)
    other = OrgUnitFactory(code="OTHER", parent=root)
    emp_in = EmployeeFactory(org_unit=dept)
    emp_out = EmployeeFactory(org_unit=other)
    pos_in = PositionFactory(org_unit=dept)
    pos_out = PositionFactory(org_unit=other)
    tag = TagCatalogFactory(code="python", name="Python")
    return World(
        root=root,
        dept=dept,
        other=other,
        emp_in=emp_in,
        emp_out=emp_out,
        pos_in=pos_in,
        pos_out=pos_out,
        tag=tag,
        et_in=EmployeeTagFactory(employee=emp_in, tag=tag, level=3),
        et_out=EmployeeTagFactory(employee=emp_out, tag=tag, level=5),
        pt_in=PositionTagFactory(position=pos_in, tag=tag, min_level=2),
        pt_out=PositionTagFactory(position=pos_out, tag=tag, min_level=4),
    )


@pytest.fixture
def client_for(auth_client, make_user, api_client, world):
    """``client_for(role)`` → an API client: a manager of ``dept``, an employee who is ``emp_in``, or anonymous."""

    def _client(role: str | None):
        if role is None:
            return api_client
        if role == "manager":
            return auth_client(user=make_user("manager", org_unit=world.dept))[0]
        if role == "employee":
            user = make_user("employee")
            world.emp_in.user = user
            world.emp_in.save(update_fields=["user"])
            return auth_client(user=user)[0]
        return auth_client(role)[0]

    return _client
