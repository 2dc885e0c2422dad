"""PostgreSQL-only guarantees: the exclusion constraint and no write skew under concurrent approvals."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import assignment_transition
from apps.business_rules.services import rule_create
from apps.fsm.services import employee_transition
from backend.exceptions import RuleViolationError

D = datetime.date
pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_exclusion_constraint_forbids_overlapping_open_assignments_to_one_position():
    employee, position = EmployeeFactory(), PositionFactory()
    Assignment.objects.create(employee=employee, position=position, start_date=D(2026, 1, 1), weekly_hours=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            employee=employee, position=position, start_date=D(2026, 6, 1), end_date=D(2026, 7, 1), weekly_hours=10
        )
    # Another position, or a period that does not overlap, is fine.
    Assignment.objects.create(employee=employee, position=PositionFactory(), start_date=D(2026, 6, 1), weekly_hours=5)
    other = EmployeeFactory()
    Assignment.objects.create(employee=other, position=position, start_date=D(2026, 6, 1), weekly_hours=5)
    assert Assignment.objects.count() == 3


@pytest.mark.django_db
def test_constraint_violation_reaching_the_api_is_409(auth_client):
    """The rule gives the friendly message; when no rule is configured the constraint still answers 409."""
    client, _ = auth_client("hr")
    employee, position = EmployeeFactory(), PositionFactory()
    body = {"employee": employee.pk, "position": position.pk, "start_date": "2026-01-01", "weekly_hours": "10"}
    assert client.post("/api/assignments/", body, format="json").status_code == 201
    response = client.post("/api/assignments/", {**body, "start_date": "2026-02-01"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Assignment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_cannot_break_max_hours_together(make_user, monkeypatch):
    """Each approval alone fits 40 h (30 + 0); together they would make 60 h. Exactly one may pass."""
    import time

    from apps.fsm import services as fsm_services

    real_evaluate = fsm_services.evaluate_event

    def slow_evaluate(**kwargs):
        results = real_evaluate(**kwargs)
        time.sleep(0.3)  # widen the window between "check" and "write" so a missing lock always shows
        return results

    monkeypatch.setattr(fsm_services, "evaluate_event", slow_evaluate)
    hr = make_user("hr")
    employee = EmployeeFactory(contracted_weekly_hours=40)
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    rule_create(
        code="MAX40",
        name="Max 40",
        rule_type="max_weekly_hours",
        params={"max_hours": 40},
        events=["assignment.approve"],
    )
    a1 = Assignment.objects.create(
        employee=employee, position=PositionFactory(), start_date=D(2026, 2, 2), weekly_hours=30
    )
    a2 = Assignment.objects.create(
        employee=employee, position=PositionFactory(), start_date=D(2026, 2, 2), weekly_hours=30
    )

    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def approve(assignment_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            assignment_transition(assignment_id=assignment_id, name="approve", actor=hr)
            outcomes[assignment_id] = "ok"
        except RuleViolationError:
            outcomes[assignment_id] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(a.pk,)) for a in (a1, a2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["ok", "refused"]
    assert Assignment.objects.filter(state="approved").count() == 1
    assert AssignmentTransitionLog.objects.filter(transition="approve").count() == 1
    approved_hours = sum(a.weekly_hours for a in Assignment.objects.filter(state="approved"))
    assert approved_hours <= Decimal(40)


@pytest.mark.django_db
def test_assignment_writes_lock_only_their_own_rows(make_user):
    """Locks taken while proposing or editing name their own table (FOR UPDATE OF), so an assignment edit never
    holds the org unit or position rows an org-unit move locks (no cross-deadlock with moves)."""
    from django.test.utils import CaptureQueriesContext

    from apps.assignments.services import assignment_create, assignment_update

    hr = make_user("hr")
    employee, position = EmployeeFactory(), PositionFactory()
    with CaptureQueriesContext(connection) as queries:
        assignment, _ = assignment_create(
            actor=hr, employee=employee, position=position, start_date=D(2026, 1, 5), weekly_hours=Decimal(10)
        )
        assignment_update(assignment=assignment, actor=hr, weekly_hours=Decimal(12))
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert locking
    assert all(" FOR UPDATE OF " in sql or " JOIN " not in sql for sql in locking), locking
