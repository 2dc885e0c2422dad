"""The change history: every create, update and delete of a tracked record, captured by database triggers
(django-pghistory), with before/after, the actor (or "database"), the request id; its lists, a record's history,
the as-of record, and its hash chain. PostgreSQL only: the capture is done by triggers. (An API edit's row, on
either database: test_change_history_everywhere.py.)"""

import datetime
import time

import pghistory
import pgtrigger
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.models import EmployeeEvent
from apps.audit_log.tests.conftest import CHANGES_URL, VERIFY_URL, assert_error, changes
from apps.fsm.services import employee_transition
from backend.audit.chain import chain_verify

pytestmark = pytest.mark.postgres


def test_a_raw_sql_update_is_recorded_with_actor_database(auditor):
    employee = EmployeeFactory(first_name="Ada")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE api_employee SET first_name = 'Grace' WHERE id = %s", [employee.pk])
    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert row["changes"] == {"first_name": {"before": "Ada", "after": "Grace"}}
    assert (row["actor"], row["actor_label"], row["request_id"]) == (None, "database", "")


def test_a_deleted_employee_is_recorded_with_its_last_values(auditor):
    employee = EmployeeFactory(first_name="Gone", employee_number="E-GONE")
    pk = employee.pk
    Employee.objects.filter(pk=pk).update(last_name="Later")
    Employee.objects.filter(pk=pk).delete()
    [row] = changes(auditor, model="employee", object=pk, action="delete")
    assert row["changes"]["first_name"] == {"before": "Gone", "after": None}
    assert row["changes"]["last_name"] == {"before": "Later", "after": None}
    assert row["changes"]["employee_number"] == {"before": "E-GONE", "after": None}
    assert [r["action"] for r in changes(auditor, object=pk, model="employee")] == ["create", "update", "delete"]


def test_a_user_role_change_is_recorded(auditor, make_user):
    user = make_user("employee")
    user.role = "hr"
    user.save()
    rows = changes(auditor, model="user", object=user.pk, field="role")
    assert rows[-1]["changes"]["role"] == {"before": "employee", "after": "hr"}


def test_a_transition_writes_no_change_row(hr, auditor):
    client, user = hr
    employee = EmployeeFactory()
    employee_transition(employee_id=employee.pk, name="activate", actor=user)
    assert [r["action"] for r in changes(auditor, model="employee", object=employee.pk)] == ["create"]


def test_filters_refuse_bad_values(auditor):
    for params, field in [
        ({"model": "nope"}, "model"),
        ({"action": "upsert"}, "action"),
        ({"object": "x"}, "object"),
        ({"actor": "1.5"}, "actor"),
        ({"since": "yesterday"}, "since"),
    ]:
        error = assert_error(auditor.get(CHANGES_URL, params), 400, "validation_error")
        assert field in error["details"], (params, error)


def test_changes_need_an_audit_role(auth_client):
    assert auth_client("employee")[0].get(CHANGES_URL).status_code == 403
    assert auth_client("auditor")[0].post(CHANGES_URL, {}).status_code == 405


def test_the_changes_list_query_count_does_not_grow_with_the_rows(auditor, hr):
    _, user = hr

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert auditor.get(CHANGES_URL, {"page_size": 100}).status_code == 200
        return len(ctx.captured_queries)

    with pghistory.context(user=user.pk):
        EmployeeFactory()
    few = count()
    with pghistory.context(user=user.pk):
        for _ in range(5):
            e = EmployeeFactory()
            Employee.objects.filter(pk=e.pk).update(first_name="X")
    many = count()
    assert many == few, many
    assert few <= 8


def test_csv_export_ofchanges(auditor):
    EmployeeFactory(first_name="Csv")
    response = auditor.get(CHANGES_URL, {"format": "csv", "model": "employee"})
    assert response.status_code == 200
    header, *lines = response.content.decode().splitlines()
    assert "actor_label" in header
    assert "changes" in header
    assert any("Csv" in line for line in lines)


