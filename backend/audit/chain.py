"""The hash chain of a log table: each row's hash covers its content and the previous row's hash.

Appends are serialised per table (an advisory lock held until the transaction ends), so two concurrent
transitions can never chain to the same predecessor. ``chain_verify`` walks one table; ``chain_verify_all``
walks every concrete ``ChainedModel`` table the app registry knows, so a new audit table joins the audit
without being listed anywhere. This module imports no domain app: every app may chain its log through it.
"""

import contextlib
import datetime
import functools
import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models.expressions import RawSQL

from backend.audit.models import ChainedModel
from backend.instances import unsaved

# One encoder each, built once: ``json.dumps(value, cls=DjangoJSONEncoder, **options)`` builds one per call, which was a
# visible share of sealing a bulk load's rows (docs/adr/0041). ``encode`` keeps no state between calls.
_HASH_ENCODER = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"))
_STORE_ENCODER = DjangoJSONEncoder()
# Values ``_canonical`` hands back as they are (no ``isoformat``): checked by type first, the cheap way.
_AS_IS = frozenset({str, int, bool, float, list, dict})


def _canonical(value):
    # Aware datetimes are hashed in UTC: the database hands them back in UTC whatever zone they were written in.
    if type(value) in _AS_IS:
        return value
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.isoformat() if hasattr(value, "isoformat") else value


# How ``field_value`` reads a field, decided once per model (``_payload_fields``): for these value types the field's
# ``to_python`` gives the value back unchanged, so it is taken as it is; any other type goes through ``field_value``.
_JSON, _DECIMAL, _OTHER = "json", "decimal", "other"
_UNCHANGED_BY_TO_PYTHON = {
    models.CharField: (str,),  # and its subclasses: EmailField, SlugField, the FSM state field...
    models.TextField: (str,),
    models.BooleanField: (bool,),
    models.IntegerField: (int,),  # and AutoField, BigIntegerField, PositiveIntegerField...
    models.DateTimeField: (datetime.datetime,),  # before DateField: a DateTimeField is a DateField
    models.DateField: (datetime.date,),
}


def _unchanged_types(field: models.Field) -> tuple[type, ...]:
    target = field.target_field if field.many_to_one else field
    for kind, types in _UNCHANGED_BY_TO_PYTHON.items():
        if isinstance(target, kind):
            return types
    return ()


@functools.lru_cache(maxsize=512)
def _payload_fields(model: type[models.Model]) -> tuple[tuple[str, models.Field, str, tuple[type, ...]], ...]:
    """``(attname, field, how, types kept as they are)`` of every concrete field ``default_payload`` hashes."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.attname in {"id", "prev_hash", "hash"}:
            continue
        how = (
            _JSON
            if isinstance(field, models.JSONField)
            else _DECIMAL
            if isinstance(field, models.DecimalField)
            else _OTHER
        )
        fields.append((field.attname, field, how, _unchanged_types(field)))
    return tuple(fields)


def default_payload(row: models.Model, *, json_as_stored: bool = False) -> dict:
    """Every concrete field but the id and the hash columns, as stored; null values left out.

    Each value is ``field_value``'s; ``json_as_stored`` says the JSON fields already hold what their column gives back
    (``seal_many`` has just made them so), which skips a second JSON round trip that would change nothing.
    """
    payload = {}
    values = row.__dict__
    for attname, field, how, unchanged in _payload_fields(type(row)):
        value = values[attname] if attname in values else getattr(row, attname)
        if value is None:
            continue
        if how is _JSON:
            if not json_as_stored:
                value = as_stored_json(value)
        elif how is _DECIMAL and type(value) is Decimal:
            value = f"{value:.{field.decimal_places}f}"  # what field_value does: to_python keeps a Decimal as it is
        elif type(value) not in unchanged:
            value = field_value(field, value)
        payload[attname] = value
    return payload


def row_payload(row: models.Model, *, json_as_stored: bool = False) -> dict:
    """The canonical content of a log row that its hash covers (``chain_payload``; a historical model in a
    migration has no methods, so it gets ``default_payload``, what ``ChainedModel`` hashes by default)."""
    custom = getattr(type(row), "chain_payload", ChainedModel.chain_payload)
    if custom is ChainedModel.chain_payload:
        content = default_payload(row, json_as_stored=json_as_stored)
    else:
        content = row.chain_payload()
    payload = {name: _canonical(value) for name, value in content.items()}
    payload.update(table=row._meta.db_table, prev_hash=row.prev_hash)
    return payload


def row_hash(row: models.Model, *, json_as_stored: bool = False) -> str:
    """The row's hash: SHA-256 of its payload as compact JSON with sorted keys (the format ``verify_audit_chain``
    checks). ``json_as_stored``: the row's JSON fields already hold what the column gives back (``seal_many``)."""
    blob = _HASH_ENCODER.encode(row_payload(row, json_as_stored=json_as_stored))
    return hashlib.sha256(blob.encode()).hexdigest()


