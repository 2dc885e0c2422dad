"""Every role × every endpoint and method of org units, positions and employees (SPEC §3)."""

import itertools

import pytest

from apps.api.models import Employee, OrgUnit, Position
from apps.api.tests.conftest import EMPLOYEES_URL, ORG_UNITS_URL, POSITIONS_URL, assert_error, detail_url
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.fsm.models import EmployeeTransitionLog

ROLES = ["admin", "hr", "manager", "auditor", "employee", "none", "anonymous"]
ACTIONS = ["list", "retrieve", "create", "update", "delete"]
RESOURCES = ["org-units", "positions", "employees"]

WRITER = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "delete": 204}
READER = {"list": 200, "retrieve": 200, "create": 403, "update": 403, "delete": 403}
EXPECTED = {
    "admin": WRITER,
    "hr": WRITER,
    "manager": READER,
    "auditor": READER,
    "employee": READER,
    "none": dict.fromkeys(ACTIONS, 403),
    "anonymous": dict.fromkeys(ACTIONS, 401),
}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


def _targets(resource: str, world):
    """(base url, object every reader may retrieve, a deletable object, create body, update body)."""
    if resource == "org-units":
        leaf = OrgUnitFactory(code="LEAF", parent=world.child)
        return ORG_UNITS_URL, world.child, leaf, {"code": "NEW", "name": "New", "parent": world.child.pk}, {"name": "X"}
    if resource == "positions":
        spare = PositionFactory(code="SPARE", org_unit=world.child)
        body = {"code": "NEWPOS", "title": "New", "org_unit": world.child.pk, "standard_weekly_hours": "20.00"}
        return POSITIONS_URL, world.position, spare, body, {"title": "Renamed"}
    spare = EmployeeFactory(employee_number="E-SPARE", org_unit=world.child)
    body = {
        "employee_number": "E-NEW",
        "first_name": "New",
        "last_name": "Person",
        "email": "new.person@coveris.test",
        "org_unit": world.child.pk,
        "hire_date": "2026-02-02",
    }
    return EMPLOYEES_URL, world.employee, spare, body, {"first_name": "Renamed"}


MODELS = {"org-units": OrgUnit, "positions": Position, "employees": Employee}


@pytest.mark.parametrize(("resource", "role", "action"), list(itertools.product(RESOURCES, ROLES, ACTIONS)))
def test_permission_matrix(resource, role, action, world, role_client):
    client = role_client(role)
    base, readable, deletable, create_body, update_body = _targets(resource, world)
    model = MODELS[resource]
    count_before = model.objects.count()
    calls = {
        "list": lambda: client.get(base),
        "retrieve": lambda: client.get(detail_url(base, readable.pk)),
        "create": lambda: client.post(base, create_body),
        "update": lambda: client.patch(detail_url(base, readable.pk), update_body),
        "delete": lambda: client.delete(detail_url(base, deletable.pk)),
    }
    response = calls[action]()
    expected = EXPECTED[role][action]
    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
        assert model.objects.count() == count_before  # nothing written on refusal
        readable.refresh_from_db(fields=list(update_body))
        assert all(getattr(readable, f) != v for f, v in update_body.items())
        return
    assert response.status_code == expected, response.content
    if action == "create":
        assert model.objects.count() == count_before + 1
    elif action == "delete":
        assert not model.objects.filter(pk=deletable.pk).exists()
    elif action == "update":
        assert all(response.json()[f] == v for f, v in update_body.items())


TRANSITIONS_EXPECTED = {
    # GET lists the options to whoever can see the employee; POST reaches the service, which only lets admin/hr act.
    "admin": (200, 200),
    "hr": (200, 200),
    "manager": (200, 403),
    "auditor": (200, 403),
    "employee": (200, 403),
    "none": (403, 403),
    "anonymous": (401, 401),
}


@pytest.mark.parametrize("role", ROLES)
def test_transitions_endpoint_per_role(role, world, role_client):
    client = role_client(role)
    url = f"{detail_url(EMPLOYEES_URL, world.employee.pk)}transitions/"
    get_status, post_status = TRANSITIONS_EXPECTED[role]

    response = client.get(url)
    if get_status == 200:
        assert response.status_code == 200, response.content
        options = {o["name"]: o for o in response.json()}
        assert set(options) == {
            "activate",
            "start_leave",
            "return_from_leave",
            "suspend",
            "reinstate",
            "terminate",
            "rehire",
        }
        assert options["activate"]["allowed"] is (post_status == 200)
    else:
        assert_error(response, get_status, ERROR_CODES[get_status])

    response = client.post(url, {"transition": "activate", "reason": "first day"})
    world.employee.refresh_from_db()
    if post_status == 200:
        assert response.status_code == 200, response.content
        assert response.json()["employee"]["state"] == "active"
        assert world.employee.state == "active"
        assert EmployeeTransitionLog.objects.filter(employee=world.employee).count() == 1
    else:
        assert_error(response, post_status, ERROR_CODES[post_status])
        assert world.employee.state == "pending"
        assert not EmployeeTransitionLog.objects.exists()


@pytest.mark.parametrize(
    ("role", "resource", "target"),
    [
        ("manager", "org-units", "other"),
        ("manager", "positions", "outside_position"),
        ("manager", "employees", "outsider"),
        ("employee", "employees", "grand_employee"),
        ("employee", "employees", "outsider"),
        ("employee", "org-units", "root"),
        ("employee", "org-units", "grandchild"),
        ("employee", "positions", "outside_position"),
    ],
)
def test_out_of_scope_objects_answer_404(role, resource, target, world, role_client):
    client = role_client(role)
    base = {"org-units": ORG_UNITS_URL, "positions": POSITIONS_URL, "employees": EMPLOYEES_URL}[resource]
    pk = getattr(world, target).pk
    assert_error(client.get(detail_url(base, pk)), 404, "not_found")


@pytest.mark.parametrize("role", ["manager", "employee"])
def test_transitions_on_out_of_scope_employee_answer_404(role, world, role_client):
    client = role_client(role)
    url = f"{detail_url(EMPLOYEES_URL, world.outsider.pk)}transitions/"
    assert_error(client.get(url), 404, "not_found")
    assert_error(client.post(url, {"transition": "activate"}), 404, "not_found")


def test_writer_gets_404_not_403_for_a_missing_object(role_client, world):
    client = role_client("hr")
    assert_error(client.patch(detail_url(EMPLOYEES_URL, 999999), {"first_name": "X"}), 404, "not_found")
    assert_error(client.delete(detail_url(ORG_UNITS_URL, 999999)), 404, "not_found")


@pytest.mark.parametrize("role", ["admin", "hr"])
def test_put_replaces_an_employee(role, role_client, world):
    body = {
        "employee_number": "E-CHILD",
        "first_name": "Augusta",
        "last_name": "King",
        "email": "augusta@coveris.test",
        "org_unit": world.grandchild.pk,
        "hire_date": "2026-01-05",
        "contracted_weekly_hours": "32.00",
    }
    response = role_client(role).put(detail_url(EMPLOYEES_URL, world.employee.pk), body)
    assert response.status_code == 200, response.content
    world.employee.refresh_from_db()
    assert (world.employee.first_name, world.employee.org_unit_id) == ("Augusta", world.grandchild.pk)


def test_method_not_allowed_is_in_error_shape(role_client, world):
    response = role_client("admin").put(ORG_UNITS_URL, {})
    assert_error(response, 405, "method_not_allowed")
