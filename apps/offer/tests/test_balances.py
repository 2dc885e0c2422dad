"""GET /api/hours-ledger/balances/: the week rule, pro-rating, totals, pagination by employee, filters, role scope
and bad input."""

from decimal import Decimal

import pytest

from apps.api.tests.factories import OrgUnitFactory
from apps.offer.services import clock_in, clock_out
from apps.offer.tests.conftest import D, assert_error, at, week_rows

URL = "/api/hours-ledger/balances/"


def get(client, **params):
    return client.get(URL, params)


def test_weeks_are_every_iso_week_touching_the_range_snapped_to_monday_and_sunday(world, client_as):
    # Wednesday Jan 7 to Tuesday Jan 13: the weeks of Jan 5 and Jan 12, whole.
    body = get(client_as("hr"), **{"from": "2026-01-07", "to": "2026-01-13", "employee": world.emp_in.pk}).json()
    assert (body["week_from"], body["week_to"], body["weeks"]) == ("2026-01-05", "2026-01-18", 2)
    assert [row["week"] for row in body["results"]] == ["2026-01-05", "2026-01-12"]
    assert [row["contracted"] for row in body["results"]] == ["40.00", "40.00"]  # whole weeks, not clipped
    assert set(body["results"][0]) == {"employee", "week", "contracted", "assigned", "leave", "worked", "available"}


def test_a_single_day_is_its_week(world, client_as):
    body = get(client_as("hr"), **{"from": "2026-01-11", "to": "2026-01-11", "employee": world.emp_in.pk}).json()
    assert [row["week"] for row in body["results"]] == ["2026-01-05"]


def test_a_worked_shift_and_a_total_adjustment_spread_by_their_days(world, client_as, hr):
    from apps.offer.services import ledger_adjust

    clock_in(actor=hr, employee_id=world.emp_in.pk, at=at(D(2026, 1, 9), 8))
    clock_out(actor=hr, employee_id=world.emp_in.pk, at=at(D(2026, 1, 9), 15, 30))
    # 10 worked hours over Sat Jan 10 – Mon Jan 19: 2 days in week 1, 7 in week 2, 1 in week 3.
    ledger_adjust(
        actor=hr,
        employee=world.emp_in,
        adjusts="worked",
        hours=Decimal(10),
        period_start=D(2026, 1, 10),
        period_end=D(2026, 1, 19),
        reason="Paper timesheet",
    )
    body = get(client_as("hr"), **{"from": "2026-01-05", "to": "2026-01-25", "employee": world.emp_in.pk}).json()
    assert [row["worked"] for row in body["results"]] == ["9.50", "7.00", "1.00"]  # 7.5 + 2, 7, 1
    assert [row["available"] for row in body["results"]] == ["40.00", "40.00", "40.00"]  # worked is not deducted
    assert body["totals"]["worked"] == "17.50"


def test_rows_cover_every_employee_of_the_page_and_totals_all_of_them(world, client_as, active):
    extra = [active(org_unit=world.west, contracted_weekly_hours=h) for h in (10, 20)]
    body = get(client_as("hr"), **{"from": "2026-01-05", "to": "2026-01-18", "page_size": 2}).json()
    assert (body["count"], body["total_pages"], body["page"], body["page_size"]) == (4, 2, 1, 2)
    assert len(body["results"]) == 2 * 2
    assert len({row["employee"] for row in body["results"]}) == 2
    assert body["totals"]["contracted"] == "220.00"  # (40 + 40 + 10 + 20) × 2 weeks, every page
    second = get(client_as("hr"), **{"from": "2026-01-05", "to": "2026-01-18", "page_size": 2, "page": 2}).json()
    seen = {row["employee"] for row in body["results"]} | {row["employee"] for row in second["results"]}
    assert seen == {world.emp_in.pk, world.emp_out.pk, *(e.pk for e in extra)}
    assert second["totals"] == body["totals"]


