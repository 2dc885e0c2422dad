# ruff: noqa: S608 -- the SQL is built from table and column names read from the models and the catalogue; ids are bound
"""Bulk inserts with their change history written as one set (bulk loads such as ``seed_demo``), PostgreSQL only.

The change history's per-row path — pghistory's AFTER INSERT trigger writing one event row, whose BEFORE INSERT
``chain_seal`` trigger takes the chain lock, numbers the row, reads the last hash with a dynamic query and hashes it
(``apps.audit_log.models``) — costs about half a millisecond per row: minutes for the hundreds of thousands of
employees and tags of a large demo. ``bulk_create_with_history`` skips those two triggers for its own statements only
(``pgtrigger.ignore``: a setting local to this connection's transaction; every other writer keeps them) and writes
the very rows they would have written, in one PL/pgSQL block: the same chain lock, ids taken under it in the rows' id
order, each row linked to the previous hash and sealed with the same ``coveris_chain_hash``, the same context. So
``verify_audit_chain`` checks them as any other row, and the append-only triggers still refuse any change.
"""

from django.db import connection, models

from apps.audit_log.models import ChainedEvent
from backend import triggers
from backend.ahead import send_ahead
from backend.bulk_copy import copy_insert


def _event_model(model: type[models.Model]) -> type[ChainedEvent]:
    """The change-history table of ``model`` (the concrete ``ChainedEvent`` tracking it)."""
    for event in ChainedEvent.__subclasses__():
        if getattr(event, "pgh_tracked_model", None) is model and not event._meta.abstract:
            return event
    raise LookupError(f"{model._meta.label} has no change history.")


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


# What pghistory's insert trigger writes in the columns that are not the tracked row's (``pgh_obj_id`` is its id).
_CONTEXT = "COALESCE(NULLIF(current_setting('pghistory.context_metadata', true), ''), NULL)::jsonb"
_OWN = {
    "pgh_id": "NULL",
    "pgh_created_at": "clock_timestamp()",
    "pgh_label": "'insert'",
    "pgh_prev_hash": "''",
    "pgh_hash": "''",
    "pgh_context": _CONTEXT,
    "pgh_obj_id": "s.id",
}


def _seal_sql(event: str, source: str, columns: list[str], seal_trigger: str) -> str:
    """A block writing the insert events of the ``source`` rows listed in ``coveris.history_ids``, chained as
    ``chain_seal`` chains them one by one (the trigger's function body, run in a loop).

    The block itself ignores the event table's ``chain_seal`` trigger for its insert (``seal_trigger``: the
    ``pgtrigger.ignore`` value naming it) and puts the setting back afterwards, so it is one statement that needs no
    ``pgtrigger.ignore`` around it — one that can be sent ahead (ADR 0047)."""
    values = ", ".join(_OWN.get(column, f"s.{connection.ops.quote_name(column)}") for column in columns)
    return f"""
DO $$
DECLARE
    r {event}; prev text; n int := 0; sealed {event}[];
    ids bigint[] := current_setting('coveris.history_ids')::bigint[];
    ignoring text := current_setting('pgtrigger.ignore', true);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('coveris_chain:{event}'));
    SELECT pgh_hash INTO prev FROM {event} ORDER BY pgh_id DESC LIMIT 1;
    prev := COALESCE(prev, '');
    FOR r IN
        SELECT {values} FROM {source} s JOIN unnest(ids) AS k(id) ON k.id = s.id ORDER BY s.id
    LOOP
        r.pgh_id := nextval(pg_get_serial_sequence('{event}', 'pgh_id'));
        r.pgh_prev_hash := prev;
        r.pgh_hash := coveris_chain_hash('{event}', r);
        prev := r.pgh_hash;
        n := n + 1;
        sealed[n] := r;
    END LOOP;
    PERFORM set_config('pgtrigger.ignore', '{seal_trigger}', true);
    INSERT INTO {event} SELECT * FROM unnest(sealed) ORDER BY pgh_id;
    PERFORM set_config('pgtrigger.ignore', COALESCE(NULLIF(ignoring, ''), '{{}}'), true);
END $$"""


def bulk_create_with_history(model: type[models.Model], objs: list, *, batch_size: int = 2000) -> list:
    """``model.objects.bulk_create(objs)`` and the change-history rows its inserts write, sealed as one set.

    The result in the database is what the per-row triggers write (rows, order, chain, context), only faster.
    Elsewhere than PostgreSQL there is no change history: a plain ``bulk_create``. Call inside a transaction.
    """
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=batch_size)
    event = _event_model(model)
    table = event._meta.db_table
    sql = _seal_sql(
        table, model._meta.db_table, _columns(table), triggers.ignore_value(f"{event._meta.label}:chain_seal")
    )
    with triggers.ignore(f"{model._meta.label}:insert_insert"):
        created = copy_insert(model, objs, batch_size=batch_size)  # COPY (ADR 0032); the ignore reaches it
    ids = "{" + ",".join(str(obj.pk) for obj in created) + "}"
    # One statement whose result nobody reads: inside ``statements_ahead`` (a bulk load) the server seals the history
    # while the caller builds its next rows (ADR 0047); elsewhere it runs now.
    forget = "SELECT set_config('coveris.history_ids', '', true)"
    send_ahead(f"SELECT set_config('coveris.history_ids', %s, true); {sql}; {forget}", [ids])
    return created
