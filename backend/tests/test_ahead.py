"""``statements_ahead`` / ``send_ahead`` (ADR 0047): a statement sent ahead runs on the same transaction while the
caller goes on, the caller's next statement sees it done, a failure reaches the caller as Django's error, and the
statement carries the change-history context it would have carried if sent at once."""

import time

import pytest
from django.db import IntegrityError, connection, transaction

from apps.api.models import OrgUnit
from apps.audit_log.models import OrgUnitEvent
from backend.ahead import ahead_active, send_ahead, statements_ahead
from backend.audit.context import audit_context


def _scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_outside_a_block_a_statement_runs_at_once(db):
    unit = OrgUnit.objects.create(code="A", name="A")
    assert not ahead_active()
    send_ahead(f"UPDATE {OrgUnit._meta.db_table} SET name = %s WHERE id = %s", ["Renamed", unit.pk])
    unit.refresh_from_db()
    assert unit.name == "Renamed"


@pytest.mark.postgres  # the helper thread shares a PostgreSQL session; elsewhere the block changes nothing
def test_the_caller_goes_on_while_the_server_runs_the_statement_and_its_next_statement_sees_it(db):
    unit = OrgUnit.objects.create(code="A", name="A")
    with transaction.atomic(), statements_ahead():
        assert ahead_active()
        began = time.perf_counter()
        send_ahead(
            f"SELECT pg_sleep(0.5); UPDATE {OrgUnit._meta.db_table} SET name = %s WHERE id = %s", ["Renamed", unit.pk]
        )
        returned = time.perf_counter() - began
        # The caller's next statement waits for the one sent ahead, in the same transaction.
        assert OrgUnit.objects.get(pk=unit.pk).name == "Renamed"
        waited = time.perf_counter() - began
    assert returned < 0.25  # sent, not run: the server sleeps while the caller goes on
    assert waited >= 0.5
    assert not ahead_active()


@pytest.mark.postgres
def test_the_callers_next_statement_waits_for_every_statement_sent_ahead_and_so_does_the_block_end(db):
    unit = OrgUnit.objects.create(code="A", name="A")
    table = OrgUnit._meta.db_table
    with transaction.atomic():
        with statements_ahead():
            send_ahead(f"SELECT pg_sleep(0.3); UPDATE {table} SET name = 'first' WHERE id = %s", [unit.pk])
            send_ahead(f"UPDATE {table} SET name = name || ', second' WHERE id = %s", [unit.pk])
            # the second is still queued while the first sleeps: the caller's read comes after both, not between
            assert _scalar(f"SELECT name FROM {table} WHERE id = %s", [unit.pk]) == "first, second"
            send_ahead(f"SELECT pg_sleep(0.2); UPDATE {table} SET name = 'third' WHERE id = %s", [unit.pk])
        # no statement of the caller in between: leaving the block waited
        assert _scalar(f"SELECT name FROM {table} WHERE id = %s", [unit.pk]) == "third"


def _load_with_a_duplicate_sent_ahead(*, then_read: bool) -> None:
    with transaction.atomic(), statements_ahead():
        OrgUnit.objects.create(code="B", name="B")
        send_ahead(f"UPDATE {OrgUnit._meta.db_table} SET code = 'A' WHERE code = 'B'")  # the code is unique
        if then_read:
            OrgUnit.objects.count()  # the caller's next statement raises the failure


@pytest.mark.postgres
def test_a_failure_sent_ahead_is_raised_as_djangos_error_and_rolls_the_transaction_back(db):
    OrgUnit.objects.create(code="A", name="A")
    with pytest.raises(IntegrityError):
        _load_with_a_duplicate_sent_ahead(then_read=True)
    assert not ahead_active()
    assert list(OrgUnit.objects.values_list("code", flat=True)) == ["A"]  # B rolled back with the transaction


@pytest.mark.postgres
def test_a_failure_at_the_end_of_the_block_is_raised_there(db):
    OrgUnit.objects.create(code="A", name="A")
    with pytest.raises(IntegrityError):
        _load_with_a_duplicate_sent_ahead(then_read=False)
    assert OrgUnit.objects.count() == 1


@pytest.mark.postgres
def test_a_statement_sent_ahead_carries_the_change_history_context_of_the_caller(db):
    unit = OrgUnit.objects.create(code="A", name="A")
    table = OrgUnit._meta.db_table
    with transaction.atomic(), audit_context(user=7, reason="renamed ahead"), statements_ahead():
        send_ahead(f"UPDATE {table} SET name = %s WHERE id = %s", ["Renamed", unit.pk])
    event = OrgUnitEvent.objects.filter(pgh_obj_id=unit.pk).order_by("-pgh_id").first()
    assert event.name == "Renamed"
    assert event.pgh_context["reason"] == "renamed ahead"
