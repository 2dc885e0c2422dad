"""Sealing a chained row hashes exactly what it hashed before the fast path of ADR 0041: the stored hashes of rows
sealed in bulk (ledger postings, tag change logs, transition logs) equal the former algorithm's, written out below as
the oracle; values of unusual types take the reference path; tampering with a bulk-sealed row is still caught."""

import contextlib
import datetime
import hashlib
import json
import zoneinfo
from decimal import Decimal

import pgtrigger
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from apps.api.tests.factories import EmployeeFactory
from apps.fsm.models import EmployeeTransitionLog
from apps.offer.choices import EntryBasis, EntryKind, EntrySource
from apps.offer.models import LedgerEntry
from apps.tags.choices import TagAction, TagTarget
from apps.tags.models import TagCatalog, TagChangeLog
from backend.audit.chain import chain_verify, row_hash

# --- the former algorithm (backend/audit/chain.py before ADR 0041), kept as the oracle ----------------------------


def _old_canonical(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _old_as_stored_json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _old_field_value(field, value):
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return _old_as_stored_json(value)
    value = field.to_python(value)
    if isinstance(field, models.DecimalField) and value is not None:
        return f"{value:.{field.decimal_places}f}"
    return value


def _old_default_payload(row) -> dict:
    payload = {}
    for field in row._meta.concrete_fields:
        if field.attname in {"id", "prev_hash", "hash"}:
            continue
        value = _old_field_value(field, getattr(row, field.attname))
        if value is not None:
            payload[field.attname] = value
    return payload


def old_row_hash(row) -> str:
    content = row.chain_payload() if isinstance(row, EmployeeTransitionLog) else _old_default_payload(row)
    payload = {name: _old_canonical(value) for name, value in content.items()}
    payload.update(table=row._meta.db_table, prev_hash=row.prev_hash)
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(blob.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------


def _postings(employee, actor) -> list[LedgerEntry]:
    return [
        LedgerEntry(
            employee_id=employee.pk,
            kind=EntryKind.CONTRACTED,
            basis=EntryBasis.WEEKLY_RATE,
            hours=hours,
            period_start=datetime.date(2026, 1, 5) + datetime.timedelta(weeks=i),
            period_end=None if i % 2 else datetime.date(2026, 12, 31),
            source=EntrySource.EMPLOYEE,
            reason=f"posting {i}",
            actor_id=actor.pk if i % 2 else None,
            actor_email=actor.email,
        )
        for i, hours in enumerate([Decimal(40), Decimal("36.5"), Decimal("-8.25"), Decimal("0")])
    ]


def _tag_logs(employee, tag, actor) -> list[TagChangeLog]:
    return [
        TagChangeLog(
            action=TagAction.ADD,
            target_type=TagTarget.EMPLOYEE,
            target_id=100 + i,
            employee_id=employee.pk,
            tag_id=tag.pk,
            before=None if i == 0 else {"level": i, "valid_from": datetime.date(2026, 1, i + 1)},
            after={"level": Decimal(i + 1), "valid_until": None, "codes": ("a", "b"), "note": "é ✓"},
            actor_id=actor.pk,
            actor_email=actor.email,
            request_id="seed-demo",
        )
        for i in range(3)
    ]


def test_bulk_sealed_rows_hash_what_the_former_algorithm_hashes(make_user):
    actor = make_user(role="hr")
    employee = EmployeeFactory()
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    LedgerEntry.objects.bulk_create(_postings(employee, actor))
    TagChangeLog.objects.bulk_create(_tag_logs(employee, tag, actor))
    EmployeeTransitionLog.objects.bulk_create(
        [
            EmployeeTransitionLog(
                employee_id=employee.pk,
                transition="activate",
                source_state="pending",
                target_state="active",
                actor_id=actor.pk,
                actor_email=actor.email,
                effective_date=datetime.date(2026, 1, 5),
                rule_results=[{"rule": "R", "observed": Decimal("1.50"), "related": (1, 2)}],
            )
        ]
    )

    for model in (LedgerEntry, TagChangeLog, EmployeeTransitionLog):
        rows = list(model.objects.order_by("id"))
        assert rows
        assert [row.hash for row in rows] == [old_row_hash(row) for row in rows]
        assert [row.hash for row in rows] == [row_hash(row) for row in rows]
        assert chain_verify(model).ok


def test_values_of_unusual_types_hash_as_before(make_user):
    """Strings for dates and numbers, ints for decimals, a datetime in another zone, JSON with Decimals and tuples:
    the fast path hands them to the fields' ``to_python`` as the former code did."""
    actor = make_user(role="hr")
    employee = EmployeeFactory()
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    amsterdam = zoneinfo.ZoneInfo("Europe/Amsterdam")
    odd = [
        LedgerEntry(
            employee_id=str(employee.pk),
            kind=EntryKind.WORKED,
            basis=EntryBasis.TOTAL,
            hours=8,
            period_start="2026-03-02",
            period_end=datetime.datetime(2026, 3, 2, 23, 30, tzinfo=amsterdam),
            source=EntrySource.MANUAL,
            actor_id=actor.pk,
            created_at=datetime.datetime(2026, 3, 2, 9, 15, 7, 123456, tzinfo=amsterdam),
            prev_hash="f" * 64,
        ),
        LedgerEntry(
            employee_id=employee.pk,
            kind=EntryKind.ADJUSTMENT,
            hours="12.5",
            period_start=datetime.date(2026, 3, 2),
            source=EntrySource.MANUAL,
            actor_id=True,
            created_at=datetime.datetime(2026, 3, 2, 9, 15),
        ),
        *_tag_logs(employee, tag, actor),
    ]
    for row in odd:
        assert row_hash(row) == old_row_hash(row)


def test_tampering_with_a_bulk_sealed_json_value_is_caught(make_user):
    actor = make_user(role="hr")
    employee = EmployeeFactory()
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    rows = TagChangeLog.objects.bulk_create(_tag_logs(employee, tag, actor))
    assert chain_verify(TagChangeLog).ok

    table = TagChangeLog._meta.db_table
    postgres = connection.vendor == "postgresql"
    ignore = pgtrigger.ignore("tags.TagChangeLog:append_only") if postgres else contextlib.nullcontext()
    with ignore, connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET after = %s WHERE id = %s", ['{"level": "9"}', rows[1].pk])  # noqa: S608

    report = chain_verify(TagChangeLog)
    assert (report.ok, report.first_broken_id, report.problem) == (False, rows[1].pk, "content does not match its hash")
