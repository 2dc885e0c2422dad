import pytest

from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.fsm.services import employee_transition


@pytest.fixture
def hr(make_user):
    return make_user("hr")


@pytest.fixture
def active_employee(hr):
    """An active employee on a 40 h contract."""
    employee = EmployeeFactory(contracted_weekly_hours=40)
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    return type(employee).objects.get(pk=employee.pk)


@pytest.fixture
def tree(db):
    """root ─┬─ east (position P_EAST)      west (position P_WEST) is a second root."""
    root = OrgUnitFactory(code="ROOT")
    east = OrgUnitFactory(code="EAST", parent=root)
    west = OrgUnitFactory(code="WEST")
    return {
        "root": root,
        "east": east,
        "west": west,
        "p_east": PositionFactory(code="P_EAST", org_unit=east),
        "p_west": PositionFactory(code="P_WEST", org_unit=west),
    }
