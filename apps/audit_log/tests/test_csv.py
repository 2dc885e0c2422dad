"""Audit lists as CSV (?format=csv): every matching row, one column per field, safe to open in a spreadsheet."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.api.tests.factories import PositionFactory
from apps.assignments.models import AssignmentTransitionLog
from apps.assignments.services import assignment_create, assignment_transition
from apps.audit_log import admin as audit_admin
from apps.audit_log.api import views
from apps.audit_log.tests.conftest import EMPLOYEE_TRANSITIONS_URL, TAG_CHANGES_URL, assert_error
from apps.fsm.models import EmployeeTransitionLog
from apps.tags.models import TagChangeLog

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_employee_transitions_export_every_row_with_json_cells(auth_client, employee, transition):
    for name in ("activate", "start_leave", "return_from_leave"):
        transition(employee, name)
    client, _ = auth_client("auditor")
    response = client.get(EMPLOYEE_TRANSITIONS_URL, {"format": "csv", "page_size": 1})
    rows = _rows(response)
    assert [r["transition"] for r in rows] == ["activate", "start_leave", "return_from_leave"]  # not one page
    assert rows[0]["employee"] == str(employee.pk)
    assert isinstance(json.loads(rows[0]["rule_results"]), list)
    assert "attachment" in response["Content-Disposition"]
    assert rows[0]["hash"] == client.get(EMPLOYEE_TRANSITIONS_URL).json()["results"][0]["hash"]


def test_filters_apply_to_the_export(auth_client, employee, transition):
    transition(employee, "activate")
    transition(employee, "suspend")
    client, _ = auth_client("hr")
    rows = _rows(client.get(EMPLOYEE_TRANSITIONS_URL, {"format": "csv", "transition": "suspend"}))
    assert [r["transition"] for r in rows] == ["suspend"]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(auth_client, employee, hr_user):
    from apps.fsm.services import employee_transition

    employee_transition(employee_id=employee.pk, name="activate", actor=hr_user, reason='=HYPERLINK("http://x.test")')
    client, _ = auth_client("auditor")
    rows = _rows(client.get(EMPLOYEE_TRANSITIONS_URL, HTTP_ACCEPT="text/csv"))
    assert rows[0]["reason"].startswith("'=")


def test_an_export_larger_than_the_cap_is_a_400_not_a_truncated_file(auth_client, employee, transition, monkeypatch):
    monkeypatch.setattr(views, "CSV_MAX_ROWS", 1)
    transition(employee, "activate")
    transition(employee, "suspend")
    client, _ = auth_client("auditor")
    error = assert_error(client.get(EMPLOYEE_TRANSITIONS_URL, {"format": "csv"}), 400, "validation_error")
    assert "narrow" in json.dumps(error["details"])


def test_refusals_keep_the_json_error_shape(auth_client, employee, transition):
    transition(employee, "activate")
    client, _ = auth_client("manager")
    assert_error(client.get(EMPLOYEE_TRANSITIONS_URL, {"format": "csv"}), 403, "permission_denied")


def test_tag_changes_export_and_constant_queries(auth_client, employee, tag_change):
    client, _ = auth_client("auditor")
    tag_change(employee=employee)
    with CaptureQueriesContext(connection) as one:
        assert len(_rows(client.get(TAG_CHANGES_URL, {"format": "csv"}))) == 1
    for _ in range(5):
        tag_change(employee=employee)
    with CaptureQueriesContext(connection) as six:
        assert len(_rows(client.get(TAG_CHANGES_URL, {"format": "csv"}))) == 6
    assert len(six) == len(one)


def test_exports_carry_employee_number_name_position_code_and_actor_email(auth_client, employee, hr_user, db):
    import datetime
    from decimal import Decimal

    from apps.api.tests.factories import PositionFactory
    from apps.assignments.services import assignment_create, assignment_transition
    from apps.fsm.services import employee_transition

    employee_transition(employee_id=employee.pk, name="activate", actor=hr_user)
    position = PositionFactory(code="P_CSV")
    assignment, *_ = assignment_create(
        actor=hr_user,
        employee=employee,
        position=position,
        start_date=datetime.date(2026, 2, 2),
        weekly_hours=Decimal(5),
    )
    assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr_user, reason="ok")
    client, _ = auth_client("auditor")
    name = f"{employee.first_name} {employee.last_name}"

    [row] = _rows(client.get(EMPLOYEE_TRANSITIONS_URL, {"format": "csv"}))
    assert (row["employee_number"], row["employee_name"], row["actor_email"]) == (
        employee.employee_number,
        name,
        hr_user.email,
    )
    [row] = _rows(client.get("/api/audit/assignment-transitions/", {"format": "csv"}))
    assert (row["employee_number"], row["employee_name"], row["position_code"]) == (
        employee.employee_number,
        name,
        "P_CSV",
    )
    assert row["actor_email"] == hr_user.email


# --- the same export from the admin's audit lists ---------------------------------------------------------------

ADMIN_LISTS = [
    (EmployeeTransitionLog, EMPLOYEE_TRANSITIONS_URL),
    (AssignmentTransitionLog, "/api/audit/assignment-transitions/"),
    (TagChangeLog, TAG_CHANGES_URL),
]


@pytest.fixture
def every_log(employee, hr_user, transition, tag_change):
    """One row or more in each audit list, naming the employee and (the assignment's) position P_ADMIN."""
    transition(employee, "activate")
    assignment, *_ = assignment_create(
        actor=hr_user,
        employee=employee,
        position=PositionFactory(code="P_ADMIN"),
        start_date=datetime.date(2026, 2, 2),
        weekly_hours=Decimal(5),
    )
    assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr_user, reason="ok")
    tag_change(employee=employee)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize(("model", "api_url"), ADMIN_LISTS)
def test_the_admin_exports_an_audit_list_as_the_api_does(
    client, auth_client, employee, hr_user, every_log, model, api_url
):
    client.force_login(hr_user)
    assert "export_csv" in client.get(_changelist(model)).content.decode()
    pks = list(model.objects.values_list("pk", flat=True))
    admin_rows = _rows(client.post(_changelist(model), {"action": "export_csv", "_selected_action": pks}))
    api, _ = auth_client("auditor")
    assert admin_rows == _rows(api.get(api_url, {"format": "csv"}))  # one mapping: the same columns and cells
    assert {row["employee_number"] for row in admin_rows} == {employee.employee_number}
    assert {row["employee_name"] for row in admin_rows} == {f"{employee.first_name} {employee.last_name}"}
    if model is AssignmentTransitionLog:
        assert {row["position_code"] for row in admin_rows} == {"P_ADMIN"}


def test_an_admin_export_over_the_cap_exports_nothing_and_says_why(client, hr_user, every_log, monkeypatch):
    monkeypatch.setattr(audit_admin, "CSV_MAX_ROWS", 0)
    client.force_login(hr_user)
    url = _changelist(EmployeeTransitionLog)
    pks = list(EmployeeTransitionLog.objects.values_list("pk", flat=True))
    response = client.post(url, {"action": "export_csv", "_selected_action": pks}, follow=True)
    assert "narrow the list" in response.content.decode()
    assert not response["Content-Type"].startswith("text/csv")
