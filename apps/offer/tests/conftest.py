"""Fixtures for the ledger tests: people moved by real transitions, a small org tree, a settable clock."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.api.models import Employee
from apps.api.services import employee_create
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.assignments.services import assignment_create, assignment_transition
from apps.fsm.services import employee_transition
from apps.offer import services as offer_services

D = datetime.date
HIRE = D(2026, 1, 5)  # a Monday


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The response has this status and the one error shape with this code (and names ``field``)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    if field is not None:
        assert field in (body["error"]["details"] or {}), body
    return body["error"]


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A UTC moment on ``day``."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)


def week_rows(body: dict, employee_id: int) -> dict[str, dict]:
    """A balances response's rows of one employee, by week (Monday, ISO text)."""
    return {row["week"]: row for row in body["results"] if row["employee"] == employee_id}


def hours(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
def hr(make_user):
    return make_user("hr")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def hire(db):
    """``hire(**fields)`` → a pending employee created through the service (40 h contract, hired HIRE)."""

    def _hire(**fields) -> Employee:
        if "org_unit" not in fields:
            fields["org_unit"] = OrgUnitFactory()
        defaults = EmployeeFactory.build(org_unit=fields["org_unit"])
        data = {
            "employee_number": defaults.employee_number,
            "first_name": defaults.first_name,
            "last_name": defaults.last_name,
            "email": defaults.email,
            "contracted_weekly_hours": Decimal(40),
            "hire_date": HIRE,
            **fields,
        }
        return employee_create(**data)

    return _hire


@pytest.fixture
def move(hr):
    """``move(employee, name, day, **kw)``: one employee transition by HR, effective ``day``."""

    def _move(employee: Employee, name: str, day: datetime.date, **kwargs):
        return employee_transition(
            employee_id=employee.pk, name=name, actor=kwargs.pop("actor", hr), effective_date=day, **kwargs
        )

    return _move


@pytest.fixture
def active(hire, move):
    """``active(**fields)`` → an employee activated on their hire date."""

    def _active(**fields) -> Employee:
        employee = hire(**fields)
        move(employee, "activate", employee.hire_date)
        return Employee.objects.get(pk=employee.pk)

    return _active


@pytest.fixture
def assign(hr):
    """``assign(employee, start, end, weekly_hours, state="approved")`` → an assignment brought to ``state``."""
    paths = {"proposed": [], "approved": ["approve"], "active": ["approve", "activate"]}

    def _assign(employee, start, end=None, weekly_hours=20, state="approved", position=None):
        assignment, _ = assignment_create(
            actor=hr,
            employee=employee,
            position=position or PositionFactory(org_unit=employee.org_unit),
            start_date=start,
            end_date=end,
            weekly_hours=Decimal(weekly_hours),
        )
        for name in paths[state]:
            assignment_transition(assignment_id=assignment.pk, name=name, actor=hr, effective_date=start)
        return Assignment.objects.get(pk=assignment.pk)

    return _assign


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)`` makes ``timezone.now()`` answer ``moment`` (the API's clock-in/out read it)."""

    def _set(moment: datetime.datetime):
        monkeypatch.setattr(offer_services.timezone, "now", lambda: moment)
        return moment

    return _set


@dataclass
class World:
    """``east`` (under ``root``) is the manager's unit; ``west`` is outside it."""

    root: object
    east: object
    west: object
    emp_in: Employee
    emp_out: Employee
    employee_user: object
    manager: object


@pytest.fixture
def world(active, make_user) -> World:
    root = OrgUnitFactory(code="ROOT")
    east = OrgUnitFactory(code="EAST", parent=root)
    west = OrgUnitFactory(code="WEST")
    employee_user = make_user("employee")
    emp_in = active(org_unit=east, user=employee_user)
    emp_out = active(org_unit=west)
    manager = make_user("manager", org_unit=east)
    return World(root, east, west, emp_in, emp_out, employee_user, manager)


@pytest.fixture
def client_as(auth_client, make_user, world, api_client):
    """``client_as(role)``: a client for ``role``; "employee" is emp_in's user, "manager" manages east,
    "none" has no role, None is anonymous."""

    def _client(role):
        if role is None:
            return api_client
        if role == "employee":
            return auth_client(user=world.employee_user)[0]
        if role == "manager":
            return auth_client(user=world.manager)[0]
        if role == "none":
            return auth_client(user=make_user(""))[0]
        return auth_client(role)[0]

    return _client


def today() -> datetime.date:
    return timezone.localdate()


def weekly(employee, start: datetime.date, end: datetime.date) -> dict[str, tuple[str, ...]]:
    """The selector's rows for one employee: {Monday ISO: (contracted, assigned, leave, worked, available)}."""
    from apps.offer.selectors import balance_rows

    columns = ("contracted", "assigned", "leave", "worked", "available")
    rows = balance_rows(employee_ids=[employee.pk], start=start, end=end)
    return {row["week"].isoformat(): tuple(str(row[c]) for c in columns) for row in rows}


def column(employee, name: str, start: datetime.date, end: datetime.date) -> list[str]:
    """One column of ``weekly``, week by week."""
    index = ("contracted", "assigned", "leave", "worked", "available").index(name)
    return [values[index] for values in weekly(employee, start, end).values()]
