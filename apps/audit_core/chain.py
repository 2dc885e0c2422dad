"""The hash chain of a log table: each row's hash covers its content and the previous row's hash.

Appends are serialised per table (an advisory lock held until the transaction ends), so two concurrent
transitions can never chain to the same predecessor. ``chain_verify`` walks one table; ``chain_verify_all``
walks every concrete ``ChainedModel`` table the app registry knows, so a new audit table joins the audit
without being listed anywhere. This module imports no domain app: every app may chain its log through it.
"""

import datetime
import hashlib
import json
import zlib
from dataclasses import dataclass

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from apps.audit_core.models import ChainedModel


def _canonical(value):
    # Aware datetimes are hashed in UTC: the database hands them back in UTC whatever zone they were written in.
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.isoformat() if hasattr(value, "isoformat") else value


def row_payload(row: models.Model) -> dict:
    """The canonical content of a log row that its hash covers."""
    payload = {name: _canonical(value) for name, value in row.chain_payload().items()}
    payload.update(table=row._meta.db_table, prev_hash=row.prev_hash)
    return payload


def row_hash(row: models.Model) -> str:
    blob = json.dumps(row_payload(row), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(blob.encode()).hexdigest()


def as_stored_json(value):
    """``value`` as a JSON column gives it back (Decimals and dates become strings, tuples lists).

    Hashing the in-memory value while storing something else would make the row fail verification once reloaded.
    """
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def lock_chain(model: type[models.Model]) -> None:
    """Serialise appends to one table's chain until the transaction ends (PostgreSQL advisory lock).

    SQLite serialises writers itself; it has no advisory locks.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(model._meta.db_table.encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def chain_append(model: type[models.Model], **fields) -> models.Model:
    """Insert one log row chained to the last one. Call inside the transaction that made the change.

    The atomic block guarantees the advisory lock is held until the *outer* transaction ends (a savepoint does
    not release a transaction-level lock); called in autocommit mode it still covers read-then-insert.
    """
    with transaction.atomic():
        lock_chain(model)
        row = model(**fields)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                setattr(row, field.attname, as_stored_json(getattr(row, field.attname)))
        row.prev_hash = model.objects.order_by("-id").values_list("hash", flat=True).first() or ""
        row.hash = row_hash(row)
        row.save(force_insert=True)
    return row


def chain_append_many(model: type[models.Model], rows: list[dict], *, batch_size: int = 1000) -> list[models.Model]:
    """Insert many log rows chained in list order, exactly as ``chain_append`` called once per row would.

    One advisory lock, one read of the last hash, the hashes computed in order, one bulk insert per
    ``batch_size`` rows. The chain is walked in id order, so the ids the database hands out must follow the list:
    they do (one sequence, each INSERT's rows numbered in order, other appenders held off by the lock), and the
    function checks it and raises — rolling the transaction back — rather than store a chain that would not verify.
    """
    objs = [model(**fields) for fields in rows]
    if not objs:
        return []
    json_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
    with transaction.atomic():
        lock_chain(model)
        previous = model.objects.order_by("-id").values_list("hash", flat=True).first() or ""
        for obj in objs:
            for name in json_fields:
                setattr(obj, name, as_stored_json(getattr(obj, name)))
            obj.prev_hash = previous
            obj.hash = previous = row_hash(obj)
        created = model.objects.bulk_create(objs, batch_size=batch_size)
        ids = [obj.pk for obj in created]
        if None in ids or any(later <= earlier for earlier, later in zip(ids, ids[1:], strict=False)):
            raise RuntimeError(f"{model._meta.db_table}: bulk insert returned ids out of order; the chain would break.")
    return created


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
    """Walk a table's chain in id order; report the first row whose link or content does not match.

    What a chain cannot show: rows cut off its *end* (the last rows deleted) leave a valid, shorter chain. The
    triggers refuse that on PostgreSQL; the chain catches edits and deletions anywhere before the last row.
    """
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


def chained_log_models() -> list[type[models.Model]]:
    """Every installed hash-chained table (each concrete ``ChainedModel``), in table-name order."""
    found = [m for m in apps.get_models() if issubclass(m, ChainedModel) and not m._meta.abstract]
    return sorted(found, key=lambda m: m._meta.db_table)


def chain_verify_all() -> list[ChainReport]:
    """``chain_verify`` of every hash-chained log table (what the audit endpoint and the command report)."""
    return [chain_verify(model) for model in chained_log_models()]
