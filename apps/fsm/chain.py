"""The hash chain of a log table: each row's hash covers its content and the previous row's hash."""

import hashlib
import json
import zlib
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

HASHED_FIELDS = (
    "transition",
    "source_state",
    "target_state",
    "actor_id",
    "actor_email",
    "created_at",
    "reason",
    "effective_date",
    "rule_results",
    "override_reason",
    "request_id",
)


def row_payload(row: models.Model) -> dict:
    """The canonical content of a log row that its hash covers."""
    payload = {"table": row._meta.db_table, "subject_id": row.subject_id, "prev_hash": row.prev_hash}
    for name in HASHED_FIELDS:
        value = getattr(row, name)
        payload[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return payload


def row_hash(row: models.Model) -> str:
    blob = json.dumps(row_payload(row), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(blob.encode()).hexdigest()


def lock_chain(model: type[models.Model]) -> None:
    """Serialise appends to one table's chain until the transaction ends (PostgreSQL advisory lock).

    SQLite serialises writers itself; it has no advisory locks.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(model._meta.db_table.encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def chain_append(model: type[models.Model], **fields) -> models.Model:
    """Insert one log row chained to the last one. Call inside the transaction that made the change."""
    lock_chain(model)
    row = model(**fields)
    row.prev_hash = model.objects.order_by("-id").values_list("hash", flat=True).first() or ""
    row.hash = row_hash(row)
    row.save(force_insert=True)
    return row


@dataclass(frozen=True)
class ChainReport:
    table: str
    checked: int
    ok: bool
    first_broken_id: int | None = None
    problem: str = ""

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "checked": self.checked,
            "ok": self.ok,
            "first_broken_id": self.first_broken_id,
            "problem": self.problem,
        }


def chain_verify(model: type[models.Model]) -> ChainReport:
    """Walk a table's chain in id order; report the first row whose link or content does not match."""
    previous = ""
    checked = 0
    for row in model.objects.order_by("id").iterator(chunk_size=2000):
        checked += 1
        if row.prev_hash != previous:
            return ChainReport(model._meta.db_table, checked, False, row.pk, "prev_hash does not match the row before")
        if row_hash(row) != row.hash:
            return ChainReport(model._meta.db_table, checked, False, row.pk, "content does not match its hash")
        previous = row.hash
    return ChainReport(model._meta.db_table, checked, True)
