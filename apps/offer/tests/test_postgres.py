"""PostgreSQL-only: concurrent clock events and reversals are serialised by the employee's row lock."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from apps.business_rules.models import BusinessRule
from apps.offer import services
from apps.offer.models import ClockEvent, LedgerEntry
from apps.offer.tests.conftest import D, at
from backend.exceptions import ConflictError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(n: int, work) -> list[str]:
    """Run ``work()`` in ``n`` threads released together; each outcome is "ok" or the refusal's class name."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            work()
            outcomes.append("ok")
        except Exception as exc:  # the outcome is what the test compares
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.fixture
def slow_rules(monkeypatch):
    """Widen the window between the checks and the write, so a missing lock would always show."""
    real = services.evaluate_event

    def slow(**kwargs):
        results = real(**kwargs)
        time.sleep(0.3)
        return results

    monkeypatch.setattr(services, "evaluate_event", slow)


def clock_rule(*, is_active: bool) -> None:
    """The seeded CLOCK_ONCE_PER_DAY, on or off (transactional tests flush migration data, so make sure)."""
    BusinessRule.objects.update_or_create(
        code="CLOCK_ONCE_PER_DAY",
        defaults={"is_active": is_active},
        create_defaults={
            "name": "One clock-in per day",
            "rule_type": "single_clock_in_per_day",
            "params": {},
            "severity": "block",
            "events": ["clock.in"],
            "is_active": is_active,
        },
    )


def test_two_simultaneous_clock_ins_open_one_shift(active, hr, slow_rules):
    """The second waits for the employee lock, then the rule counts the first's clock-in and refuses it."""
    clock_rule(is_active=True)
    employee = active()
    outcomes = race(2, lambda: services.clock_in(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 6), 9)))
    assert outcomes == ["RuleViolationError", "ok"]
    assert ClockEvent.objects.filter(employee=employee).count() == 1


def test_two_simultaneous_clock_ins_open_one_shift_with_the_rule_off(active, hr, slow_rules):
    clock_rule(is_active=False)
    employee = active()
    outcomes = race(2, lambda: services.clock_in(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 6), 9)))
    assert outcomes == ["ConflictError", "ok"]
    assert ClockEvent.objects.filter(employee=employee).count() == 1


def test_two_simultaneous_clock_outs_post_one_worked_entry(active, hr, slow_rules):
    employee = active()
    services.clock_in(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 6), 9))
    outcomes = race(2, lambda: services.clock_out(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 6), 12)))
    assert outcomes == ["ConflictError", "ok"]
    assert LedgerEntry.objects.filter(employee=employee, kind="worked").count() == 1


def test_two_simultaneous_reversals_post_one(active, hr):
    employee = active()
    entry = services.ledger_adjust(
        actor=hr,
        employee=employee,
        adjusts="worked",
        hours=Decimal(2),
        period_start=D(2026, 1, 6),
        period_end=D(2026, 1, 6),
        reason="Timesheet",
    )
    outcomes = race(2, lambda: services.ledger_reverse(actor=hr, entry=entry, reason="Duplicate"))
    assert outcomes == [ConflictError.__name__, "ok"]
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1
