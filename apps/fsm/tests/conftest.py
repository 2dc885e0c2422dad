"""Fixtures for the lifecycle tests: employees in any state (reached through real transitions), rule stubs."""

import datetime
from dataclasses import dataclass

import pytest

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory
from apps.fsm import services
from apps.fsm.models import EmployeeTransitionLog

HIRE_DATE = datetime.date(2026, 1, 5)

# The lifecycle as SPEC §4 states it ("Names the front end relies on"), written out rather than read from the
# model, so a wrong source or target in the model fails the tests: transition → {source: target}.
LIFECYCLE = {
    "activate": {"pending": "active"},
    "start_leave": {"active": "on_leave"},
    "return_from_leave": {"on_leave": "active"},
    "suspend": {"active": "suspended", "on_leave": "suspended"},
    "reinstate": {"suspended": "active"},
    "terminate": dict.fromkeys(("pending", "active", "on_leave", "suspended"), "terminated"),
    "rehire": {"terminated": "pending"},
}
STATES = ("pending", "active", "on_leave", "suspended", "terminated")
# How to reach each state from pending, through the service.
PATH_TO = {
    "pending": [],
    "active": ["activate"],
    "on_leave": ["activate", "start_leave"],
    "suspended": ["activate", "suspend"],
    "terminated": ["terminate"],
}


def allowed_from(state: str) -> list[str]:
    return sorted(name for name, moves in LIFECYCLE.items() if state in moves)


@dataclass(frozen=True)
class Snapshot:
    """Everything a transition may write, read fresh from the database."""

    state: str
    hire_date: datetime.date
    termination_date: datetime.date | None
    log_ids: tuple[int, ...]


def snapshot(employee_id: int) -> Snapshot:
    row = Employee.objects.values("state", "hire_date", "termination_date").get(pk=employee_id)
    log_ids = tuple(EmployeeTransitionLog.objects.order_by("id").values_list("id", flat=True))
    return Snapshot(row["state"], row["hire_date"], row["termination_date"], log_ids)


def rule_result(code: str = "R1", *, outcome: str = "fail", severity: str = "block", **extra) -> dict:
    """A rule result in the engine's shape (SPEC "A rule result")."""
    return {
        "rule": code,
        "version": 1,
        "rule_type": "reason_required",
        "outcome": outcome,
        "severity": severity,
        "message": f"{code} says {outcome}.",
        "observed": None,
        "threshold": None,
        "remediation": "Give a reason." if outcome == "fail" else "",
        "related": [],
        **extra,
    }


@pytest.fixture
def hr(make_user):
    return make_user("hr")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def make_employee(db, admin):
    """``make_employee(state="active", **fields)`` → an employee brought to ``state`` by real transitions."""

    def _make(state: str = "pending", **fields) -> Employee:
        fields.setdefault("hire_date", HIRE_DATE)
        employee = EmployeeFactory(**fields)
        for name in PATH_TO[state]:
            services.employee_transition(
                employee_id=employee.pk, name=name, actor=admin, effective_date=fields["hire_date"]
            )
        return Employee.objects.get(pk=employee.pk)

    return _make


@pytest.fixture
def employee(make_employee) -> Employee:
    return make_employee("pending")


@pytest.fixture
def rules(monkeypatch):
    """``rules(results)`` makes the engine return ``results`` (or ``results(event, context)``) for every event.

    Returns the list of (event, context) calls the engine received.
    """
    calls: list[tuple[str, dict]] = []

    def _set(results):
        def fake_evaluate_event(*, event, context):
            calls.append((event, context))
            return results(event, context) if callable(results) else [dict(r) for r in results]

        monkeypatch.setattr(services, "evaluate_event", fake_evaluate_event)
        return calls

    return _set


@pytest.fixture
def after_hook():
    """``after_hook(event, fn)`` registers a hook for the test's duration only."""
    registered: list[tuple[str, object]] = []

    def _register(event: str, fn):
        services.register_after_transition(event, fn)
        registered.append((event, fn))
        return fn

    yield _register
    for event, fn in registered:
        services._after_hooks[event].remove(fn)
