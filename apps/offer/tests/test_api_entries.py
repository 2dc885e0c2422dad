"""/api/hours-ledger/entries/ and /api/clock/events/: filters, and bad input answered 400 in the error shape with
nothing written."""

from decimal import Decimal

import pytest

from apps.offer.models import LedgerEntry
from apps.offer.services import clock_in, clock_out, ledger_adjust
from apps.offer.tests.conftest import D, assert_error, at

URL = "/api/hours-ledger/entries/"


@pytest.fixture
def ledger(world, assign, hr):
    """emp_in: contract (Jan 5, open), assignment Feb 2–Feb 27 approved, a leave adjustment on Mar 3."""
    assignment = assign(world.emp_in, D(2026, 2, 2), D(2026, 2, 27))
    adjustment = ledger_adjust(
        actor=hr,
        employee=world.emp_in,
        adjusts="leave",
        hours=Decimal(8),
        period_start=D(2026, 3, 3),
        period_end=D(2026, 3, 3),
        reason="Sick",
    )
    return {"assignment": assignment, "adjustment": adjustment}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def entry_ids(**filters) -> set[int]:
    return set(LedgerEntry.objects.filter(**filters).values_list("id", flat=True))


def test_filters(world, ledger, client_as):
    client = client_as("hr")
    assert ids(client.get(URL, {"employee": world.emp_out.pk})) == entry_ids(employee=world.emp_out)
    assert ids(client.get(URL, {"kind": "assigned"})) == entry_ids(kind="assigned")
    assert ids(client.get(URL, {"kind": ["assigned", "adjustment"]})) == entry_ids(kind__in=["assigned", "adjustment"])
    assert ids(client.get(URL, {"column": "leave"})) == {ledger["adjustment"].pk}
    assert ids(client.get(URL, {"source": "manual"})) == {ledger["adjustment"].pk}
    assert ids(client.get(URL, {"assignment": ledger["assignment"].pk})) == entry_ids(assignment=ledger["assignment"])


def test_since_and_until_select_overlapping_periods(world, ledger, client_as):
    client = client_as("hr")
    mine = {"employee": world.emp_in.pk}
    contract = LedgerEntry.objects.get(employee=world.emp_in, kind="contracted").pk
    assigned = LedgerEntry.objects.get(kind="assigned", employee=world.emp_in).pk
    adjustment = ledger["adjustment"].pk
    assert ids(client.get(URL, {**mine, "since": "2026-03-01"})) == {contract, adjustment}
    assert ids(client.get(URL, {**mine, "until": "2026-01-31"})) == {contract}
    assert ids(client.get(URL, {**mine, "since": "2026-02-27", "until": "2026-02-27"})) == {contract, assigned}
    assert ids(client.get(URL, {**mine, "since": "2026-02-28", "until": "2026-03-02"})) == {contract}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"employee": 999999}, "employee"),
        ({"employee": "abc"}, "employee"),
        ({"assignment": 999999}, "assignment"),
        ({"kind": "overtime"}, "kind"),
        ({"column": "adjustment"}, "column"),
        ({"source": "magic"}, "source"),
        ({"since": "2026-02-30"}, "since"),
        ({"until": "soon"}, "until"),
        ({"since": "2026-03-01", "until": "2026-02-01"}, "until"),
    ],
)
def test_bad_filters_are_400(world, client_as, params, field):
    assert_error(client_as("hr").get(URL, params), 400, "validation_error", field=field)


def valid(world, **overrides) -> dict:
    return {
        "employee": world.emp_in.pk,
        "adjusts": "contracted",
        "basis": "weekly_rate",
        "hours": "-4.5",
        "period_start": "2026-01-12",
        "period_end": "2026-01-18",
        "reason": "Reduced week",
        **overrides,
    }


def test_a_valid_adjustment_is_accepted(world, client_as):
    response = client_as("hr").post(URL, valid(world))
    assert response.status_code == 201, response.content
    assert response.json()["hours"] == "-4.50"


