"""Employees over the API: CRUD through the services, state never writable, duplicates, deletes, transitions."""

import datetime

import pytest

from apps.api.models import Employee
from apps.api.tests.conftest import EMPLOYEES_URL, assert_error, detail_url
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition


@pytest.fixture
def hr(auth_client):
    return auth_client("hr")


@pytest.fixture
def hr_client(hr):
    return hr[0]


def _body(world, **overrides) -> dict:
    return {
        "employee_number": "E-NEW",
        "first_name": "Katherine",
        "last_name": "Johnson",
        "email": "katherine@coveris.test",
        "org_unit": world.child.pk,
        "contracted_weekly_hours": "32.00",
        "hire_date": "2026-03-02",
        **overrides,
    }


def test_create_starts_pending_with_org_unit_read_fields(hr_client, world):
    response = hr_client.post(EMPLOYEES_URL, _body(world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "pending"
    assert body["termination_date"] is None
    assert (body["org_unit_code"], body["org_unit_name"]) == ("SALES", "Sales")
    assert body["full_name"] == "Katherine Johnson"
    assert Employee.objects.get(pk=body["id"]).state == "pending"


@pytest.mark.parametrize("field", ["state", "termination_date"])
@pytest.mark.parametrize("value", ["active", "pending", None, "2026-05-01"])
def test_create_with_a_lifecycle_field_is_400(hr_client, world, field, value):
    response = hr_client.post(EMPLOYEES_URL, _body(world, **{field: value}))
    error = assert_error(response, 400, "validation_error", field)
    assert "POST /api/employees/{id}/transitions/" in error["details"][field][0]
    assert not Employee.objects.filter(employee_number="E-NEW").exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_state_is_400_pointing_to_the_transitions_endpoint(hr_client, world, method):
    url = detail_url(EMPLOYEES_URL, world.employee.pk)
    body = {"state": "active", "first_name": "Changed"}
    if method == "put":
        body = _body(world, employee_number="E-CHILD", email="ada@coveris.test", **body)
    error = assert_error(getattr(hr_client, method)(url, body), 400, "validation_error", "state")
    assert f"POST /api/employees/{world.employee.pk}/transitions/" in error["details"]["state"][0]
    world.employee.refresh_from_db()
    assert (world.employee.state, world.employee.first_name) == ("pending", "Ada")


def test_state_refusal_is_reported_beside_other_field_errors(hr_client, world):
    response = hr_client.patch(detail_url(EMPLOYEES_URL, world.employee.pk), {"state": "x", "hire_date": "nope"})
    assert_error(response, 400, "validation_error", "state", "hire_date")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"employee_number": "E-CHILD"}, "employee_number"),
        ({"email": "<ada's email, upper case>"}, "email"),  # compared case-insensitively
        ({"email": "not-an-email"}, "email"),
        ({"hire_date": "2026-02-30"}, "hire_date"),
        ({"hire_date": "02/03/2026"}, "hire_date"),
        ({"hire_date": None}, "hire_date"),
        ({"contracted_weekly_hours": "-1"}, "contracted_weekly_hours"),
        ({"contracted_weekly_hours": "200"}, "contracted_weekly_hours"),
        ({"contracted_weekly_hours": "1234567"}, "contracted_weekly_hours"),
        ({"org_unit": 999999}, "org_unit"),
        ({"user": 999999}, "user"),
    ],
)
def test_bad_employee_bodies_are_400_naming_the_field(hr_client, world, overrides, field):
    if overrides.get("email", "").startswith("<"):
        overrides = {"email": world.employee.email.upper()}
    count = Employee.objects.count()
    assert_error(hr_client.post(EMPLOYEES_URL, _body(world, **overrides)), 400, "validation_error", field)
    assert Employee.objects.count() == count


def test_email_is_stored_lowercase(hr_client, world):
    response = hr_client.post(EMPLOYEES_URL, _body(world, email="Katherine.J@Coveris.TEST"))
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "katherine.j@coveris.test"


def test_a_user_links_to_one_employee_only(hr_client, world):
    response = hr_client.post(EMPLOYEES_URL, _body(world, user=world.employee_user.pk))
    assert_error(response, 400, "validation_error", "user")


def test_duplicate_on_update_is_400(hr_client, world):
    url = detail_url(EMPLOYEES_URL, world.outsider.pk)
    assert_error(hr_client.patch(url, {"employee_number": "E-CHILD"}), 400, "validation_error", "employee_number")
    assert_error(hr_client.patch(url, {"email": world.employee.email.upper()}), 400, "validation_error", "email")


