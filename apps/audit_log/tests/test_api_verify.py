"""GET /api/audit/verify/: the hash chain of every chained log table, intact and after tampering."""

import contextlib

import pgtrigger
import pytest
from django.db import connection

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.tests.conftest import VERIFY_URL
from apps.fsm.models import EmployeeTransitionLog
from backend.audit.chain import chained_log_models

TABLE = EmployeeTransitionLog._meta.db_table


@pytest.fixture
def reader(auth_client):
    return auth_client("auditor")[0]


@pytest.fixture
def chain(employee, transition):
    rows = [transition(employee, name) for name in ("activate", "start_leave", "return_from_leave")]
    rows.append(transition(EmployeeFactory(), "activate"))
    return rows


def _table(body: dict) -> dict:
    [report] = [t for t in body["tables"] if t["table"] == TABLE]
    return report


def _tamper(sql: str, params: list) -> None:
    """Raw SQL past the Python refusal; on PostgreSQL with the append-only trigger switched off for the block."""
    ignoring = (
        pgtrigger.ignore("fsm.EmployeeTransitionLog:append_only")
        if connection.vendor == "postgresql"
        else contextlib.nullcontext()
    )
    with ignoring, connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_transition_log_table_is_checked(reader, db):
    models = chained_log_models()
    assert EmployeeTransitionLog in models
    body = reader.get(VERIFY_URL).json()
    assert sorted(t["table"] for t in body["tables"]) == sorted(m._meta.db_table for m in models)


def test_empty_chain_is_ok(reader, db):
    body = reader.get(VERIFY_URL).json()
    assert body["ok"] is True
    assert _table(body) == {
        "table": TABLE,
        "checked": 0,
        "ok": True,
        "first_broken_id": None,
        "problem": "",
        "complete": True,
        "since_rows": 0,
        "state_drift": [],
    }


def test_intact_chain_is_ok(reader, chain):
    body = reader.get(VERIFY_URL).json()
    assert body["ok"] is True
    assert _table(body) == {
        "table": TABLE,
        "checked": 4,
        "ok": True,
        "first_broken_id": None,
        "problem": "",
        "complete": True,
        "since_rows": 0,
        "state_drift": [],
    }


def test_edited_row_breaks_the_chain_at_that_row(reader, chain):
    _tamper(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["nothing happened", chain[1].pk])  # noqa: S608
    body = reader.get(VERIFY_URL).json()
    assert body["ok"] is False
    report = _table(body)
    assert (report["ok"], report["first_broken_id"], report["checked"]) == (False, chain[1].pk, 2)
    assert "hash" in report["problem"]


def test_deleted_row_breaks_the_link_of_the_next_one(reader, chain):
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])  # noqa: S608
    report = _table(reader.get(VERIFY_URL).json())
    assert (report["ok"], report["first_broken_id"]) == (False, chain[3].pk)
    assert "prev_hash" in report["problem"]


def test_rehashed_edit_is_still_caught_by_the_next_link(reader, chain):
    """Someone who edits a row and recomputes its hash still breaks the next row's prev_hash."""
    from backend.audit.chain import row_hash

    row = EmployeeTransitionLog.objects.get(pk=chain[0].pk)
    row.reason = "forged"
    _tamper(f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE id = %s", ["forged", row_hash(row), row.pk])  # noqa: S608
    report = _table(reader.get(VERIFY_URL).json())
    assert (report["ok"], report["first_broken_id"]) == (False, chain[1].pk)


def test_state_written_outside_a_transition_is_reported(reader, chain, employee):
    """The chain is intact, but the employee's state is not the one their log says: ok is false."""
    Employee.objects.filter(pk=employee.pk).update(state="terminated")
    body = reader.get(VERIFY_URL).json()
    report = _table(body)
    assert report["ok"] is True
    assert report["state_drift"] == [employee.pk]
    assert body["ok"] is False


@pytest.mark.postgres
def test_tampering_without_switching_the_trigger_off_is_refused(chain):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [chain[0].pk])  # noqa: S608
