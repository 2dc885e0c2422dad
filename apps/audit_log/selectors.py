"""Reads over the log tables: point-in-time state and the hash-chain report. Nothing here writes."""

import datetime
from dataclasses import dataclass

from django.db import models

from apps.api.models import Employee
from apps.audit_core.chain import chain_verify, chained_log_models
from apps.fsm.models import EmployeeTransitionLog, TransitionLogBase
from apps.fsm.selectors import state_drift


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


def audit_chain_report() -> dict:
    """What ``manage.py verify_audit_chain`` checks, as data: each chained table's hash chain and state drift.

    ``ok`` is true only when every chain is intact and every object's state is the one its log explains.
    """
    tables = []
    for model in chained_log_models():
        report = chain_verify(model).as_dict()
        report["state_drift"] = state_drift(model) if issubclass(model, TransitionLogBase) else []
        tables.append(report)
    return {"ok": all(t["ok"] and not t["state_drift"] for t in tables), "tables": tables}
