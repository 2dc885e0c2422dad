# ruff: noqa: S608 -- the SQL is built from the model's table and column names; values travel through COPY
"""``copy_insert``: ``bulk_create`` through PostgreSQL's ``COPY`` (bulk loads such as ``seed_demo``; ADR 0032).

Django's ``bulk_create`` on PostgreSQL sends ``INSERT … SELECT * FROM UNNEST(%s, %s, …)`` and, with Django's default
client-side binding, psycopg quotes every array element in Python (a regular expression per value); with the
per-field value preparation that is most of a bulk load's CPU time (docs/benchmarks.md, "seed_demo"). ``COPY`` takes
the rows as they are, each value dumped by psycopg's C adapters.

What it does is what ``bulk_create`` does for plain rows: the fields' ``pre_save`` (``auto_now``, ``auto_now_add``)
and the JSON fields' adaptation, every concrete column written; the primary keys are taken from the table's sequence
first (``nextval`` once per row, in one statement, sorted), so the objects get their ids in list order — what a
hash chain walked in id order needs (``backend.audit.models.ChainedQuerySet``) — and COPY writes them explicitly.
Row triggers fire as for an INSERT (``COPY`` runs them); a ``pgtrigger.ignore`` or ``pghistory.context`` around the
call reaches ``COPY`` because its settings are transaction-local and set by the id query, which goes through
Django's cursor (and its execute wrappers) in the same transaction.

Elsewhere than PostgreSQL (SQLite), or for models whose primary key is not an auto field, it is ``bulk_create``.
"""

from collections.abc import Callable

from django.db import connection, models

_SPECIAL = (models.JSONField,)


def _copyable(model: type[models.Model]) -> bool:
    return connection.vendor == "postgresql" and isinstance(model._meta.pk, models.AutoField | models.BigAutoField)


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.generated]


def copy_insert(
    model: type[models.Model], objs: list, *, batch_size: int | None = None, prepare: Callable | None = None
) -> list:
    """Insert ``objs`` (unsaved instances of ``model``) and set their primary keys, in list order; returns them.

    ``prepare(obj)``, if given, is called on each object in list order just before its row is written (with ``COPY``,
    after its primary key is set), e.g. sealing it into a hash chain: ``COPY`` sends rows as they come, so the server
    stores the rows already sent while Python prepares the next ones instead of the two taking turns (ADR 0043). It
    must not query the database (the connection is busy with the ``COPY``). Without ``COPY`` every object is prepared
    first, then inserted.

    Call inside a transaction when the ids must follow the list (a chained table: hold its chain lock).
    """
    objs = list(objs)
    if not objs:
        return objs
    if not _copyable(model):
        if prepare is not None:
            for obj in objs:
                prepare(obj)
        return model.objects.bulk_create(objs, batch_size=batch_size)
    meta = model._meta
    pk = meta.pk
    if any(getattr(obj, pk.attname) is not None for obj in objs):
        raise ValueError(f"copy_insert: {meta.label} objects must not have a primary key yet.")
    fields = _columns(model)
    # ``pre_save`` only where a field computes its value (auto_now, auto_now_add); the attribute elsewhere.
    computed = {f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        for obj, new_id in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, new_id)
        getters = []
        for field in fields:
            if field.attname in computed:
                getters.append(lambda obj, f=field: f.pre_save(obj, True))
            elif isinstance(field, _SPECIAL):
                getters.append(lambda obj, f=field: f.get_db_prep_save(getattr(obj, f.attname), connection=connection))
            else:
                getters.append(None)
        names = [f.attname for f in fields]
        columns = ", ".join(quote(f.column) for f in fields)
        # Django's error wrapper: a constraint COPY breaks is an IntegrityError, as an INSERT's would be.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                if prepare is not None:
                    prepare(obj)
                values = obj.__dict__
                copy.write_row(
                    [values[name] if get is None else get(obj) for name, get in zip(names, getters, strict=True)]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
