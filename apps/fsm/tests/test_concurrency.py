"""Concurrent transitions on PostgreSQL: the row lock serialises one employee, the advisory lock one chain.

Real threads with their own connections, committed data (``transaction=True``). No timing assertions: where
the order matters, a hook holds the first transaction open and the test waits until PostgreSQL reports the
second one blocked on a lock before letting the first finish.
"""

import threading
import time

import pytest
from django.db import connection

from apps.api.models import Employee
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import TransitionOutcome, employee_transition
from backend.audit.chain import chain_verify
from backend.exceptions import TransitionNotAllowedError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Only a guard against hanging the suite if something deadlocks; no assertion depends on elapsed time.
PATIENCE_SECONDS = 60


class Worker(threading.Thread):
    """Runs ``call`` on its own database connection (after ``barrier``, if given); keeps the result or error."""

    def __init__(self, call, barrier: threading.Barrier | None = None):
        super().__init__(daemon=True)
        self.call, self.barrier = call, barrier
        self.result = None

    def run(self):
        try:
            if self.barrier:
                self.barrier.wait(timeout=PATIENCE_SECONDS)
            self.result = self.call()
        except Exception as exc:
            self.result = exc
        finally:
            connection.close()

    def finish(self):
        self.join(timeout=PATIENCE_SECONDS)
        assert not self.is_alive(), "worker hung"
        return self.result


def transition(employee_id: int, name: str, actor):
    return lambda: employee_transition(employee_id=employee_id, name=name, actor=actor)


def race(*calls) -> list:
    barrier = threading.Barrier(len(calls))
    workers = [Worker(call, barrier) for call in calls]
    for worker in workers:
        worker.start()
    return [worker.finish() for worker in workers]


def wait_until_blocked(worker: Worker, wait_event: str | None = None) -> None:
    """Return once another backend of this database waits on a lock (of kind ``wait_event``, if given)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND wait_event_type = 'Lock'" + (" AND wait_event = %s" if wait_event else "")
    )
    while time.monotonic() < deadline:
        assert worker.is_alive(), f"the second transition did not wait for the lock: {worker.result!r}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [wait_event] if wait_event else [])
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    pytest.fail("the second transition never waited on a lock")


@pytest.fixture
def held(after_hook):
    """``held(event)`` → (inside, release): the transition for ``event`` pauses, inside its transaction and
    after its log row, until ``release`` is set."""

    def _hold(event: str):
        inside, release = threading.Event(), threading.Event()

        def hold(instance, request, log_entry):
            inside.set()
            release.wait(timeout=PATIENCE_SECONDS)

        after_hook(event, hold)
        return inside, release

    return _hold


@pytest.mark.parametrize("contenders", [2, 6])
def test_the_same_transition_requested_at_once_succeeds_exactly_once(make_employee, hr, contenders):
    employee = make_employee("pending")
    results = race(*[transition(employee.pk, "activate", hr)] * contenders)

    wins = [r for r in results if isinstance(r, TransitionOutcome)]
    refusals = [r for r in results if isinstance(r, TransitionNotAllowedError)]
    assert (len(wins), len(refusals)) == (1, contenders - 1), results
    assert all(r.details["current_state"] == "active" for r in refusals)
    assert list(EmployeeTransitionLog.objects.filter(employee=employee).values_list("transition", flat=True)) == [
        "activate"
    ]
    assert chain_verify(EmployeeTransitionLog).ok


def test_different_transitions_at_once_end_as_one_of_the_serial_orders(make_employee, hr):
    """terminate and start_leave from active: terminate first refuses start_leave (409); start_leave first leaves
    terminate allowed (on_leave → terminated). Nothing else (two rows from one source state, a lost update) may
    happen."""
    employee = make_employee("active")
    before = set(EmployeeTransitionLog.objects.values_list("id", flat=True))
    terminate, start_leave = race(transition(employee.pk, "terminate", hr), transition(employee.pk, "start_leave", hr))

    rows = list(EmployeeTransitionLog.objects.exclude(id__in=before).order_by("id"))
    logged = [(r.transition, r.source_state, r.target_state) for r in rows]
    assert isinstance(terminate, TransitionOutcome), terminate
    if isinstance(start_leave, TransitionNotAllowedError):
        assert start_leave.details["current_state"] == "terminated"
        assert logged == [("terminate", "active", "terminated")]
    else:
        assert isinstance(start_leave, TransitionOutcome), start_leave
        assert logged == [("start_leave", "active", "on_leave"), ("terminate", "on_leave", "terminated")]
    assert Employee.objects.get(pk=employee.pk).state == "terminated"
    assert chain_verify(EmployeeTransitionLog).ok


def test_a_second_transition_waits_for_the_row_lock_and_then_sees_the_new_state(make_employee, hr, held):
    employee = make_employee("active")
    inside, release = held("employee.terminate")
    first = Worker(transition(employee.pk, "terminate", hr))
    first.start()
    assert inside.wait(PATIENCE_SECONDS)

    second = Worker(transition(employee.pk, "suspend", hr))
    second.start()
    try:
        wait_until_blocked(second)  # on the employee's row, held by the first transaction
    finally:
        release.set()

    assert isinstance(first.finish(), TransitionOutcome)
    refused = second.finish()
    assert isinstance(refused, TransitionNotAllowedError), refused
    assert refused.details == {"current_state": "terminated", "allowed_transitions": ["rehire"]}
    assert EmployeeTransitionLog.objects.filter(employee=employee).count() == 2  # activate + terminate
    assert chain_verify(EmployeeTransitionLog).ok


def test_appends_to_one_chain_are_serialised_across_employees(make_employee, hr, held):
    one, other = make_employee("active"), make_employee("pending")
    inside, release = held("employee.terminate")
    first = Worker(transition(one.pk, "terminate", hr))
    first.start()
    assert inside.wait(PATIENCE_SECONDS)

    second = Worker(transition(other.pk, "activate", hr))
    second.start()
    try:
        wait_until_blocked(second, "advisory")  # a different row, but the same chain
    finally:
        release.set()

    first_row, second_row = first.finish().log_entry, second.finish().log_entry
    assert second_row.prev_hash == first_row.hash
    assert chain_verify(EmployeeTransitionLog).ok


def test_many_employees_at_once_keep_one_unbroken_chain(make_employee, hr):
    employees = [make_employee("active") for _ in range(6)]
    before = EmployeeTransitionLog.objects.count()
    results = race(*[transition(e.pk, "start_leave", hr) for e in employees])

    assert all(isinstance(r, TransitionOutcome) for r in results), results
    rows = list(EmployeeTransitionLog.objects.order_by("id"))
    assert len(rows) == before + 6
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two rows chained to the same predecessor
    assert chain_verify(EmployeeTransitionLog).ok