def test_hire_date_after_termination_is_400(hr, world):
    client, user = hr
    employee_transition(
        employee_id=world.employee.pk, name="terminate", actor=user, effective_date=datetime.date(2026, 2, 1)
    )
    response = client.patch(detail_url(EMPLOYEES_URL, world.employee.pk), {"hire_date": "2026-03-01"})
    assert_error(response, 400, "validation_error", "hire_date")


def test_update_goes_through_and_keeps_state(hr, world):
    client, user = hr
    employee_transition(employee_id=world.employee.pk, name="activate", actor=user)
    response = client.patch(detail_url(EMPLOYEES_URL, world.employee.pk), {"org_unit": world.grandchild.pk})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "active"
    assert response.json()["org_unit_code"] == "SALES-N"


def test_delete_employee_without_history(hr_client, world):
    assert hr_client.delete(detail_url(EMPLOYEES_URL, world.outsider.pk)).status_code == 204
    assert not Employee.objects.filter(pk=world.outsider.pk).exists()


def test_delete_employee_with_transition_log_is_409(hr, world):
    client, user = hr
    employee_transition(employee_id=world.employee.pk, name="activate", actor=user)
    error = assert_error(client.delete(detail_url(EMPLOYEES_URL, world.employee.pk)), 409, "conflict")
    assert error["details"]["protected_by"]
    assert Employee.objects.filter(pk=world.employee.pk).exists()
    assert EmployeeTransitionLog.objects.filter(employee=world.employee).count() == 1


def test_manager_lists_their_subtree_only(auth_client, world):
    client, _ = auth_client("manager", org_unit=world.child)
    numbers = sorted(r["employee_number"] for r in client.get(EMPLOYEES_URL).json()["results"])
    assert numbers == ["E-CHILD", "E-GRAND"]
    assert_error(client.get(detail_url(EMPLOYEES_URL, world.outsider.pk)), 404, "not_found")


def test_manager_without_org_unit_lists_nothing(auth_client, world):
    client, _ = auth_client("manager")
    assert client.get(EMPLOYEES_URL).json()["count"] == 0


def test_employee_reads_own_record_only(auth_client, world):
    client, _ = auth_client(user=world.employee_user)
    rows = client.get(EMPLOYEES_URL).json()["results"]
    assert [r["employee_number"] for r in rows] == ["E-CHILD"]
    assert client.get(detail_url(EMPLOYEES_URL, world.employee.pk)).json()["id"] == world.employee.pk
    assert_error(client.get(detail_url(EMPLOYEES_URL, world.grand_employee.pk)), 404, "not_found")
    assert_error(
        client.patch(detail_url(EMPLOYEES_URL, world.employee.pk), {"first_name": "Me"}), 403, "permission_denied"
    )


# --- transitions through the employees endpoint ----------------------------------------------------


def test_transition_writes_log_row_and_returns_the_employee(hr, world):
    client, user = hr
    url = f"{detail_url(EMPLOYEES_URL, world.employee.pk)}transitions/"
    response = client.post(url, {"transition": "activate", "reason": "first day", "effective_date": "2026-01-05"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["employee"]["state"] == "active"
    assert body["employee"]["org_unit_code"] == "SALES"
    log = EmployeeTransitionLog.objects.get(employee=world.employee)
    assert (log.transition, log.source_state, log.target_state) == ("activate", "pending", "active")
    assert (log.actor_id, log.actor_email, log.reason) == (user.pk, user.email, "first day")
    assert body["log_entry"]["id"] == log.pk


def test_transition_not_open_is_409(hr_client, world):
    url = f"{detail_url(EMPLOYEES_URL, world.employee.pk)}transitions/"
    error = assert_error(hr_client.post(url, {"transition": "reinstate"}), 409, "transition_not_allowed")
    assert error["details"]["current_state"] == "pending"
    assert not EmployeeTransitionLog.objects.exists()


def test_unknown_transition_is_400(hr_client, world):
    url = f"{detail_url(EMPLOYEES_URL, world.employee.pk)}transitions/"
    assert_error(hr_client.post(url, {"transition": "promote"}), 400, "validation_error", "transition")


def test_dry_run_changes_nothing(hr_client, world):
    url = f"{detail_url(EMPLOYEES_URL, world.employee.pk)}transitions/"
    response = hr_client.post(url, {"transition": "activate", "dry_run": True})
    assert response.status_code == 200, response.content
    assert response.json()["dry_run"] is True
    assert response.json()["allowed"] is True
    world.employee.refresh_from_db()
    assert world.employee.state == "pending"
    assert not EmployeeTransitionLog.objects.exists()
