"""The state field: protected in Python, constrained in the database, written only by the transition service."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.api.models import Employee
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.selectors import state_drift
from apps.fsm.services import employee_transition


def test_assigning_state_on_a_loaded_employee_raises(make_employee):
    employee = make_employee("active")
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        employee.state = "terminated"
    assert employee.state == "active"
    assert Employee.objects.get(pk=employee.pk).state == "active"


def test_the_database_refuses_a_state_outside_the_lifecycle(employee):
    with pytest.raises(IntegrityError), transaction.atomic():
        Employee.objects.filter(pk=employee.pk).update(state="retired")


def test_a_queryset_update_can_still_write_state_in_sql_and_the_audit_reports_the_drift(make_employee):
    """The one door Python cannot close: ``QuerySet.update`` goes straight to SQL. No code may use it for state
    (``test_no_code_outside_the_transition_service_writes_state``); ``state_drift`` shows it if anything does.
    """
    employee, untouched = make_employee("active"), make_employee("active")
    assert state_drift(EmployeeTransitionLog) == []

    Employee.objects.filter(pk=employee.pk).update(state="suspended")

    assert Employee.objects.get(pk=employee.pk).state == "suspended"
    assert state_drift(EmployeeTransitionLog) == [employee.pk]
    assert untouched.pk not in state_drift(EmployeeTransitionLog)


def test_state_drift_expects_the_initial_state_when_there_is_no_log_row(employee):
    assert state_drift(EmployeeTransitionLog) == []
    Employee.objects.filter(pk=employee.pk).update(state="active")
    assert state_drift(EmployeeTransitionLog) == [employee.pk]


def test_refresh_from_db_reloads_the_protected_state(employee, hr):
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert employee.state == "pending"  # a stale copy
    employee.refresh_from_db()
    assert employee.state == "active"
    employee_transition(employee_id=employee.pk, name="start_leave", actor=hr)
    employee.refresh_from_db(fields=["state"])
    assert employee.state == "on_leave"
    with pytest.raises(AttributeError):
        employee.state = "active"  # protected again after the reload


def test_refresh_from_db_of_other_fields_leaves_state_alone(employee, hr):
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    Employee.objects.filter(pk=employee.pk).update(first_name="Grace")
    employee.refresh_from_db(fields=["first_name"])
    assert (employee.first_name, employee.state) == ("Grace", "pending")


def test_a_failed_refresh_keeps_the_loaded_state(employee):
    employee.pk = 987654  # as if the row were gone
    with pytest.raises(Employee.DoesNotExist):
        employee.refresh_from_db()
    assert employee.state == "pending"


# --- only the service writes state -----------------------------------------------------------------

_WRITE_METHODS = {"update", "bulk_update"}


def _is_state(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "state"


def _state_writes(tree: ast.AST) -> list[int]:
    """Line numbers that write a ``state`` field directly: ``x.state = ...``, ``setattr(x, "state", ...)``,
    ``qs.update(state=...)``, ``qs.bulk_update(objs, ["state", ...])``."""
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        lines += [t.lineno for t in targets if isinstance(t, ast.Attribute) and t.attr == "state"]
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        args = node.args
        if isinstance(func, ast.Name) and func.id == "setattr" and len(args) > 1 and _is_state(args[1]):
            lines.append(node.lineno)
        if isinstance(func, ast.Attribute) and func.attr in _WRITE_METHODS:
            if any(k.arg == "state" for k in node.keywords):
                lines.append(node.lineno)
            if any(_is_state(c) for a in args for c in ast.walk(a)):
                lines.append(node.lineno)
    return lines


def test_the_state_write_finder_finds_each_kind_of_write():
    source = (
        "e.state = 'x'\nsetattr(e, 'state', 'x')\nqs.update(state='x')\nqs.bulk_update(rows, ['state'])\n"
        "qs.filter(state='x').update(notes='')\nlog.source_state = 'x'\n"
    )
    assert _state_writes(ast.parse(source)) == [1, 2, 3, 4]


def test_no_code_outside_the_transition_service_writes_state():
    """State changes only through ``@transition`` methods called by ``apps.fsm.services.transition_perform``.

    Scans the project's code (tests and migrations excepted) for direct writes of any ``state`` field.
    """
    root = Path(settings.BASE_DIR)
    offenders = []
    for folder in ("apps", "backend", "config"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            offenders += [f"{relative}:{line}" for line in _state_writes(ast.parse(path.read_text(), str(path)))]
    assert offenders == [], "state written outside a transition: " + ", ".join(offenders)
