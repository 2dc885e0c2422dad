"""Every way a record can change reaches ``/api/audit/changes/`` with before/after and who and why: the API (with
the caller's ``X-Change-Reason``), the admin (its "Reason for this change" box), code run outside any request as
``manage.py shell`` runs it, and a data migration's ``RunPython`` function. PostgreSQL: the capture is the triggers'.
"""

import datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.audit_log.tests.conftest import assert_error, changes
from apps.demand.tests.factories import CoverageRequirementFactory
from backend.audit.context import REASON_MAX_LENGTH, audit_context

pytestmark = pytest.mark.postgres


# --- the API: X-Change-Reason -------------------------------------------------------------------------------------


def test_the_reason_header_of_an_api_edit_reaches_its_change_row(hr, auditor):
    client, user = hr
    employee = EmployeeFactory(first_name="Ada")
    reason = "Name corrected after the passport check — ticket #42"
    response = client.patch(
        f"/api/employees/{employee.pk}/", {"first_name": "Adah"}, format="json", HTTP_X_CHANGE_REASON=quote(reason)
    )
    assert response.status_code == 200, response.content
    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {"first_name": {"before": "Ada", "after": "Adah"}}
    assert (row["reason"], row["actor"]) == (reason, user.pk)


def test_the_reason_header_of_an_api_delete_reaches_its_change_row(hr, auditor):
    client, _ = hr
    requirement = CoverageRequirementFactory()
    response = client.delete(
        f"/api/coverage-requirements/{requirement.pk}/", HTTP_X_CHANGE_REASON="Duplicate%20of%20another%20requirement"
    )
    assert response.status_code == 204, response.content
    [row] = changes(auditor, model="coverage_requirement", object=requirement.pk, action="delete")
    assert row["reason"] == "Duplicate of another requirement"


def test_an_api_edit_without_a_reason_has_an_empty_reason(hr, auditor):
    client, _ = hr
    position = PositionFactory(title="Old")
    assert client.patch(f"/api/positions/{position.pk}/", {"title": "New"}, format="json").status_code == 200
    [row] = changes(auditor, model="position", object=position.pk, action="update")
    assert (row["changes"], row["reason"]) == ({"title": {"before": "Old", "after": "New"}}, "")


@pytest.mark.parametrize(
    "header",
    ["x" * (REASON_MAX_LENGTH + 1), "%FF%FE not utf-8", "line%00break"],
    ids=["too-long", "not-utf8", "control-character"],
)
def test_an_unusable_reason_header_is_a_400_and_changes_nothing(hr, auditor, header):
    client, _ = hr
    employee = EmployeeFactory(first_name="Ada")
    response = client.patch(
        f"/api/employees/{employee.pk}/", {"first_name": "Eve"}, format="json", HTTP_X_CHANGE_REASON=header
    )
    error = assert_error(response, 400, "validation_error")
    assert "X-Change-Reason" in error["details"]
    employee.refresh_from_db()
    assert employee.first_name == "Ada"
    assert changes(auditor, model="employee", object=employee.pk, action="update") == []


# --- the admin ------------------------------------------------------------------------------------------------------


def admin_form_data(response) -> dict:
    """What the browser would post back from an admin change page: the form's values and each inline's management
    form (read-only inlines are not posted: the admin drops them on POST)."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management[name].html_name: management[name].value() for name in management.fields})
    return data


def test_an_admin_edit_appears_in_the_changes_with_before_after_actor_and_reason(client, make_user, auditor):
    admin_user = make_user("admin")
    client.force_login(admin_user)
    employee = EmployeeFactory(last_name="Lovelace", contracted_weekly_hours=40)
    url = reverse("admin:api_employee_change", args=[employee.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "change_reason" in page.context["adminform"].form.fields
    data = admin_form_data(page)
    data.update(last_name="Byron", contracted_weekly_hours="32", change_reason="Married name; new contract")

    response = client.post(url, data, HTTP_X_REQUEST_ID="admin-edit-1")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response

    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {
        "last_name": {"before": "Lovelace", "after": "Byron"},
        "contracted_weekly_hours": {"before": 40.0, "after": 32.0},
    }
    assert (row["actor"], row["actor_label"]) == (admin_user.pk, admin_user.email)
    assert (row["reason"], row["request_id"]) == ("Married name; new contract", "admin-edit-1")


# --- code outside any request: manage.py shell, commands, data migrations ------------------------------------------


def test_plain_orm_code_outside_a_request_is_recorded_with_actor_database(auditor):
    # What `manage.py shell` does with no context: the triggers still record, nobody is named.
    employee = EmployeeFactory(first_name="Ada")
    employee.first_name = "Grace"
    employee.save()
    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {"first_name": {"before": "Ada", "after": "Grace"}}
    assert (row["actor"], row["actor_label"], row["reason"]) == (None, "database", "")


def test_shell_code_in_an_audit_context_is_recorded_as_system_with_its_reason(auditor):
    employee = EmployeeFactory(first_name="Ada")
    with audit_context(reason="Bulk fix of imported names"):
        Employee.objects.filter(pk=employee.pk).update(first_name="Ada M.")
    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {"first_name": {"before": "Ada", "after": "Ada M."}}
    assert (row["actor"], row["actor_label"], row["reason"]) == (None, "system", "Bulk fix of imported names")


def uppercase_last_names(apps, schema_editor):
    """A data migration's ``RunPython`` function, as one would write it: historical models, plain ORM."""
    Employee = apps.get_model("api", "Employee")
    for employee in Employee.objects.filter(last_name__startswith="van "):
        employee.last_name = employee.last_name.replace("van ", "Van ", 1)
        employee.save(update_fields=["last_name"])


def test_a_data_migration_is_recorded_with_before_and_after(auditor):
    employee = EmployeeFactory(last_name="van Gogh")
    untouched = EmployeeFactory(last_name="Rembrandt")
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(executor.loader.graph.leaf_nodes())
    with connection.schema_editor() as schema_editor:
        uppercase_last_names(state.apps, schema_editor)

    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {"last_name": {"before": "van Gogh", "after": "Van Gogh"}}
    assert row["actor_label"] == "database"
    assert changes(auditor, model="employee", object=untouched.pk, action="update") == []
