"""Reads over the audit tables: point-in-time state and records, the change history, the hash-chain report.

Nothing here writes. ``record_history`` is what the admin's history page of a record shows."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from pghistory.models import Events

from apps.api.models import Employee
from apps.assignments.models import AssignmentTransitionLog
from apps.audit_log.models import (
    BusinessRuleEvent,
    CoverageRequirementEvent,
    EmployeeEvent,
    EmployeeTagEvent,
    OrgUnitEvent,
    PositionEvent,
    PositionTagEvent,
    UserEvent,
)
from apps.fsm.models import EmployeeTransitionLog, TransitionLogBase
from apps.fsm.selectors import state_drift
from apps.tags.models import TagChangeLog
from backend.audit.chain import chained_log_models
from backend.audit.checkpoints import last_checkpoint, verify_since


class BeforeCreationError(ValueError):
    """The moment asked about lies before the object existed, so it had no state then."""


@dataclass(frozen=True)
class StateAt:
    """The state an object was in at a moment, and the log row that put it there (None: the initial state)."""

    state: str
    since: datetime.datetime | None
    log_entry: models.Model | None


def employee_state_at(*, employee: Employee, at: datetime.datetime) -> StateAt:
    """The employee's state at ``at`` (aware), reconstructed from their transition log.

    The target state of the last row with ``created_at <= at``; before the first row, that row's source
    state (the state the employee was created in); with no rows at all, the current state, which no
    transition has changed. Raises ``BeforeCreationError`` when ``at`` precedes the employee's creation.
    Two queries at most, whatever the length of the history.
    """
    if at < employee.created_at:
        raise BeforeCreationError(f"Employee {employee.pk} did not exist before {employee.created_at.isoformat()}.")
    rows = EmployeeTransitionLog.objects.filter(employee=employee)
    last = rows.filter(created_at__lte=at).order_by("-created_at", "-id").first()
    if last is not None:
        return StateAt(state=last.target_state, since=last.created_at, log_entry=last)
    first = rows.order_by("created_at", "id").only("source_state").first()
    return StateAt(state=first.source_state if first else employee.state, since=None, log_entry=None)


def audit_chain_report(*, digest_tables: dict | None = None) -> dict:
    """What ``/api/audit/verify/`` reports: per chained table, the rows appended since ``digest_tables`` (an
    auditor's digest, signature already checked) or else since the last signed checkpoint, checked to continue its
    head (at most ``AUDIT_VERIFY_MAX_ROWS`` each: ``complete`` false beyond), and the state drift of transition logs.

    ``ok`` is true only when every checked chain is intact and every object's state is the one its log explains.
    ``checked`` is the number of rows read: proportional to the rows appended, not to the whole log.
    """
    limit = settings.AUDIT_VERIFY_MAX_ROWS
    against = "digest"
    if digest_tables is None:
        checkpoint = last_checkpoint()
        digest_tables = checkpoint.tables if checkpoint else None
        against = "checkpoint" if checkpoint else "start"
    models_by_table = {m._meta.db_table: m for m in chained_log_models()}
    tables = []
    for report in verify_since(digest_tables, limit=limit):
        model = models_by_table[report["table"]]
        tables.append(
            {
                **{k: report[k] for k in ("table", "checked", "ok", "first_broken_id", "problem")},
                "complete": report["checked"] < limit or not report["ok"],
                "since_rows": report["rows"],
                "state_drift": state_drift(model) if issubclass(model, TransitionLogBase) else [],
            }
        )
    return {"ok": all(t["ok"] and not t["state_drift"] for t in tables), "against": against, "tables": tables}


# --- the change history (django-pghistory event tables, apps.audit_log.models) ------------------------------------

# The public name of each tracked model: the ``model`` of a change row and filter, and (as a route) of
# /api/audit/<route>/<id>/history/.
CHANGE_MODELS: dict[str, type[models.Model]] = {
    "user": UserEvent,
    "org_unit": OrgUnitEvent,
    "position": PositionEvent,
    "employee": EmployeeEvent,
    "coverage_requirement": CoverageRequirementEvent,
    "employee_tag": EmployeeTagEvent,
    "position_tag": PositionTagEvent,
    "business_rule": BusinessRuleEvent,
}
HISTORY_ROUTES = {
    "users": "user",
    "org-units": "org_unit",
    "positions": "position",
    "employees": "employee",
    "coverage-requirements": "coverage_requirement",
    "employee-tags": "employee_tag",
    "position-tags": "position_tag",
    "business-rules": "business_rule",
    "assignments": "assignment",
}
_MODEL_BY_LABEL = {event._meta.label: name for name, event in CHANGE_MODELS.items()}
# pghistory's labels and ours: a row is created, updated or deleted.
ACTIONS = {"create": "insert", "update": "update", "delete": "delete"}
_ACTION_BY_LABEL = {label: action for action, label in ACTIONS.items()}


def change_queryset(*, model: str | None = None):
    """Every change row (of one tracked model), oldest first: pghistory's ``Events`` over the event tables.

    Each row carries the snapshot (``pgh_data``), the difference from the object's previous event (``pgh_diff``)
    and the context (``pgh_context``: user, url, request_id, reason). Filter it, page it, then ``change_rows``.
    """
    events = [CHANGE_MODELS[model]] if model else list(CHANGE_MODELS.values())
    queryset = Events.objects.across(*events).order_by("pgh_created_at", "pgh_model", "pgh_id")
    # The triggers, and pghistory's aggregate query, are PostgreSQL's: elsewhere (local SQLite) nothing is recorded.
    return queryset if connection.vendor == "postgresql" else queryset.none()


def uses_triggers() -> bool:
    """Whether the change history is the triggers' (PostgreSQL) or recorded from Python (``backend.audit.recorder``)."""
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class PythonEvent:
    """One change row as pghistory's ``Events`` gives it, built in Python where its SQL cannot run (SQLite)."""

    pgh_model: str
    pgh_id: int
    pgh_obj_id: str
    pgh_label: str
    pgh_data: dict
    pgh_diff: dict | None
    pgh_context: dict | None
    pgh_created_at: datetime.datetime


def _json_value(value):
    # As PostgreSQL's row_to_json gives a snapshot: numbers stay numbers, dates and times become ISO strings.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


def python_events(*, model: str | None = None, object_id: int | None = None, pgh_id: int | None = None) -> list:
    """The change rows (of one model, one object, or one row) with their diffs, oldest first, read from the event
    tables and diffed in Python: the SQLite counterpart of ``change_queryset``. One query per event table."""
    events = []
    for name, event_model in CHANGE_MODELS.items():
        if model and name != model:
            continue
        columns = {f.attname: f.column for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")}
        rows = event_model.objects.order_by("pgh_id")
        if object_id is not None:
            rows = rows.filter(pgh_obj_id=object_id)
        previous: dict[str, dict] = {}
        for row in rows.values("pgh_id", "pgh_obj_id", "pgh_label", "pgh_context", "pgh_created_at", *columns):
            data = {column: _json_value(row[attname]) for attname, column in columns.items()}
            obj = str(row["pgh_obj_id"])
            before = previous.get(obj)
            diff = None
            if row["pgh_label"] == "update":
                before = before or {}
                diff = {k: [before.get(k), v] for k, v in data.items() if before.get(k) != v}
            previous[obj] = data
            if pgh_id is not None and row["pgh_id"] != pgh_id:
                continue
            events.append(
                PythonEvent(
                    event_model._meta.label,
                    row["pgh_id"],
                    obj,
                    row["pgh_label"],
                    data,
                    diff,
                    row["pgh_context"],
                    row["pgh_created_at"],
                )
            )
    return sorted(events, key=lambda e: (e.pgh_created_at, e.pgh_model, e.pgh_id))


def python_events_filter(
    events: list, *, model=None, object=None, actor=None, action=None, field=None, since=None, until=None
) -> list:
    """``ChangeFilterSet``'s filters (its cleaned values) applied to ``python_events`` rows."""
    labels = {CHANGE_MODELS[model]._meta.label} if model else None
    columns = {field, f"{field}_id"} if field else None

    def keep(e) -> bool:
        if labels is not None and e.pgh_model not in labels:
            return False
        if object is not None and e.pgh_obj_id != str(object):
            return False
        if actor is not None and (e.pgh_context or {}).get("user") != actor:
            return False
        if action and e.pgh_label != ACTIONS[action]:
            return False
        if columns and not columns & set(e.pgh_diff if e.pgh_label == "update" else e.pgh_data):
            return False
        return not (since and e.pgh_created_at < since) and not (until and e.pgh_created_at > until)

    return [e for e in events if keep(e)]


def change_events(*, model: str | None = None, object_id: int | None = None):
    """The change rows of one model (and object), oldest first: ``Events`` on PostgreSQL, ``python_events`` else."""
    if not uses_triggers():
        return python_events(model=model, object_id=object_id)
    events = change_queryset(model=model)
    return events.filter(pgh_obj_id=str(object_id)) if object_id is not None else events


def _field_names(event_model) -> dict[str, str]:
    """Column → field name of a tracked model's snapshot (``org_unit_id`` → ``org_unit``)."""
    return {f.column: f.name for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")}


def _changes(event, names: dict[str, str]) -> dict:
    data = event.pgh_data or {}
    if event.pgh_label == "insert":
        return {names.get(k, k): {"before": None, "after": v} for k, v in sorted(data.items())}
    if event.pgh_label == "delete":
        return {names.get(k, k): {"before": v, "after": None} for k, v in sorted(data.items())}
    diff = event.pgh_diff or {}
    return {names.get(k, k): {"before": v[0], "after": v[1]} for k, v in sorted(diff.items())}


# What names a record for people, read from its own snapshot (no query): "E-0042 Ada Lovelace", "P_EAST", ...
_LABELS = {
    "user": lambda d: d.get("email") or "",
    "org_unit": lambda d: d.get("code") or "",
    "position": lambda d: d.get("code") or "",
    "employee": lambda d: " ".join(str(d.get(k) or "") for k in ("employee_number", "first_name", "last_name")).strip(),
    "business_rule": lambda d: d.get("code") or "",
}


def object_label(model: str, data: dict | None) -> str:
    label = _LABELS.get(model)
    return label(data or {}) if label else ""


def actor_label(*, context: dict | None, email: str) -> str:
    """Who made a change: the user's email; "system" for code that set a context without a user (a command, a
    job); "database" when no context reached the database at all (raw SQL, a shell without ``pghistory.context``)."""
    if email:
        return email
    return "system" if context else "database"


def change_rows(events) -> list[dict]:
    """The change rows of a page of ``Events``, actor emails included (one query for the page)."""
    events = list(events)
    actor_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
    emails = dict(get_user_model()._default_manager.filter(pk__in=actor_ids).values_list("pk", "email"))
    rows = []
    for event in events:
        name = _MODEL_BY_LABEL[event.pgh_model]
        context = event.pgh_context or {}
        actor = context.get("user")
        email = emails.get(actor, "")
        rows.append(
            {
                "id": f"{name}:{event.pgh_id}",
                "model": name,
                "object_id": int(event.pgh_obj_id),
                "object_label": object_label(name, event.pgh_data),
                "action": _ACTION_BY_LABEL.get(event.pgh_label, event.pgh_label),
                "changes": _changes(event, _field_names(CHANGE_MODELS[name])),
                "actor": actor,
                "actor_email": email,
                "actor_label": actor_label(context=event.pgh_context, email=email),
                "created_at": event.pgh_created_at,
                "request_id": context.get("request_id", ""),
                "reason": context.get("reason", ""),
            }
        )
    return rows


def record_history(*, model: str, object_id: int) -> list[dict]:
    """Everything the trail knows about one record, oldest first: its field changes, its transitions (employees,
    assignments) and its tag changes (employees, positions). Each item has ``kind`` ("change", "transition",
    "tag_change"), ``created_at``, ``actor``, ``actor_email``, ``request_id`` and its own details.

    ``model`` is a ``CHANGE_MODELS`` name or "assignment". A handful of queries, whatever the history's length.
    """
    items = []
    if model in CHANGE_MODELS:
        events = change_events(model=model, object_id=object_id)
        items += [{"kind": "change", **row} for row in change_rows(events)]
    transition_logs = {"employee": EmployeeTransitionLog, "assignment": AssignmentTransitionLog}
    if model in transition_logs:
        log_model = transition_logs[model]
        for row in log_model.objects.filter(**{f"{log_model.subject_field}_id": object_id}).order_by("id"):
            items.append(
                {
                    "kind": "transition",
                    "id": row.pk,
                    "transition": row.transition,
                    "source": row.source_state,
                    "target": row.target_state,
                    "reason": row.reason,
                    "effective_date": row.effective_date,
                    "actor": row.actor_id,
                    "actor_email": row.actor_email,
                    "created_at": row.created_at,
                    "request_id": row.request_id,
                }
            )
    if model in ("employee", "position"):
        for row in TagChangeLog.objects.filter(**{f"{model}_id": object_id}).select_related("tag").order_by("id"):
            items.append(
                {
                    "kind": "tag_change",
                    "id": row.pk,
                    "action": row.action,
                    "tag": row.tag_id,
                    "tag_code": row.tag.code,
                    "before": row.before,
                    "after": row.after,
                    "actor": row.actor_id,
                    "actor_email": row.actor_email,
                    "created_at": row.created_at,
                    "request_id": row.request_id,
                }
            )
    return sorted(items, key=lambda item: item["created_at"])


def employee_as_of(*, employee_id: int, at: datetime.datetime) -> dict:
    """The whole employee record as it was at ``at``: the last change-history snapshot at or before ``at``, with
    the state its transition log gives. Raises ``BeforeCreationError`` when nothing was recorded by then, and
    ``DeletedError`` when the employee had been deleted by then. Three queries at most."""
    event = EmployeeEvent.objects.filter(pgh_obj_id=employee_id, pgh_created_at__lte=at).order_by("-pgh_id").first()
    if event is None:
        raise BeforeCreationError(f"No record of employee {employee_id} at or before {at.isoformat()}.")
    if event.pgh_label == "delete":
        raise DeletedError(f"Employee {employee_id} had been deleted by {at.isoformat()}.")
    record = {
        (name[:-3] if name.endswith("_id") and name != "id" else name): value
        for name, value in ((f.attname, getattr(event, f.attname)) for f in EmployeeEvent._meta.concrete_fields)
        if not name.startswith("pgh_")
    }
    logs = EmployeeTransitionLog.objects.filter(employee_id=employee_id)
    last = logs.filter(created_at__lte=at).order_by("-created_at", "-id").first()
    if last is not None:
        state = last.target_state
    else:
        first = logs.order_by("created_at", "id").only("source_state").first()
        state = first.source_state if first else Employee._meta.get_field("state").get_default()
    record["state"] = state
    return {"employee": employee_id, "at": at, "recorded_at": event.pgh_created_at, "record": record}


class DeletedError(ValueError):
    """The record had been deleted by the moment asked about."""
