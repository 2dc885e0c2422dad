"""Clock in and out: who may, the one-clock-in-per-day rule with its explanation, open shifts, worked hours posted
on clock-out, and nothing written when a request is refused."""

from decimal import Decimal

import pytest

from apps.business_rules.models import BusinessRule
from apps.business_rules.services import rule_create
from apps.fsm.services import employee_transition
from apps.offer.models import ClockEvent, LedgerEntry
from apps.offer.services import clock_in, clock_out
from apps.offer.tests.conftest import D, assert_error, at
from backend.exceptions import ConflictError

DAY = D(2026, 1, 13)  # a Tuesday


def snapshot() -> tuple:
    """Everything the clock writes."""
    return (
        list(ClockEvent.objects.order_by("id").values_list("id", "clock_out_at")),
        list(LedgerEntry.objects.order_by("id").values_list("id", flat=True)),
    )


@pytest.fixture
def me(world, auth_client):
    """The employee's own client (emp_in is linked to this user)."""
    return auth_client(user=world.employee_user)[0]


def test_first_clock_in_opens_a_shift(world, me, clock):
    clock(at(DAY, 8, 55))
    response = me.post("/api/clock/in/", {}, HTTP_X_REQUEST_ID="req-clock-in")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["employee"], body["day"], body["is_open"], body["hours"]) == (
        world.emp_in.pk,
        "2026-01-13",
        True,
        None,
    )
    assert body["clock_in_at"].startswith("2026-01-13T08:55:00")
    assert [(r["rule"], r["outcome"]) for r in body["rule_results"]] == [("CLOCK_ONCE_PER_DAY", "pass")]
    event = ClockEvent.objects.get()
    assert (event.clocked_in_by_id, event.request_id) == (world.employee_user.pk, "req-clock-in")


def test_second_clock_in_the_same_day_is_422_with_the_rules_explanation(world, me, clock):
    clock(at(DAY, 8))
    me.post("/api/clock/in/", {})
    clock(at(DAY, 12))
    me.post("/api/clock/out/", {})
    before = snapshot()
    clock(at(DAY, 13))
    error = assert_error(me.post("/api/clock/in/", {}), 422, "rule_violation")
    (violation,) = error["details"]["violations"]
    assert violation["rule"] == "CLOCK_ONCE_PER_DAY"
    assert violation["rule_type"] == "single_clock_in_per_day"
    assert violation["outcome"] == "fail"
    assert violation["severity"] == "block"
    assert violation["message"] == "Already clocked in 1 time(s) today."
    assert (violation["observed"], violation["threshold"]) == (1, 0)
    assert violation["remediation"]
    assert violation["related"] == [{"type": "employee", "id": world.emp_in.pk}]
    assert snapshot() == before


def test_second_clock_in_while_the_shift_is_still_open_is_refused_by_the_rule(world, me, clock):
    """The open shift is today's: the rule refuses with its explanation (422), not the open-shift check (409)."""
    clock(at(DAY, 8))
    assert me.post("/api/clock/in/", {}).status_code == 201
    before = snapshot()
    clock(at(DAY, 9))
    error = assert_error(me.post("/api/clock/in/", {}), 422, "rule_violation")
    (violation,) = error["details"]["violations"]
    assert (violation["rule"], violation["rule_type"]) == ("CLOCK_ONCE_PER_DAY", "single_clock_in_per_day")
    assert (violation["observed"], violation["threshold"]) == (1, 0)
    assert violation["message"] == "Already clocked in 1 time(s) today."
    assert snapshot() == before


def test_with_the_rule_off_a_second_clock_in_on_an_open_shift_is_409(world, me, clock):
    BusinessRule.objects.filter(code="CLOCK_ONCE_PER_DAY").update(is_active=False)
    clock(at(DAY, 8))
    assert me.post("/api/clock/in/", {}).status_code == 201
    before = snapshot()
    clock(at(DAY, 9))
    error = assert_error(me.post("/api/clock/in/", {}), 409, "conflict")
    assert error["details"]["clock_event"] == ClockEvent.objects.get().pk
    assert snapshot() == before


