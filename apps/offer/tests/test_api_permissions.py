"""Permission matrix: every role against every method of the ledger entries, clock events and clock endpoints.

Roles: admin, hr, manager (of ``east``), auditor, employee (emp_in's user), "none" (a user without a role) and
None (anonymous). "in" objects belong to emp_in (east), "out" objects to emp_out (west).
"""

from decimal import Decimal

import pytest

from apps.offer.models import ClockEvent, LedgerEntry
from apps.offer.services import clock_in, ledger_adjust
from apps.offer.tests.conftest import D, assert_error, at

ROLES = ["admin", "hr", "manager", "auditor", "employee", "none", None]
READERS = {"admin", "hr", "manager", "auditor", "employee"}
ADJUSTERS = {"admin", "hr"}
VISIBLE = {
    "admin": {"in", "out"},
    "hr": {"in", "out"},
    "auditor": {"in", "out"},
    "manager": {"in"},
    "employee": {"in"},
}
ENTRIES = "/api/hours-ledger/entries/"
EVENTS = "/api/clock/events/"


def denied(response, role) -> None:
    if role is None:
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 403, "permission_denied")


@pytest.fixture
def objects(world, hr) -> dict:
    """A manual adjustment and a clock event per side."""
    made = {}
    for side, employee in (("in", world.emp_in), ("out", world.emp_out)):
        made[f"entry_{side}"] = ledger_adjust(
            actor=hr,
            employee=employee,
            adjusts="worked",
            hours=Decimal(2),
            period_start=D(2026, 1, 6),
            period_end=D(2026, 1, 6),
            reason="Correction",
        )
        made[f"event_{side}"] = clock_in(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 6), 9))[0]
    return made


@pytest.mark.parametrize("role", ROLES)
def test_entries_list(world, objects, client_as, role):
    response = client_as(role).get(ENTRIES)
    if role not in READERS:
        denied(response, role)
        return
    assert response.status_code == 200
    employees = {row["employee"] for row in response.json()["results"]}
    expected = {world.emp_in.pk if side == "in" else world.emp_out.pk for side in VISIBLE[role]}
    assert employees == expected


@pytest.mark.parametrize("side", ["in", "out"])
@pytest.mark.parametrize("role", ROLES)
def test_entries_retrieve(world, objects, client_as, role, side):
    response = client_as(role).get(f"{ENTRIES}{objects[f'entry_{side}'].pk}/")
    if role not in READERS:
        denied(response, role)
        return
    if side in VISIBLE[role]:
        assert response.status_code == 200
    else:
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ROLES)
def test_entries_create(world, objects, client_as, role):
    body = {
        "employee": world.emp_in.pk,
        "adjusts": "leave",
        "hours": "8",
        "period_start": "2026-01-07",
        "period_end": "2026-01-07",
        "reason": "Sick day",
    }
    count = LedgerEntry.objects.count()
    response = client_as(role).post(ENTRIES, body)
    if role in ADJUSTERS:
        assert response.status_code == 201, response.content
        assert LedgerEntry.objects.count() == count + 1
    else:
        denied(response, role)
        assert LedgerEntry.objects.count() == count


@pytest.mark.parametrize("role", ROLES)
def test_entries_reverse(world, objects, client_as, role):
    count = LedgerEntry.objects.count()
    response = client_as(role).post(f"{ENTRIES}{objects['entry_in'].pk}/reverse/", {"reason": "Wrong"})
    if role in ADJUSTERS:
        assert response.status_code == 201, response.content
        assert LedgerEntry.objects.count() == count + 1
    else:
        denied(response, role)
        assert LedgerEntry.objects.count() == count


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_entries_cannot_be_changed_or_deleted(world, objects, client_as, role, method):
    entry = objects["entry_in"]
    for url in (f"{ENTRIES}{entry.pk}/", ENTRIES):
        assert_error(getattr(client_as(role), method)(url, {"hours": "0"}), 405, "method_not_allowed")
    assert LedgerEntry.objects.get(pk=entry.pk).hours == Decimal(2)


@pytest.mark.parametrize("role", ROLES)
def test_clock_events_list(world, objects, client_as, role):
    response = client_as(role).get(EVENTS)
    if role not in READERS:
        denied(response, role)
        return
    assert response.status_code == 200
    employees = {row["employee"] for row in response.json()["results"]}
    assert employees == {world.emp_in.pk if side == "in" else world.emp_out.pk for side in VISIBLE[role]}


@pytest.mark.parametrize("side", ["in", "out"])
@pytest.mark.parametrize("role", ROLES)
def test_clock_events_retrieve(world, objects, client_as, role, side):
    response = client_as(role).get(f"{EVENTS}{objects[f'event_{side}'].pk}/")
    if role not in READERS:
        denied(response, role)
        return
    if side in VISIBLE[role]:
        assert response.status_code == 200
    else:
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_clock_events_are_read_only(world, objects, client_as, role, method):
    event = objects["event_in"]
    assert_error(getattr(client_as(role), method)(f"{EVENTS}{event.pk}/", {}), 405, "method_not_allowed")
    assert_error(getattr(client_as(role), method)(EVENTS, {}), 405, "method_not_allowed")
    assert ClockEvent.objects.get(pk=event.pk).is_open


# Clocking for emp_in (the employee user's own record) and for emp_out (someone else's).
CLOCK_FOR = {
    "in": {"admin", "hr", "employee"},
    "out": {"admin", "hr"},
}


@pytest.mark.parametrize("side", ["in", "out"])
@pytest.mark.parametrize("role", ROLES)
def test_clock_in_and_out(world, client_as, clock, role, side):
    employee = world.emp_in if side == "in" else world.emp_out
    client = client_as(role)
    clock(at(D(2026, 1, 6), 9))
    response = client.post("/api/clock/in/", {"employee": employee.pk})
    if role in CLOCK_FOR[side]:
        assert response.status_code == 201, response.content
        clock(at(D(2026, 1, 6), 12))
        assert client.post("/api/clock/out/", {"employee": employee.pk}).status_code == 200
        assert LedgerEntry.objects.filter(kind="worked", employee=employee).count() == 1
        return
    denied(response, role)
    denied(client.post("/api/clock/out/", {"employee": employee.pk}), role)
    assert not ClockEvent.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/clock/in/", "/api/clock/out/"])
@pytest.mark.parametrize("role", ["admin", "employee", None])
def test_clock_endpoints_take_only_post(world, client_as, role, path, method):
    assert_error(getattr(client_as(role), method)(path), 405, "method_not_allowed")
