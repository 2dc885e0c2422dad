"""The hash chain: valid after real transitions, broken by any raw tamper, reported by table."""

import contextlib
import datetime
import zoneinfo
from decimal import Decimal

import pgtrigger
import pytest
from django.db import connection, transaction

from apps.fsm.models import EmployeeTransitionLog, TransitionLogBase
from apps.fsm.services import employee_transition
from backend.audit.chain import (
    chain_append,
    chain_verify,
    chain_verify_all,
    chained_log_models,
    row_hash,
)

TABLE = EmployeeTransitionLog._meta.db_table


@contextlib.contextmanager
def triggers_off():
    """Let raw SQL change log rows for this block: on PostgreSQL by switching the append-only trigger off for
    these statements only (pgtrigger.ignore, transaction-local); SQLite has no triggers to switch off."""
    if connection.vendor == "postgresql":
        with pgtrigger.ignore("fsm.EmployeeTransitionLog:append_only"):
            yield
    else:
        yield


def raw(sql: str, params=()) -> None:
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def history(make_employee, hr):
    """Six log rows over two employees, made by the service: returns them in id order."""
    first, second = make_employee(), make_employee()
    for employee_id, name in [
        (first.pk, "activate"),
        (second.pk, "activate"),
        (first.pk, "start_leave"),
        (second.pk, "suspend"),
        (first.pk, "return_from_leave"),
        (second.pk, "terminate"),
    ]:
        employee_transition(employee_id=employee_id, name=name, actor=hr, reason=f"{name} #{employee_id}")
    return list(EmployeeTransitionLog.objects.order_by("id"))


def test_chain_is_valid_after_a_sequence_of_transitions(history):
    assert history[0].prev_hash == ""
    assert all(row.prev_hash == before.hash for before, row in zip(history, history[1:], strict=False))
    assert all(row.hash == row_hash(row) for row in history)
    report = chain_verify(EmployeeTransitionLog)
    assert report.as_dict() == {"table": TABLE, "checked": 6, "ok": True, "first_broken_id": None, "problem": ""}


def test_an_empty_chain_is_valid(db):
    assert chain_verify(EmployeeTransitionLog).as_dict()["checked"] == 0
    assert chain_verify(EmployeeTransitionLog).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nothing to see here"),
        ("target_state", "active"),
        ("actor_email", "someone.else@coveris.test"),
        ("effective_date", "2020-01-01"),
        ("override_reason", "approved"),
    ],
)
def test_editing_a_row_breaks_the_chain_at_that_row(history, column, value):
    victim = history[2]
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, victim.pk])

    report = chain_verify(EmployeeTransitionLog)
    assert (report.ok, report.first_broken_id, report.checked) == (False, victim.pk, 3)
    assert report.problem == "content does not match its hash"


def test_editing_a_row_and_recomputing_its_hash_breaks_the_link_of_the_next_row(history):
    victim = EmployeeTransitionLog.objects.get(pk=history[2].pk)
    victim.reason = "rewritten"
    raw(f"UPDATE {TABLE} SET reason = %s, hash = %s WHERE id = %s", ["rewritten", row_hash(victim), victim.pk])

    report = chain_verify(EmployeeTransitionLog)
    assert (report.ok, report.first_broken_id) == (False, history[3].pk)
    assert report.problem == "prev_hash does not match the row before"


def test_deleting_a_row_breaks_the_chain_at_the_next_row(history):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [history[1].pk])
    report = chain_verify(EmployeeTransitionLog)
    assert (report.ok, report.first_broken_id) == (False, history[2].pk)


def test_editing_the_first_rows_prev_hash_is_detected(history):
    raw(f"UPDATE {TABLE} SET prev_hash = %s WHERE id = %s", ["0" * 64, history[0].pk])
    assert chain_verify(EmployeeTransitionLog).first_broken_id == history[0].pk


@pytest.mark.postgres
def test_tampering_with_the_triggers_disabled_by_alter_table_is_detected(history):
    """The other way an owner of the table could get past the triggers; it must still show in the chain."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The history's deferred foreign-key checks are still pending in the test's transaction; ALTER TABLE
        # refuses to run over pending trigger events, so fire them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [history[4].pk])
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    assert chain_verify(EmployeeTransitionLog).first_broken_id == history[4].pk


def test_chain_append_outside_a_transaction_still_chains(employee, hr):
    first = chain_append(
        EmployeeTransitionLog, employee=employee, transition="activate", source_state="pending", target_state="active"
    )
    second = chain_append(
        EmployeeTransitionLog,
        employee=employee,
        transition="start_leave",
        source_state="active",
        target_state="on_leave",
    )
    assert second.prev_hash == first.hash
    assert chain_verify(EmployeeTransitionLog).ok


def test_a_timestamp_in_another_zone_hashes_as_the_utc_value_the_database_returns(employee):
    paris = datetime.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    row = chain_append(
        EmployeeTransitionLog,
        employee=employee,
        transition="activate",
        source_state="pending",
        target_state="active",
        created_at=paris,
    )
    stored = EmployeeTransitionLog.objects.get(pk=row.pk)
    assert stored.created_at == paris
    assert stored.hash == row_hash(stored)
    assert chain_verify(EmployeeTransitionLog).ok


def test_json_content_is_hashed_as_stored(employee):
    chain_append(
        EmployeeTransitionLog,
        employee=employee,
        transition="activate",
        source_state="pending",
        target_state="active",
        rule_results=({"observed": Decimal("1.50"), "on": datetime.date(2026, 1, 1), "related": ("a", 1)},),
    )
    stored = EmployeeTransitionLog.objects.get()
    assert stored.rule_results == [{"observed": "1.50", "on": "2026-01-01", "related": ["a", 1]}]
    assert chain_verify(EmployeeTransitionLog).ok


def test_every_audit_table_is_a_chained_table(db):
    from apps.assignments.models import AssignmentTransitionLog
    from apps.business_rules.models import BusinessRuleVersion
    from apps.offer.models import LedgerEntry
    from apps.tags.models import TagChangeLog

    models = chained_log_models()
    assert {EmployeeTransitionLog, AssignmentTransitionLog, LedgerEntry, TagChangeLog, BusinessRuleVersion} <= set(
        models
    )
    assert all(not m._meta.abstract for m in models)
    assert issubclass(EmployeeTransitionLog, TransitionLogBase)
    assert [m._meta.db_table for m in models] == sorted(m._meta.db_table for m in models)


def test_chain_verify_all_reports_each_table_and_the_broken_one(history):
    reports = {r.table: r for r in chain_verify_all()}
    assert set(reports) == {m._meta.db_table for m in chained_log_models()}
    assert all(r.ok for r in reports.values())

    raw(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [history[5].pk])
    reports = {r.table: r for r in chain_verify_all()}
    assert (reports[TABLE].ok, reports[TABLE].first_broken_id) == (False, history[5].pk)
    assert all(r.ok for table, r in reports.items() if table != TABLE)