def test_record_history_merges_changes_transitions_and_tag_changes_in_time_order(auditor, hr):
    client, user = hr
    employee = EmployeeFactory()
    time.sleep(0.01)
    employee_transition(employee_id=employee.pk, name="activate", actor=user)
    time.sleep(0.01)
    assert client.patch(f"/api/employees/{employee.pk}/", {"first_name": "New"}, format="json").status_code == 200
    response = auditor.get(f"/api/audit/employees/{employee.pk}/history/")
    assert response.status_code == 200, response.content
    items = response.json()
    assert [i["kind"] for i in items] == ["change", "transition", "change"]
    assert items[1]["transition"] == "activate"
    assert items[2]["changes"] == {"first_name": {"before": employee.first_name, "after": "New"}}
    assert auditor.get(f"/api/audit/nothing/{employee.pk}/history/").status_code == 404


def test_as_of_returns_the_whole_record_as_it_was(auditor, hr):
    client, user = hr
    employee = EmployeeFactory(first_name="Before", hire_date=datetime.date(2026, 1, 5))
    time.sleep(0.02)
    between = timezone.now()
    time.sleep(0.02)
    employee_transition(employee_id=employee.pk, name="activate", actor=user)
    client.patch(f"/api/employees/{employee.pk}/", {"first_name": "After"}, format="json")

    body = auditor.get(f"/api/audit/employees/{employee.pk}/as-of/", {"at": between.isoformat()}).json()
    assert body["record"]["first_name"] == "Before"
    assert body["record"]["hire_date"] == "2026-01-05"
    assert body["record"]["state"] == "pending"
    now = auditor.get(f"/api/audit/employees/{employee.pk}/as-of/", {"at": timezone.now().isoformat()}).json()
    assert (now["record"]["first_name"], now["record"]["state"]) == ("After", "active")
    early = auditor.get(f"/api/audit/employees/{employee.pk}/as-of/", {"at": "2000-01-01T00:00:00Z"})
    assert_error(early, 400, "validation_error")


def test_the_change_history_is_chained_and_a_tampered_row_is_reported(auditor):
    employees = [EmployeeFactory() for _ in range(3)]
    Employee.objects.filter(pk=employees[0].pk).update(first_name="Changed")
    report = chain_verify(EmployeeEvent)
    assert report.ok, report
    assert report.checked >= 4, report
    target = EmployeeEvent.objects.order_by("pgh_id")[1]
    with pgtrigger.ignore("audit_log.EmployeeEvent:append_only"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_log_employeeevent SET first_name = 'Forged' WHERE pgh_id = %s", [target.pk])
    body = auditor.get(VERIFY_URL).json()
    broken = {t["table"]: t["first_broken_id"] for t in body["tables"] if not t["ok"]}
    assert broken == {"audit_log_employeeevent": target.pk}


def test_the_history_query_count_does_not_grow_with_the_history(auditor, hr):
    client, user = hr
    employee = EmployeeFactory()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert auditor.get(f"/api/audit/employees/{employee.pk}/history/").status_code == 200
        return len(ctx.captured_queries)

    with pghistory.context(user=user.pk):
        Employee.objects.filter(pk=employee.pk).update(first_name="One")
    employee_transition(employee_id=employee.pk, name="activate", actor=user)
    few = count()
    with pghistory.context(user=user.pk):
        for name in ("Two", "Three", "Four"):
            Employee.objects.filter(pk=employee.pk).update(first_name=name)
    employee_transition(employee_id=employee.pk, name="start_leave", actor=user)
    employee_transition(employee_id=employee.pk, name="return_from_leave", actor=user)
    many = count()
    assert many == few, many
    assert few <= 8


def test_a_field_a_transition_sets_carries_the_transitions_reason_and_actor(auditor, hr):
    _, user = hr
    employee = EmployeeFactory()
    employee_transition(employee_id=employee.pk, name="terminate", actor=user, reason="contract ended")
    [row] = changes(auditor, model="employee", object=employee.pk, action="update")
    assert set(row["changes"]) == {"termination_date"}
    assert (row["reason"], row["actor"]) == ("contract ended", user.pk)
