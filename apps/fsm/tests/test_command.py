"""``manage.py verify_audit_chain``: one line per table, exit status 0 when intact, 1 when anything is broken."""

import io

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from apps.api.models import Employee
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from apps.fsm.tests.test_chain import TABLE, raw
from backend.audit.chain import chained_log_models


def run(*args) -> tuple[int, str, str]:
    """Run the command as ``manage.py`` would: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def rows(make_employee, hr):
    employee = make_employee()
    for name in ("activate", "start_leave", "return_from_leave"):
        employee_transition(employee_id=employee.pk, name=name, actor=hr)
    return list(EmployeeTransitionLog.objects.order_by("id"))


def test_an_intact_trail_prints_ok_per_table_and_exits_0(rows):
    status, out, _ = run()
    assert status == 0
    assert f"{TABLE}: ok (3 rows)" in out
    for model in chained_log_models():
        assert f"{model._meta.db_table}: ok" in out
    assert "Audit chain intact." in out


def test_a_tampered_row_is_named_with_the_problem_and_exits_1(rows):
    raw(f"UPDATE {TABLE} SET reason = 'edited' WHERE id = %s", [rows[1].pk])
    status, out, message = run()
    assert status == 1
    assert f"{TABLE}: BROKEN at id {rows[1].pk}: content does not match its hash" in out
    assert TABLE in message


def test_the_exit_status_reaches_the_shell(rows, capsys):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [rows[0].pk])
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "verify_audit_chain"])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert f"BROKEN at id {rows[1].pk}: prev_hash does not match" in captured.out
    assert "Audit check failed" in captured.err


def test_a_state_written_outside_a_transition_fails_the_check_unless_skipped(rows):
    Employee.objects.filter(pk=rows[0].employee_id).update(state="terminated")
    status, out, _ = run()
    assert status == 1
    assert f"{TABLE}: ok (3 rows)" in out
    assert f"STATE DRIFT: employee ids {rows[0].employee_id} " in out
    assert run("--skip-states")[0] == 0