def test_evaluate_reads_the_real_clock_ins_as_clock_in_does(world, me, auth_client, clock):
    """POST /api/business-rules/evaluate/ counts today's clock-ins itself: the same result the refusal carries."""
    hr_client = auth_client("hr")[0]
    body = {"event": "clock.in", "employee": world.emp_in.pk}
    clock(at(DAY, 8))
    before = hr_client.post("/api/business-rules/evaluate/", body, format="json")
    assert before.status_code == 200, before.content
    assert before.json()["allowed"] is True
    assert [(r["rule"], r["outcome"], r["observed"]) for r in before.json()["rule_results"]] == [
        ("CLOCK_ONCE_PER_DAY", "pass", 0)
    ]
    assert me.post("/api/clock/in/", {}).status_code == 201
    clock(at(DAY, 9))
    after = hr_client.post("/api/business-rules/evaluate/", body, format="json").json()
    assert (after["allowed"], after["decision"]) == (False, "rule_violation")
    refusal = assert_error(me.post("/api/clock/in/", {}), 422, "rule_violation")
    assert refusal["details"]["rule_results"] == after["rule_results"]
    assert [(r["rule"], r["outcome"], r["observed"]) for r in after["rule_results"]] == [
        ("CLOCK_ONCE_PER_DAY", "fail", 1)
    ]


def test_next_day_clock_in_is_fine(world, me, clock):
    clock(at(DAY, 8))
    me.post("/api/clock/in/", {})
    clock(at(DAY, 16))
    me.post("/api/clock/out/", {})
    clock(at(D(2026, 1, 14), 8))
    assert me.post("/api/clock/in/", {}).status_code == 201


def test_the_rule_is_data_hr_can_switch_off(world, me, clock):
    BusinessRule.objects.filter(code="CLOCK_ONCE_PER_DAY").update(is_active=False)
    for start, end in ((8, 12), (13, 17)):
        clock(at(DAY, start))
        assert me.post("/api/clock/in/", {}).status_code == 201
        clock(at(DAY, end))
        assert me.post("/api/clock/out/", {}).status_code == 200
    assert LedgerEntry.objects.filter(kind="worked").count() == 2


def test_clock_in_with_an_open_shift_is_409(world, me, clock):
    clock(at(DAY, 8))
    me.post("/api/clock/in/", {})
    before = snapshot()
    clock(at(D(2026, 1, 14), 8))  # forgot to clock out yesterday
    error = assert_error(me.post("/api/clock/in/", {}), 409, "conflict")
    assert error["details"]["clock_event"] == ClockEvent.objects.get().pk
    assert snapshot() == before


def test_clock_out_without_an_open_shift_is_409(world, me, clock):
    before = snapshot()
    clock(at(DAY, 17))
    assert_error(me.post("/api/clock/out/", {}), 409, "conflict")
    assert snapshot() == before


def test_clock_out_closes_the_shift_and_posts_worked_hours(world, me, clock):
    clock(at(DAY, 8, 50))
    me.post("/api/clock/in/", {})
    clock(at(DAY, 17, 5))
    response = me.post("/api/clock/out/", {}, HTTP_X_REQUEST_ID="req-clock-out")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["is_open"], body["hours"]) == (False, "8.25")
    ledger = body["ledger_entry"]
    assert {k: ledger[k] for k in ("kind", "basis", "hours", "period_start", "period_end", "source")} == {
        "kind": "worked",
        "basis": "total",
        "hours": "8.25",
        "period_start": "2026-01-13",
        "period_end": "2026-01-13",
        "source": "clock_event",
    }
    entry = LedgerEntry.objects.get(kind="worked")
    assert (entry.clock_event_id, entry.actor_id, entry.request_id) == (
        body["id"],
        world.employee_user.pk,
        "req-clock-out",
    )
    event = ClockEvent.objects.get()
    assert event.clocked_out_by_id == world.employee_user.pk


def test_an_overnight_shift_counts_on_its_clock_in_day(active, hr):
    employee = active()
    clock_in(actor=hr, employee_id=employee.pk, at=at(DAY, 22))
    event, entry, _ = clock_out(actor=hr, employee_id=employee.pk, at=at(D(2026, 1, 14), 6, 20))
    assert (entry.hours, entry.period_start, entry.period_end) == (Decimal("8.33"), DAY, DAY)
    assert event.day == DAY


def test_hr_clocks_for_another_employee(world, auth_client, clock):
    client, hr = auth_client("hr")
    clock(at(DAY, 9))
    response = client.post("/api/clock/in/", {"employee": world.emp_out.pk})
    assert response.status_code == 201, response.content
    assert response.json()["employee"] == world.emp_out.pk
    clock(at(DAY, 10))
    assert client.post("/api/clock/out/", {"employee": world.emp_out.pk}).status_code == 200
    entry = LedgerEntry.objects.get(kind="worked")
    assert (entry.employee_id, entry.actor_id, entry.hours) == (world.emp_out.pk, hr.pk, Decimal("1.00"))


def test_employee_clocking_for_someone_else_is_403(world, me, clock):
    before = snapshot()
    clock(at(DAY, 9))
    assert_error(me.post("/api/clock/in/", {"employee": world.emp_out.pk}), 403, "permission_denied")
    assert_error(me.post("/api/clock/out/", {"employee": world.emp_out.pk}), 403, "permission_denied")
    assert snapshot() == before