def as_stored_json(value):
    """``value`` as a JSON column gives it back (Decimals and dates become strings, tuples lists).

    Hashing the in-memory value while storing something else would make the row fail verification once reloaded.
    """
    return json.loads(_STORE_ENCODER.encode(value))


def lock_chain(model: type[models.Model]) -> None:
    """Serialise appends to one table's chain until the transaction ends (PostgreSQL advisory lock).

    SQLite serialises writers itself; it has no advisory locks.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(model._meta.db_table.encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def field_value(field: models.Field, value):
    """``value`` of ``field`` as the database gives it back, so a row hashes the same before and after a reload.

    Strings become dates or numbers (``to_python``), decimals carry the column's places (8 → "8.00"), JSON goes
    through a JSON round trip.
    """
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return as_stored_json(value)
    value = field.to_python(value)
    if isinstance(field, models.DecimalField) and value is not None:
        return f"{value:.{field.decimal_places}f}"
    return value


def chain_sealer(model: type[models.Model]) -> Callable[[models.Model], None]:
    """Lock the table's chain and read its last hash; returns ``seal(obj)``, which chains one unsaved row after the
    previous one (sets ``prev_hash`` and ``hash``). Call ``seal`` on the rows in the order they are inserted.

    Both queries run now, so the rows can be sealed one by one while they are written (``ChainedQuerySet.bulk_create``
    seals each row as ``COPY`` sends it: Python hashes a row while the server stores the ones before it, ADR 0043).
    Call inside the transaction that inserts them: the lock is held until it ends, so no other writer can chain to
    the same predecessor.
    """
    lock_chain(model)
    json_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
    previous = model.objects.order_by("-id").values_list("hash", flat=True).first() or ""

    def seal(obj: models.Model) -> None:
        nonlocal previous
        for name in json_fields:
            setattr(obj, name, as_stored_json(getattr(obj, name)))
        obj.prev_hash = previous
        obj.hash = previous = row_hash(obj, json_as_stored=True)

    return seal


def seal_many(model: type[models.Model], objs: list[models.Model]) -> None:
    """Chain unsaved rows in list order after the table's last row: lock the chain, set ``prev_hash`` and ``hash``.

    Call inside the transaction that inserts them (``ChainedModel.save`` and ``bulk_create`` do): the lock is held
    until it ends, so no other writer can chain to the same predecessor.
    """
    seal = chain_sealer(model)
    for obj in objs:
        seal(obj)


def check_id_order(model: type[models.Model], created: list[models.Model]) -> None:
    """The chain is walked in id order, so a bulk insert's ids must follow the list; raise (rolling the insert
    back) rather than store a chain that would not verify."""
    ids = [obj.pk for obj in created]
    if None in ids or any(later <= earlier for earlier, later in zip(ids, ids[1:], strict=False)):
        raise RuntimeError(f"{model._meta.db_table}: bulk insert returned ids out of order; the chain would break.")


def chain_append(model: type[models.Model], **fields) -> models.Model:
    """Insert one row chained to the last one (what ``model.objects.create`` does for a ``ChainedModel``)."""
    row = model(**fields)
    row.save(force_insert=True)
    return row


def chain_append_many(model: type[models.Model], rows: list[dict], *, batch_size: int = 1000) -> list[models.Model]:
    """Insert many rows chained in list order, exactly as ``chain_append`` called once per row would.

    One advisory lock, one read of the last hash, the hashes computed in order, one bulk insert per ``batch_size``
    rows (``ChainedQuerySet.bulk_create``). The ids the database hands out follow the list (one sequence, each
    INSERT's rows numbered in order, other appenders held off by the lock); ``check_id_order`` makes sure.
    """
    return model.objects.bulk_create(unsaved(model, rows), batch_size=batch_size)


@dataclass(frozen=True)
class ChainReport:
    table: str
    checked: int
    ok: bool
    first_broken_id: int | None = None
    problem: str = ""
    # The last row checked and its hash (where an incremental check continues from); not part of the report.
    last_id: int | None = None
    last_hash: str = ""

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
    Tables sealed by the database (``chain_in_db``) are checked with the database's own hash function.
    """
    return chain_verify_rows(model)


def _chain_rows(model: type[models.Model], after_pk=None):
    """``(pk, prev_hash, hash, expected hash)`` of each row in chain order (after ``after_pk`` if given)."""
    queryset = model.objects.order_by("pk")
    if after_pk is not None:
        queryset = queryset.filter(pk__gt=after_pk)
    if getattr(model, "chain_in_db", False):
        if connection.vendor != "postgresql":  # SQLite has no triggers, so no sealed rows to check
            return
        table = model._meta.db_table
        expected = RawSQL(f"coveris_chain_hash(%s, {connection.ops.quote_name(table)})", [table])  # noqa: S611
        rows = queryset.annotate(expected=expected).values_list("pk", "pgh_prev_hash", "pgh_hash", "expected")
        yield from rows.iterator(chunk_size=2000)
        return
    for row in queryset.iterator(chunk_size=2000):
        yield row.pk, row.prev_hash, row.hash, row_hash(row)


def chain_verify_rows(model: type[models.Model], *, after_pk=None, after_hash: str = "", limit=None) -> ChainReport:
    """``chain_verify`` of the rows after ``after_pk`` (whose hash must be ``after_hash``), at most ``limit``."""
    previous, last_id = after_hash, after_pk
    checked = 0
    table = model._meta.db_table
    for pk, prev_hash, stored, expected in _chain_rows(model, after_pk):
        checked += 1
        if prev_hash != previous:
            return ChainReport(table, checked, False, pk, "prev_hash does not match the row before")
        if expected != stored:
            return ChainReport(table, checked, False, pk, "content does not match its hash")
        previous, last_id = stored, pk
        if limit is not None and checked >= limit:
            break
    return ChainReport(table, checked, True, last_id=last_id, last_hash=previous)


def chained_log_models() -> list[type[models.Model]]:
    """Every installed hash-chained table (each concrete ``ChainedModel``), in table-name order."""
    found = [
        m
        for m in apps.get_models()
        if (issubclass(m, ChainedModel) or getattr(m, "chain_in_db", False)) and not m._meta.abstract
    ]
    return sorted(found, key=lambda m: m._meta.db_table)


def chain_verify_all() -> list[ChainReport]:
    """``chain_verify`` of every hash-chained log table (what the audit endpoint and the command report)."""
    return [chain_verify(model) for model in chained_log_models()]


def rechain_existing(app_label: str, model_name: str):
    """A ``RunPython`` function for the migration that makes an existing append-only table chained: seals the rows
    already there, in id order (the append-only trigger is skipped for this one statement batch; migrations run
    as the table's owner)."""

    def run(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        table = model._meta.db_table
        qn = schema_editor.connection.ops.quote_name
        ignore = contextlib.nullcontext()
        if schema_editor.connection.vendor == "postgresql":
            import pgtrigger

            ignore = pgtrigger.ignore(f"{app_label}.{model.__name__}:append_only")
        previous = ""
        with ignore, schema_editor.connection.cursor() as cursor:
            for row in model._base_manager.order_by("id").iterator(chunk_size=2000):
                row.prev_hash = previous
                row.hash = previous = row_hash(row)
                cursor.execute(
                    f"UPDATE {qn(table)} SET prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608 (a quoted model table)
                    [row.prev_hash, row.hash, row.pk],
                )

    return run
