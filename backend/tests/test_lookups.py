"""``__in_array``: the rows of ``__in``, sent as one array parameter on PostgreSQL; ``None`` dropped, an empty list
runs no query, subqueries and other databases fall back to ``IN``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory
from apps.assignments.models import Assignment
from apps.assignments.tests.factories import AssignmentFactory


def _ids(queryset) -> list:
    return sorted(queryset.values_list("pk", flat=True))


def test_the_same_rows_as_in(db):
    employees = EmployeeFactory.create_batch(4)
    wanted = [employees[0].pk, employees[2].pk, None, employees[2].pk, 10**9]
    assert _ids(Employee.objects.filter(pk__in_array=wanted)) == _ids(Employee.objects.filter(pk__in=wanted))
    assert _ids(Employee.objects.filter(pk__in_array=wanted)) == sorted([employees[0].pk, employees[2].pk])
    numbers = {employees[1].employee_number, employees[3].employee_number}
    assert _ids(Employee.objects.filter(employee_number__in_array=numbers)) == sorted(
        [employees[1].pk, employees[3].pk]
    )


def test_a_foreign_key_and_an_exclude(db):
    assignments = [AssignmentFactory() for _ in range(3)]
    employee_ids = [assignments[0].employee_id, assignments[2].employee_id]
    assert _ids(Assignment.objects.filter(employee_id__in_array=employee_ids)) == sorted(
        [assignments[0].pk, assignments[2].pk]
    )
    assert _ids(Assignment.objects.exclude(employee_id__in_array=employee_ids)) == [assignments[1].pk]


def test_an_empty_list_runs_no_query(db):
    with CaptureQueriesContext(connection) as queries:
        assert list(Employee.objects.filter(pk__in_array=[None])) == []
        assert list(Employee.objects.filter(pk__in_array=[])) == []
    assert len(queries) == 0


def test_a_subquery_is_plain_in(db):
    employee = EmployeeFactory()
    inner = Employee.objects.filter(pk=employee.pk).values("pk")
    assert _ids(Employee.objects.filter(pk__in_array=inner)) == [employee.pk]


@pytest.mark.postgres
def test_one_array_parameter_on_postgresql(db):
    employees = EmployeeFactory.create_batch(3)
    sql, params = Employee.objects.filter(pk__in_array=[e.pk for e in employees]).query.sql_with_params()
    assert "= ANY(%s)" in sql
    assert " IN (" not in sql
    assert list(params) == [[e.pk for e in employees]]


def test_elsewhere_it_is_in(db, monkeypatch):
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    sql, _ = Employee.objects.filter(pk__in_array=[1, 2]).query.get_compiler("default").as_sql()
    assert "IN (%s, %s)" in sql
