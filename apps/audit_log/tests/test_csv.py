"""Audit lists as CSV (?format=csv): every matching row, one column per field, safe to open in a spreadsheet."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit_log.api import views
from apps.audit_log.tests.conftest import EMPLOYEE_TRANSITIONS_URL, TAG_CHANGES_URL, assert_error

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