def test_org_unit_filter_takes_the_subtree(world, client_as, active):
    deeper = active(org_unit=OrgUnitFactory(parent=world.east), contracted_weekly_hours=8)
    body = get(client_as("hr"), **{"from": "2026-01-05", "to": "2026-01-11", "org_unit": world.root.pk}).json()
    assert {row["employee"] for row in body["results"]} == {world.emp_in.pk, deeper.pk}
    assert body["totals"]["contracted"] == "48.00"


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", {"in", "out"}),
        ("hr", {"in", "out"}),
        ("auditor", {"in", "out"}),
        ("manager", {"in"}),
        ("employee", {"in"}),
    ],
)
def test_scope_by_role(world, client_as, role, visible):
    body = get(client_as(role), **{"from": "2026-01-05", "to": "2026-01-11"}).json()
    ids = {"in": world.emp_in.pk, "out": world.emp_out.pk}
    assert {row["employee"] for row in body["results"]} == {ids[v] for v in visible}
    assert body["totals"]["contracted"] == f"{40 * len(visible)}.00"


def test_an_employee_asking_for_someone_else_is_refused_like_an_unknown_id(world, client_as):
    # Out of scope and nonexistent answer alike (400 naming the parameter): the filter is no existence oracle.
    client = client_as("employee")
    period = {"from": "2026-01-05", "to": "2026-01-11"}
    other = get(client, **period, employee=world.emp_out.pk)
    unknown = get(client, **period, employee=world.emp_out.pk + 10_000)
    assert (other.status_code, unknown.status_code) == (400, 400)
    assert other.json()["error"]["code"] == unknown.json()["error"]["code"] == "validation_error"
    assert list(other.json()["error"]["details"]) == list(unknown.json()["error"]["details"]) == ["employee"]


def test_104_weeks_are_allowed(world, client_as):
    # Mon 2026-01-05 .. Sun 2028-01-02 is 104 weeks.
    body = get(client_as("hr"), **{"from": "2026-01-05", "to": "2028-01-02", "employee": world.emp_in.pk}).json()
    assert body["weeks"] == 104
    assert len(week_rows(body, world.emp_in.pk)) == 104


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-31"}, "from"),
        ({"from": "2026-01-05"}, "to"),
        ({}, "from"),
        ({"from": "2026-13-01", "to": "2026-01-31"}, "from"),
        ({"from": "yesterday", "to": "2026-01-31"}, "from"),
        ({"from": "2026-01-05", "to": "2026-02-30"}, "to"),
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"from": "2026-01-05", "to": "2028-01-03"}, "to"),  # 105 weeks
        ({"from": "0001-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "to"),  # Sunday after Dec 31, 9999 does not exist
        ({"from": "2026-01-05", "to": "2026-01-31", "employee": 999999}, "employee"),
        ({"from": "2026-01-05", "to": "2026-01-31", "employee": "abc"}, "employee"),
        ({"from": "2026-01-05", "to": "2026-01-31", "org_unit": 999999}, "org_unit"),
        ({"from": "2026-01-05", "to": "2026-01-31", "org_unit": "x"}, "org_unit"),
    ],
)
def test_bad_input_is_400_naming_the_field(world, client_as, params, field):
    assert_error(get(client_as("hr"), **params), 400, "validation_error", field=field)


def test_a_page_past_the_end_is_404(world, client_as):
    assert_error(get(client_as("hr"), **{"from": "2026-01-05", "to": "2026-01-11", "page": 9}), 404, "not_found")


@pytest.mark.parametrize(("role", "status"), [("none", 403), (None, 401)])
def test_no_role_and_anonymous_are_refused(world, client_as, role, status):
    response = get(client_as(role), **{"from": "2026-01-05", "to": "2026-01-11"})
    assert_error(response, status, "permission_denied" if role else "not_authenticated")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_balances_are_read_only(world, client_as, method):
    assert_error(getattr(client_as("admin"), method)(URL, {}), 405, "method_not_allowed")