def test_an_open_ended_weekly_rate_adjustment_is_accepted(world, client_as):
    response = client_as("hr").post(URL, valid(world, period_end=None))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": None}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"hours": "abc"}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"hours": "Infinity"}, "hours"),
        ({"hours": "0"}, "hours"),
        ({"hours": "1.234"}, "hours"),
        ({"hours": "168.01"}, "hours"),
        ({"hours": "-168.01"}, "hours"),
        ({"hours": "123456789"}, "hours"),
        ({"basis": "total", "hours": "24.01", "period_end": "2026-01-12"}, "hours"),
        ({"basis": "total", "period_end": None}, "period_end"),
        ({"period_end": "2026-01-11"}, "period_end"),
        ({"period_start": "2026-02-30"}, "period_start"),
        ({"adjusts": "adjustment"}, "adjusts"),
        ({"adjusts": ""}, "adjusts"),
        ({"basis": "hourly"}, "basis"),
        ({"employee": 999999}, "employee"),
        ({"employee": "me"}, "employee"),
        ({"employee": None}, "employee"),
    ],
)
def test_bad_adjustments_are_400_and_write_nothing(world, client_as, overrides, field):
    body = valid(world, **overrides)
    if overrides.get("reason", "") is None:
        del body["reason"]
    count = LedgerEntry.objects.count()
    assert_error(client_as("hr").post(URL, body), 400, "validation_error", field=field)
    assert LedgerEntry.objects.count() == count


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}])
def test_a_reversal_without_reason_is_400(world, ledger, client_as, body):
    count = LedgerEntry.objects.count()
    response = client_as("hr").post(f"{URL}{ledger['adjustment'].pk}/reverse/", body)
    assert_error(response, 400, "validation_error", field="reason")
    assert LedgerEntry.objects.count() == count


def test_reversing_an_unknown_entry_is_404(world, client_as):
    assert_error(client_as("hr").post(f"{URL}999999/reverse/", {"reason": "x"}), 404, "not_found")


def test_malformed_json_is_400(world, client_as):
    response = client_as("hr").post(URL, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}


# --- clock events ---------------------------------------------------------------------------------------


@pytest.fixture
def shifts(world, hr):
    """a: emp_in Jan 5 (closed), b: emp_in Jan 7 (open), c: emp_out Jan 7, 9:00–10:00."""
    a = clock_in(actor=hr, employee_id=world.emp_in.pk, at=at(D(2026, 1, 5), 9))[0]
    clock_out(actor=hr, employee_id=world.emp_in.pk, at=at(D(2026, 1, 5), 17))
    b = clock_in(actor=hr, employee_id=world.emp_in.pk, at=at(D(2026, 1, 7), 9))[0]
    c = clock_in(actor=hr, employee_id=world.emp_out.pk, at=at(D(2026, 1, 7), 9))[0]
    clock_out(actor=hr, employee_id=world.emp_out.pk, at=at(D(2026, 1, 7), 10))
    return {"a": a, "b": b, "c": c}


def test_clock_event_filters(world, shifts, client_as):
    client = client_as("hr")
    url = "/api/clock/events/"
    a, b, c = shifts["a"].pk, shifts["b"].pk, shifts["c"].pk
    assert ids(client.get(url, {"employee": world.emp_in.pk})) == {a, b}
    assert ids(client.get(url, {"day": "2026-01-07"})) == {b, c}
    assert ids(client.get(url, {"since": "2026-01-06"})) == {b, c}
    assert ids(client.get(url, {"until": "2026-01-06"})) == {a}
    assert ids(client.get(url, {"open": "true"})) == {b}
    assert ids(client.get(url, {"open": "false"})) == {a, c}
    rows = client.get(url).json()["results"]
    assert [row["id"] for row in rows] == [b, c, a]  # newest clock-in first, then id
    assert [row["hours"] for row in rows] == [None, "1.00", "8.00"]


@pytest.mark.parametrize(
    "params",
    [{"employee": 999999}, {"day": "2026-13-01"}, {"since": "2026-01-08", "until": "2026-01-01"}, {"open": "maybe"}],
)
def test_bad_clock_event_filters_are_400(world, client_as, params):
    assert_error(client_as("hr").get("/api/clock/events/", params), 400, "validation_error")


HUGE = 99999999999999999999  # past any integer column: must be "unknown", not a database error


@pytest.mark.parametrize(
    ("method", "url", "data", "status"),
    [
        ("get", "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2026-01-11", "employee": HUGE}, 400),
        ("get", "/api/hours-ledger/balances/", {"from": "2026-01-05", "to": "2026-01-11", "org_unit": HUGE}, 400),
        ("get", URL, {"employee": HUGE}, 400),
        ("get", f"{URL}{HUGE}/", {}, 404),
        ("post", f"{URL}{HUGE}/reverse/", {"reason": "x"}, 404),
        ("get", "/api/clock/events/", {"employee": HUGE}, 400),
        ("post", "/api/clock/in/", {"employee": HUGE}, 400),
        ("post", "/api/clock/out/", {"employee": HUGE}, 400),
    ],
)
def test_out_of_range_ids_are_4xx(world, client_as, method, url, data, status):
    response = getattr(client_as("hr"), method)(url, data)
    assert response.status_code == status, response.content
