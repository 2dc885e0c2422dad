"""``bulk_create_with_history``: the change-history rows of a bulk insert, sealed as one set, are the rows the per-row
triggers write — same columns, same context, chained in the same order — and the chain verifies."""

import datetime

import pghistory
import pytest

from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.bulk import bulk_create_with_history
from apps.audit_log.models import EmployeeTagEvent
from apps.tags.models import EmployeeTag, TagCatalog
from backend.audit.chain import chain_verify

pytestmark = pytest.mark.postgres

SKIP = {"pgh_id", "pgh_created_at", "pgh_prev_hash", "pgh_hash", "pgh_obj_id", "id"}


def _tags(employees, tag, since: datetime.date) -> list[EmployeeTag]:
    return [EmployeeTag(employee=e, tag=tag, level=2 + i % 3, valid_from=since) for i, e in enumerate(employees)]


def _events(ids) -> list[dict]:
    rows = EmployeeTagEvent.objects.filter(pgh_obj_id__in=ids).order_by("pgh_id").values()
    return [{k: v for k, v in row.items() if k not in SKIP} for row in rows]


def test_bulk_history_rows_equal_the_trigger_rows_and_the_chain_verifies(db):
    employees = EmployeeFactory.create_batch(4)
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    with pghistory.context(user=7, reason="onboarding"):
        by_trigger = EmployeeTag.objects.bulk_create(_tags(employees, tag, datetime.date(2026, 1, 5)))
        in_bulk = bulk_create_with_history(EmployeeTag, _tags(employees, tag, datetime.date(2026, 2, 2)))
    after = EmployeeTag.objects.bulk_create(_tags(employees, tag, datetime.date(2026, 3, 2)))  # the chain goes on

    _assert_the_same_history_and_one_chain(by_trigger, in_bulk, after)


def _assert_the_same_history_and_one_chain(by_trigger, in_bulk, after) -> None:
    trigger_events, bulk_events = _events([t.pk for t in by_trigger]), _events([t.pk for t in in_bulk])
    assert len(bulk_events) == len(in_bulk) == 4
    assert [dict(e, valid_from=None) for e in bulk_events] == [dict(e, valid_from=None) for e in trigger_events]
    assert {e["pgh_context"]["reason"] for e in bulk_events} == {"onboarding"}
    # Ids follow the rows' order, and later per-row appends chain on to the bulk ones.
    events = list(EmployeeTagEvent.objects.order_by("pgh_id").values_list("pgh_obj_id", flat=True))
    assert events == [t.pk for t in (*by_trigger, *in_bulk, *after)]
    report = chain_verify(EmployeeTagEvent)
    assert report.ok, report.as_dict()
    assert report.checked == 12


def test_a_bulk_history_row_edited_afterwards_breaks_the_chain(db):
    from django.db import connection

    employees = EmployeeFactory.create_batch(3)
    tag = TagCatalog.objects.create(code="first-aid", name="First aid")
    created = bulk_create_with_history(EmployeeTag, _tags(employees, tag, datetime.date(2026, 1, 5)))
    event = EmployeeTagEvent.objects.get(pgh_obj_id=created[1].pk)
    with connection.cursor() as cursor:  # the append-only trigger refuses an UPDATE: it has to be bypassed
        cursor.execute("ALTER TABLE audit_log_employeetagevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_log_employeetagevent SET level = 9 WHERE pgh_id = %s", [event.pgh_id])
        cursor.execute("ALTER TABLE audit_log_employeetagevent ENABLE TRIGGER USER")

    report = chain_verify(EmployeeTagEvent)
    assert not report.ok
    assert report.first_broken_id == event.pgh_id


def test_sent_ahead_the_history_is_the_same_and_the_triggers_are_ignored_for_that_block_only(db):
    """Inside ``statements_ahead`` (a bulk load, ADR 0047) the sealing block runs on the helper thread: the same rows
    and context as the per-row triggers, and afterwards no trigger is ignored any more (a later per-row insert writes
    its history and is sealed by its ``chain_seal`` trigger)."""
    from django.db import connection, transaction

    from backend.ahead import statements_ahead

    employees = EmployeeFactory.create_batch(4)
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    with transaction.atomic(), pghistory.context(user=7, reason="onboarding"):
        by_trigger = EmployeeTag.objects.bulk_create(_tags(employees, tag, datetime.date(2026, 1, 5)))
        with statements_ahead():
            in_bulk = bulk_create_with_history(EmployeeTag, _tags(employees, tag, datetime.date(2026, 2, 2)))
            with connection.cursor() as cursor:  # the caller's next statement: after the block sent ahead
                cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
                ignoring = cursor.fetchone()[0]
        after = EmployeeTag.objects.bulk_create(_tags(employees, tag, datetime.date(2026, 3, 2)))

    assert ignoring == "{}"
    _assert_the_same_history_and_one_chain(by_trigger, in_bulk, after)