def test_employee_naming_their_own_record_is_fine(world, me, clock):
    clock(at(DAY, 9))
    assert me.post("/api/clock/in/", {"employee": world.emp_in.pk}).status_code == 201


def test_omitted_employee_means_your_own_record(world, me, clock):
    clock(at(DAY, 9))
    assert me.post("/api/clock/in/", {}).json()["employee"] == world.emp_in.pk
    assert me.post("/api/clock/in/", {"employee": None}).status_code == 422  # same record: clocked in today


def test_no_linked_employee_is_a_clear_400(world, auth_client, clock):
    client, _ = auth_client("hr")
    clock(at(DAY, 9))
    error = assert_error(client.post("/api/clock/in/", {}), 400, "validation_error", field="employee")
    assert "not linked to an employee" in error["details"]["employee"][0]


def test_manager_clocks_only_their_own_record(world, auth_client, active, clock):
    manager_employee = active(org_unit=world.east, user=world.manager)
    client, _ = auth_client(user=world.manager)
    clock(at(DAY, 9))
    assert_error(client.post("/api/clock/in/", {"employee": world.emp_in.pk}), 403, "permission_denied")
    assert client.post("/api/clock/in/", {}).json()["employee"] == manager_employee.pk


@pytest.mark.parametrize("path", [["start_leave"], ["suspend"], ["terminate"]])
def test_only_an_active_employee_clocks_in(world, me, move, clock, path):
    for name in path:
        move(world.emp_in, name, D(2026, 1, 12))
    clock(at(DAY, 9))
    error = assert_error(me.post("/api/clock/in/", {}), 409, "conflict")
    assert error["details"]["allowed_states"] == ["active"]
    assert snapshot()[0] == []


def test_a_shift_open_when_leave_starts_can_still_be_clocked_out(world, me, move, clock):
    clock(at(DAY, 9))
    me.post("/api/clock/in/", {})
    move(world.emp_in, "start_leave", DAY)
    clock(at(DAY, 11))
    assert me.post("/api/clock/out/", {}).status_code == 200


def test_unknown_employee_is_400_for_hr(world, auth_client, clock):
    client, _ = auth_client("hr")
    clock(at(DAY, 9))
    assert_error(client.post("/api/clock/in/", {"employee": 999999}), 400, "validation_error", field="employee")


@pytest.mark.parametrize("value", ["abc", -1, 0, 1.5, [1], {"id": 1}])
def test_malformed_employee_is_400(world, auth_client, value):
    client, _ = auth_client("hr")
    before = snapshot()
    assert_error(client.post("/api/clock/in/", {"employee": value}), 400, "validation_error", field="employee")
    assert snapshot() == before


def test_clock_out_before_clock_in_is_refused(active, hr):
    employee = active()
    clock_in(actor=hr, employee_id=employee.pk, at=at(DAY, 9))
    with pytest.raises(ConflictError, match="before the clock-in"):
        clock_out(actor=hr, employee_id=employee.pk, at=at(DAY, 8))
    assert ClockEvent.objects.get().is_open


def test_hr_may_guard_clock_outs_with_a_rule(world, me, clock, admin):
    rule_create(
        actor=admin,
        code="OUT_ONLY_ACTIVE",
        name="Only active employees clock out",
        rule_type="employee_state",
        params={"states": ["active"]},
        severity="block",
        events=["clock.out"],
    )
    clock(at(DAY, 9))
    me.post("/api/clock/in/", {})
    employee_transition(employee_id=world.emp_in.pk, name="start_leave", actor=admin, effective_date=DAY)
    before = snapshot()
    clock(at(DAY, 11))
    error = assert_error(me.post("/api/clock/out/", {}), 422, "rule_violation")
    assert [v["rule"] for v in error["details"]["violations"]] == ["OUT_ONLY_ACTIVE"]
    assert snapshot() == before
    assert ClockEvent.objects.get().is_open


def test_a_warning_rule_needs_acknowledgement(world, me, clock, admin):
    rule_create(
        actor=admin,
        code="WARN_CLOCK",
        name="Managers like to know",
        rule_type="employee_state",
        params={"states": ["suspended"]},
        severity="warn",
        events=["clock.in"],
    )
    clock(at(DAY, 9))
    error = assert_error(me.post("/api/clock/in/", {}), 422, "rule_violation")
    assert error["details"]["acknowledge_warnings_required"] is True
    assert not ClockEvent.objects.exists()
    response = me.post("/api/clock/in/", {"acknowledge_warnings": True})
    assert response.status_code == 201, response.content
    assert {r["rule"]: r["outcome"] for r in response.json()["rule_results"]} == {
        "CLOCK_ONCE_PER_DAY": "pass",
        "WARN_CLOCK": "fail",
    }
