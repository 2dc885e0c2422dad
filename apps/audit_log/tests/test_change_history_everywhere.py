"""The change history on either database: the triggers record it on PostgreSQL, ``backend.audit.recorder`` records
the same rows from Python on SQLite (no triggers there), and the read side answers the same. These tests run on
both; the ones that pin down one path are marked. Transactions really commit here: the Python recorder writes when
its transaction commits, as a trigger's row lives or dies with its transaction."""

import datetime
import time

import pytest
from django.db import connection, transaction

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory
from apps.audit_log.models import EmployeeEvent
from apps.audit_log.tests.conftest import CHANGES_URL, changes
from backend.audit.context import audit_context

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_api_edit_is_recorded_with_before_after_actor_request_and_reason(hr, auditor):
    client, user = hr
    employee = EmployeeFactory(hire_date=datetime.date(2026, 1, 5))
    old_unit, new_unit = employee.org_unit, OrgUnitFactory()
    response = client.patch(
        f"/api/employees/{employee.pk}/",
        {"hire_date": "2026-02-01", "org_unit": new_unit.pk},
        format="json",
        HTTP_X_REQUEST_ID="req-everywhere-1",
        HTTP_X_CHANGE_REASON="moved%20to%20the%20new%20site",
    )
    assert response.status_code == 200, response.content

    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {
        "hire_date": {"before": "2026-01-05", "after": "2026-02-01"},
        "org_unit": {"before": old_unit.pk, "after": new_unit.pk},
    }
    assert (row["actor"], row["actor_email"]) == (user.pk, user.email)
    assert (row["request_id"], row["reason"]) == ("req-everywhere-1", "moved to the new site")
    # The same row through the other read paths: the filters, one row, the record's history.
    by_field = changes(auditor, model="employee", field="org_unit", object=employee.pk)
    assert [r["action"] for r in by_field] == ["create", "update"]  # the insert sets it, the update changes it
    assert changes(auditor, model="employee", field="last_name", object=employee.pk, action="update") == []
    assert changes(auditor, model="employee", object=employee.pk, actor=user.pk) == [row]
    assert auditor.get(f"{CHANGES_URL}{row['id']}/").json() == row
    history = auditor.get(f"/api/audit/employees/{employee.pk}/history/").json()
    assert [(i["kind"], i.get("action")) for i in history] == [("change", "create"), ("change", "update")]


def test_each_change_is_recorded_once(hr, auditor):
    client, _ = hr
    employee = EmployeeFactory(first_name="Ada")
    assert client.patch(f"/api/employees/{employee.pk}/", {"first_name": "Eve"}, format="json").status_code == 200
    # Both paths are live in the process; only one of them writes (the triggers on PostgreSQL, Python elsewhere).
    labels = list(EmployeeEvent.objects.filter(pgh_obj_id=employee.pk).values_list("pgh_label", flat=True))
    assert labels == ["insert", "update"]
    assert [r["action"] for r in changes(auditor, object=employee.pk, model="employee")] == ["create", "update"]


def test_a_save_that_changes_no_tracked_field_writes_nothing(auditor):
    employee = EmployeeFactory()
    employee.save()  # only updated_at moves, which is not tracked
    Employee.objects.get(pk=employee.pk).save()
    assert list(EmployeeEvent.objects.filter(pgh_obj_id=employee.pk).values_list("pgh_label", flat=True)) == ["insert"]


def test_code_outside_a_request_is_database_and_in_a_context_system_with_its_reason(auditor):
    employee = EmployeeFactory(first_name="Ada")
    employee.first_name = "Grace"
    employee.save()
    time.sleep(0.002)
    with audit_context(reason="clean-up"):
        employee.last_name = "Hopper"
        employee.save()
    rows = changes(auditor, model="employee", object=employee.pk, action="update")
    assert [(r["actor_label"], r["reason"], list(r["changes"])) for r in rows] == [
        ("database", "", ["first_name"]),
        ("system", "clean-up", ["last_name"]),
    ]


def test_a_delete_is_recorded_with_the_last_values(auditor):
    employee = EmployeeFactory(first_name="Gone", employee_number="E-GONE")
    pk = employee.pk
    employee.delete()
    [row] = changes(auditor, model="employee", object=pk, action="delete")
    assert row["changes"]["first_name"] == {"before": "Gone", "after": None}
    assert row["changes"]["employee_number"] == {"before": "E-GONE", "after": None}


def _save_then_fail(employee) -> None:
    with transaction.atomic():
        employee.first_name = "Never"
        employee.save()
        raise RuntimeError("the service failed after the save")


def test_a_rolled_back_change_leaves_no_row(auditor):
    employee = EmployeeFactory(first_name="Ada")
    with pytest.raises(RuntimeError):
        _save_then_fail(employee)
    assert changes(auditor, model="employee", object=employee.pk, action="update") == []


def test_since_and_until_filter_on_the_change_time(auditor):
    employee = EmployeeFactory()
    created = EmployeeEvent.objects.get(pgh_obj_id=employee.pk).pgh_created_at
    after = (created + datetime.timedelta(seconds=1)).isoformat()
    assert changes(auditor, object=employee.pk, model="employee", since=after) == []
    assert len(changes(auditor, object=employee.pk, model="employee", until=after)) == 1


def test_queryset_updates_are_recorded_by_the_triggers_and_not_by_the_python_recorder(auditor):
    # Documented best effort: QuerySet.update() sends no signal, so only the triggers (PostgreSQL) record it.
    employee = EmployeeFactory(first_name="Ada")
    Employee.objects.filter(pk=employee.pk).update(first_name="Eve")
    recorded = changes(auditor, object=employee.pk, model="employee", action="update")
    if connection.vendor == "postgresql":
        assert len(recorded) == 1
        assert recorded[0]["changes"]["first_name"] == {"before": "Ada", "after": "Eve"}
    else:
        assert recorded == []
