"""The change history of every mutable domain record: one django-pghistory event table per tracked model.

PostgreSQL triggers (installed by django-pghistory through pgtrigger) write a row for every INSERT, UPDATE and
DELETE of the tracked tables, whoever sends it: the API, the admin, ``manage.py shell``, a data migration, psql.
Each row is a snapshot of the tracked fields (the new row on insert and update, the last values on delete) with
``pgh_context``: the actor (``user``), the request id and URL, and a service's ``reason`` where one was given
(``pghistory.context``, set by ``backend.middleware.HistoryContextMiddleware`` and the services). A change made
outside any request has no context: its actor is "database".

What changed is the difference from the previous event of the same object (``apps.audit_log.selectors``).
Transitions stay in their own logs: the ``state`` column is not tracked, so a transition writes no change row
twice; a field a transition also sets (``termination_date``) is linked to its log row by the request id.

Every event table is append-only and hash-chained *in the database*: a BEFORE INSERT trigger takes the table's
chain lock, numbers the row, and seals it with ``coveris_chain_hash`` (migration ``0001``), because the rows are
written by triggers, never by Python. ``backend.audit.chain.chain_verify`` checks them with the same function.
"""

import pghistory
import pgtrigger
from django.contrib.auth import get_user_model
from django.db import models

from apps.api.models import Employee, OrgUnit, Position
from apps.business_rules.models import BusinessRule
from apps.demand.models import CoverageRequirement
from apps.tags.models import EmployeeTag, PositionTag
from backend.audit.db import AppendOnlyModel, append_only_triggers

# The chain is sealed by the database: lock the table's chain, take the next id only now (so ids follow the chain
# under concurrency), link to the last row and hash this one. ``coveris_chain_hash`` runs in UTC whatever the
# session's time zone, so psql and Django compute the same hash.
_SEAL_FUNC = """
    PERFORM pg_advisory_xact_lock(hashtext('coveris_chain:' || TG_TABLE_NAME));
    NEW.pgh_id := nextval(pg_get_serial_sequence(quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME),
                                                 'pgh_id'));
    EXECUTE format('SELECT pgh_hash FROM %I.%I ORDER BY pgh_id DESC LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO NEW.pgh_prev_hash;
    NEW.pgh_prev_hash := COALESCE(NEW.pgh_prev_hash, '');
    NEW.pgh_hash := coveris_chain_hash(TG_TABLE_NAME, NEW);
    RETURN NEW;
"""


def chain_seal_trigger() -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="chain_seal", level=pgtrigger.Row, when=pgtrigger.Before, operation=pgtrigger.Insert, func=_SEAL_FUNC
    )


class ChainedEvent(pghistory.models.Event):
    """Base of the change-history tables: pghistory's event plus the chain columns, sealed by the database."""

    chain_in_db = True

    pgh_prev_hash = models.CharField(max_length=64, blank=True, db_default="", default="")
    pgh_hash = models.CharField(max_length=64, db_default="", default="")

    class Meta:
        abstract = True


def _event_model(tracked, name: str, *, fields=None, exclude=()):
    # Fresh trackers per model: pghistory narrows an update tracker's condition to its model's fields in place.
    return pghistory.create_event_model(
        tracked,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        fields=fields,
        exclude=list(exclude),
        context_field=pghistory.ContextJSONField(),
        context_id_field=None,
        append_only=True,
        model_name=name,
        app_label="audit_log",
        base_model=ChainedEvent,
        abstract=False,
        obj_field=pghistory.ObjForeignKey(related_name="+"),
        meta={
            "triggers": [chain_seal_trigger(), *[t for t in append_only_triggers() if t.name != "append_only"]],
            "ordering": ["pgh_id"],
        },
    )


# ``updated_at`` is never tracked (it changes on every save, and says nothing an event's time does not).
UserEvent = _event_model(
    get_user_model(),
    "UserEvent",
    fields=["email", "first_name", "last_name", "role", "org_unit", "is_active", "is_staff"],
)
OrgUnitEvent = _event_model(OrgUnit, "OrgUnitEvent", exclude=["updated_at"])
PositionEvent = _event_model(Position, "PositionEvent", exclude=["updated_at"])
EmployeeEvent = _event_model(Employee, "EmployeeEvent", exclude=["updated_at", "state"])
CoverageRequirementEvent = _event_model(CoverageRequirement, "CoverageRequirementEvent", exclude=["updated_at"])
EmployeeTagEvent = _event_model(EmployeeTag, "EmployeeTagEvent")
PositionTagEvent = _event_model(PositionTag, "PositionTagEvent")
BusinessRuleEvent = _event_model(BusinessRule, "BusinessRuleEvent", exclude=["updated_at"])


class ChainVerification(AppendOnlyModel):
    """One full walk of every hash-chained audit table (``apps.audit_log.verification``): when, why, the outcome,
    and per table the rows checked and the first broken row. Written once, when the walk ends; append-only."""

    class Status(models.TextChoices):
        OK = "ok", "every chain intact"
        BROKEN = "broken", "a chain is broken or a state drifted"
        ERROR = "error", "the walk could not finish"

    class Source(models.TextChoices):
        SCHEDULE = "schedule", "the nightly job"
        COMMAND = "command", "manage.py verify_audit_chain"

    started_at = models.DateTimeField()
    created_at = models.DateTimeField(help_text="When the walk ended (and this row was written).")
    status = models.CharField(max_length=8, choices=Status.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    rows_checked = models.BigIntegerField(default=0)
    # [{"table", "checked", "ok", "first_broken_id", "problem", "state_drift": [ids]}], in table-name order.
    tables = models.JSONField(default=list)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="audit_chainverif_time")]
        triggers = append_only_triggers()

    def __str__(self) -> str:
        return f"chain verification {self.pk} @ {self.created_at:%Y-%m-%d %H:%M:%S}: {self.status}"
