"""The transition service: allowed and refused paths, the log row, rules, hooks, dry runs, rollback."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.api.models import Employee
from apps.fsm import services
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import EMPLOYEE_TRANSITIONS, employee_transition, transition_options
from apps.fsm.tests.conftest import HIRE_DATE, LIFECYCLE, STATES, allowed_from, rule_result, snapshot
from backend import errors
from backend.audit.chain import chain_verify
from backend.errors import RuleViolationError, TransitionNotAllowedError
from backend.request_context import current_request_id

ALLOWED_CASES = [(name, source, target) for name, moves in LIFECYCLE.items() for source, target in moves.items()]
REFUSED_CASES = [(name, state) for name, moves in LIFECYCLE.items() for state in STATES if state not in moves]


def test_the_lifecycle_table_covers_every_transition_the_service_knows():
    assert set(EMPLOYEE_TRANSITIONS.names) == set(LIFECYCLE)
    assert len(ALLOWED_CASES) + len(REFUSED_CASES) == len(LIFECYCLE) * len(STATES)


# --- allowed and refused -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "source", "target"), ALLOWED_CASES)
def test_transition_allowed_from_its_sources(make_employee, hr, name, source, target):
    employee = make_employee(source)
    before = snapshot(employee.pk)

    outcome = employee_transition(employee_id=employee.pk, name=name, actor=hr, effective_date=HIRE_DATE)

    assert (outcome.source, outcome.target, outcome.allowed, outcome.dry_run) == (source, target, True, False)
    assert Employee.objects.get(pk=employee.pk).state == target
    new_rows = EmployeeTransitionLog.objects.exclude(id__in=before.log_ids)
    assert [(r.transition, r.source_state, r.target_state) for r in new_rows] == [(name, source, target)]
    assert outcome.log_entry == new_rows.get()


@pytest.mark.parametrize(("name", "state"), REFUSED_CASES)
def test_transition_refused_from_other_states_with_409_naming_state_and_options(make_employee, hr, name, state):
    employee = make_employee(state)
    before = snapshot(employee.pk)

    with pytest.raises(TransitionNotAllowedError) as caught:
        employee_transition(employee_id=employee.pk, name=name, actor=hr)

    assert caught.value.status_code == 409
    assert caught.value.code == "transition_not_allowed"
    assert caught.value.details["current_state"] == state
    assert sorted(caught.value.details["allowed_transitions"]) == allowed_from(state)
    assert snapshot(employee.pk) == before


def test_unknown_transition_name_is_a_400_and_writes_nothing(employee, hr):
    before = snapshot(employee.pk)
    with pytest.raises(errors.InvalidInputError) as caught:
        employee_transition(employee_id=employee.pk, name="promote", actor=hr)
    assert "transition" in caught.value.details
    assert "activate" in str(caught.value.details["transition"][0])
    assert snapshot(employee.pk) == before


def test_missing_employee_is_a_404(hr):
    with pytest.raises(errors.NotFoundError):
        employee_transition(employee_id=987654, name="activate", actor=hr)


@pytest.mark.parametrize("role", ["manager", "auditor", "employee"])
def test_roles_other_than_admin_and_hr_get_403_and_nothing_is_written(employee, make_user, role):
    before = snapshot(employee.pk)
    with pytest.raises(errors.PermissionDeniedError):
        employee_transition(employee_id=employee.pk, name="activate", actor=make_user(role))
    assert snapshot(employee.pk) == before


def test_an_inactive_hr_user_or_no_actor_gets_403(employee, make_user):
    for actor in (make_user("hr", is_active=False), None):
        with pytest.raises(errors.PermissionDeniedError):
            employee_transition(employee_id=employee.pk, name="activate", actor=actor)
    assert snapshot(employee.pk).state == "pending"


def test_role_is_checked_before_state_so_a_refused_role_learns_nothing_about_it(make_employee, make_user):
    employee = make_employee("terminated")
    with pytest.raises(errors.PermissionDeniedError):
        employee_transition(employee_id=employee.pk, name="activate", actor=make_user("auditor"))


@pytest.mark.parametrize("role", ["admin", "hr"])
def test_admin_and_hr_may_transition(employee, make_user, role):
    assert employee_transition(employee_id=employee.pk, name="activate", actor=make_user(role)).allowed


# --- the log row ---------------------------------------------------------------------------------


def test_log_row_records_every_field(employee, hr):
    token = current_request_id.set("req-abc-123")
    started = timezone.now()
    try:
        outcome = employee_transition(
            employee_id=employee.pk,
            name="activate",
            actor=hr,
            reason="First day",
            effective_date=datetime.date(2026, 2, 2),
        )
    finally:
        current_request_id.reset(token)
    row = EmployeeTransitionLog.objects.get(pk=outcome.log_entry.pk)  # as stored, not as built

    assert row.employee_id == employee.pk
    assert (row.transition, row.source_state, row.target_state) == ("activate", "pending", "active")
    assert row.actor_id == hr.pk
    assert row.actor_email == hr.email
    assert row.created_at.utcoffset() == datetime.timedelta(0)
    assert started <= row.created_at <= timezone.now()
    assert row.reason == "First day"
    assert row.effective_date == datetime.date(2026, 2, 2)
    assert row.rule_results == []
    assert row.override_reason == ""
    assert row.request_id == "req-abc-123"
    assert row.prev_hash == ""
    assert len(row.hash) == 64


def test_log_row_without_a_request_has_an_empty_request_id_and_today_as_effective_date(employee, hr):
    row = employee_transition(employee_id=employee.pk, name="activate", actor=hr).log_entry
    assert row.request_id == ""
    assert row.effective_date == timezone.localdate()


def test_log_row_keeps_the_actors_email_when_the_user_changes_later(employee, hr):
    email = hr.email
    row = employee_transition(employee_id=employee.pk, name="activate", actor=hr).log_entry
    hr.email = "renamed@coveris.test"
    hr.save()
    assert EmployeeTransitionLog.objects.get(pk=row.pk).actor_email == email


def test_each_row_chains_to_the_previous_row_of_the_table(make_employee, hr):
    first, second = make_employee(), make_employee()
    rows = [
        employee_transition(employee_id=first.pk, name="activate", actor=hr).log_entry,
        employee_transition(employee_id=second.pk, name="activate", actor=hr).log_entry,
        employee_transition(employee_id=first.pk, name="start_leave", actor=hr).log_entry,
    ]
    assert [r.prev_hash for r in rows] == ["", rows[0].hash, rows[1].hash]
    assert chain_verify(EmployeeTransitionLog).ok


# --- dates: terminate and rehire ----------------------------------------------------------------


def test_terminate_sets_the_termination_date_to_the_effective_date(make_employee, hr):
    employee = make_employee("active")
    employee_transition(employee_id=employee.pk, name="terminate", actor=hr, effective_date=datetime.date(2026, 6, 30))
    stored = snapshot(employee.pk)
    assert (stored.state, stored.termination_date) == ("terminated", datetime.date(2026, 6, 30))


def test_terminate_without_a_date_ends_employment_today(make_employee, hr):
    employee = make_employee("active")
    employee_transition(employee_id=employee.pk, name="terminate", actor=hr)
    assert snapshot(employee.pk).termination_date == timezone.localdate()


def test_terminate_on_the_hire_date_is_allowed(make_employee, hr):
    employee = make_employee("pending")
    employee_transition(employee_id=employee.pk, name="terminate", actor=hr, effective_date=HIRE_DATE)
    assert snapshot(employee.pk).termination_date == HIRE_DATE


def test_terminate_before_the_hire_date_is_a_400_and_writes_nothing(make_employee, hr):
    employee = make_employee("active")
    before = snapshot(employee.pk)
    with pytest.raises(errors.InvalidInputError) as caught:
        employee_transition(
            employee_id=employee.pk, name="terminate", actor=hr, effective_date=HIRE_DATE - datetime.timedelta(days=1)
        )
    assert "effective_date" in caught.value.details
    assert snapshot(employee.pk) == before


def test_rehire_clears_the_termination_date_and_starts_again_on_the_effective_date(make_employee, hr):
    employee = make_employee("terminated")
    assert snapshot(employee.pk).termination_date == HIRE_DATE
    employee_transition(employee_id=employee.pk, name="rehire", actor=hr, effective_date=datetime.date(2026, 9, 1))
    stored = snapshot(employee.pk)
    assert (stored.state, stored.termination_date, stored.hire_date) == ("pending", None, datetime.date(2026, 9, 1))


def test_rehire_before_the_termination_date_is_a_400_and_writes_nothing(make_employee, hr):
    employee = make_employee("active")
    employee_transition(employee_id=employee.pk, name="terminate", actor=hr, effective_date=datetime.date(2026, 6, 30))
    before = snapshot(employee.pk)
    with pytest.raises(errors.InvalidInputError) as caught:
        employee_transition(employee_id=employee.pk, name="rehire", actor=hr, effective_date=datetime.date(2026, 6, 1))
    assert "effective_date" in caught.value.details
    assert snapshot(employee.pk) == before


# --- nothing written on rollback ----------------------------------------------------------------


def test_a_failure_while_writing_the_log_rolls_the_state_back(employee, hr, monkeypatch):
    def broken_append(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "chain_append", broken_append)
    before = snapshot(employee.pk)
    with pytest.raises(RuntimeError):
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert snapshot(employee.pk) == before


def test_a_hook_failure_rolls_back_the_state_and_the_log_row(make_employee, hr, after_hook):
    employee = make_employee("active")
    seen = {}

    def failing_hook(instance, request, log_entry):
        # The state and the row are written by now (inside the transaction)...
        seen["row_existed"] = EmployeeTransitionLog.objects.filter(pk=log_entry.pk).exists()
        seen["state"] = Employee.objects.get(pk=instance.pk).state
        raise RuntimeError("cascade failed")

    after_hook("employee.terminate", failing_hook)
    before = snapshot(employee.pk)
    with pytest.raises(RuntimeError):
        employee_transition(employee_id=employee.pk, name="terminate", actor=hr)

    assert seen == {"row_existed": True, "state": "terminated"}
    assert snapshot(employee.pk) == before  # ...and gone with it
    assert chain_verify(EmployeeTransitionLog).ok


def test_after_a_rollback_the_next_row_chains_to_the_last_committed_one(make_employee, hr, after_hook):
    employee = make_employee("active")
    last_hash = EmployeeTransitionLog.objects.order_by("-id").values_list("hash", flat=True).first()
    after_hook("employee.suspend", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        employee_transition(employee_id=employee.pk, name="suspend", actor=hr)
    row = employee_transition(employee_id=employee.pk, name="start_leave", actor=hr).log_entry
    assert row.prev_hash == last_hash
    assert chain_verify(EmployeeTransitionLog).ok


# --- after-transition hooks --------------------------------------------------------------------


def test_hooks_run_in_the_same_transaction_and_their_rows_come_back_as_cascaded(make_employee, hr, after_hook):
    employee = make_employee("active")
    calls = []

    def hook(instance, request, log_entry):
        calls.append((instance.pk, request.name, log_entry.pk, connection.in_atomic_block))
        return [log_entry]  # stands in for the rows a cascade writes

    after_hook("employee.terminate", hook)
    outcome = employee_transition(employee_id=employee.pk, name="terminate", actor=hr)
    assert calls == [(employee.pk, "terminate", outcome.log_entry.pk, True)]
    assert outcome.cascaded == [outcome.log_entry]


def test_hooks_run_only_for_their_event_and_not_on_dry_runs_or_refusals(make_employee, hr, after_hook):
    employee = make_employee("active")
    calls = []
    after_hook("employee.terminate", lambda *args: calls.append(args))
    employee_transition(employee_id=employee.pk, name="terminate", actor=hr, dry_run=True)
    employee_transition(employee_id=employee.pk, name="start_leave", actor=hr)
    with pytest.raises(TransitionNotAllowedError):
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert calls == []


def test_registering_a_hook_twice_runs_it_once(make_employee, hr, after_hook):
    employee = make_employee("active")
    calls = []

    def hook(*args):
        calls.append(args)

    after_hook("employee.suspend", hook)
    services.register_after_transition("employee.suspend", hook)
    employee_transition(employee_id=employee.pk, name="suspend", actor=hr)
    assert len(calls) == 1


# --- dry run ------------------------------------------------------------------------------------


def test_dry_run_reports_allowed_and_target_and_writes_nothing(employee, hr):
    before = snapshot(employee.pk)
    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=hr, dry_run=True)
    assert (outcome.dry_run, outcome.allowed, outcome.source, outcome.target) == (True, True, "pending", "active")
    assert outcome.log_entry is None
    assert outcome.blocked_by is None
    assert snapshot(employee.pk) == before


def test_dry_run_of_a_transition_not_open_now_says_not_allowed(employee, hr):
    before = snapshot(employee.pk)
    outcome = employee_transition(employee_id=employee.pk, name="reinstate", actor=hr, dry_run=True)
    assert (outcome.allowed, outcome.target, outcome.blocked_by) == (False, "active", "transition_not_allowed")
    assert snapshot(employee.pk) == before


def test_dry_run_reports_rule_outcomes_without_raising(employee, hr, rules):
    rules([rule_result("BLOCKER", severity="block")])
    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=hr, dry_run=True)
    assert (outcome.allowed, outcome.blocked_by) == (False, "rule_violation")
    assert [r["rule"] for r in outcome.rule_results] == ["BLOCKER"]

    rules([rule_result("WARNER", severity="warn")])
    unacknowledged = employee_transition(employee_id=employee.pk, name="activate", actor=hr, dry_run=True)
    acknowledged = employee_transition(
        employee_id=employee.pk, name="activate", actor=hr, dry_run=True, acknowledge_warnings=True
    )
    assert (unacknowledged.allowed, unacknowledged.blocked_by) == (False, "warnings_not_acknowledged")
    assert (acknowledged.allowed, acknowledged.blocked_by) == (True, None)
    assert snapshot(employee.pk).log_ids == ()


def test_dry_run_still_checks_the_role(employee, make_user):
    with pytest.raises(errors.PermissionDeniedError):
        employee_transition(employee_id=employee.pk, name="activate", actor=make_user("auditor"), dry_run=True)


# --- business rules ----------------------------------------------------------------------------


def test_the_engine_is_asked_about_the_event_with_the_employee_in_context(make_employee, hr, rules):
    employee = make_employee("active")
    states_seen = []
    calls = rules(lambda event, context: states_seen.append(context["employee"].state) or [])
    employee_transition(
        employee_id=employee.pk,
        name="terminate",
        actor=hr,
        reason="Moved away",
        effective_date=datetime.date(2026, 3, 1),
    )
    ((event, context),) = calls
    assert event == "employee.terminate"
    assert context["employee"].pk == employee.pk
    assert states_seen == ["active"]
    assert (context["transition"], context["reason"], context["actor"]) == ("terminate", "Moved away", hr)
    assert context["effective_date"] == datetime.date(2026, 3, 1)


def test_a_failing_block_rule_is_a_422_listing_the_violations_and_writes_nothing(employee, hr, rules):
    passing = rule_result("OK", outcome="pass")
    blocking = rule_result("NO", severity="block")
    rules([passing, blocking])
    before = snapshot(employee.pk)
    with pytest.raises(RuleViolationError) as caught:
        employee_transition(employee_id=employee.pk, name="activate", actor=hr, acknowledge_warnings=True)
    assert caught.value.status_code == 422
    assert caught.value.code == "rule_violation"
    assert caught.value.details["violations"] == [blocking]
    assert caught.value.details["rule_results"] == [passing, blocking]
    assert snapshot(employee.pk) == before


def test_a_failing_warn_rule_needs_acknowledge_warnings(employee, hr, rules):
    warning = rule_result("CAREFUL", severity="warn")
    rules([warning])
    before = snapshot(employee.pk)
    with pytest.raises(RuleViolationError) as caught:
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert caught.value.details["violations"] == [warning]
    assert caught.value.details["acknowledge_warnings_required"] is True
    assert snapshot(employee.pk) == before

    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=hr, acknowledge_warnings=True)
    assert outcome.instance.state == "active"
    assert EmployeeTransitionLog.objects.get(pk=outcome.log_entry.pk).rule_results == [warning]


def test_acknowledging_warnings_does_not_pass_a_block(employee, hr, rules):
    rules([rule_result("CAREFUL", severity="warn"), rule_result("NO", severity="block")])
    with pytest.raises(RuleViolationError) as caught:
        employee_transition(employee_id=employee.pk, name="activate", actor=hr, acknowledge_warnings=True)
    assert [v["rule"] for v in caught.value.details["violations"]] == ["CAREFUL", "NO"]


def test_passing_rules_let_the_transition_through_and_the_log_keeps_their_full_results(employee, hr, rules):
    results = [rule_result("A", outcome="pass"), rule_result("B", outcome="pass", severity="warn")]
    rules(results)
    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert outcome.rule_results == results
    assert EmployeeTransitionLog.objects.get(pk=outcome.log_entry.pk).rule_results == results


def test_rule_results_with_decimals_and_dates_are_stored_as_json_and_keep_the_chain_valid(employee, hr, rules):
    rules([rule_result("HOURS", outcome="pass", observed=Decimal("38.50"), threshold=datetime.date(2026, 1, 1))])
    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    stored = EmployeeTransitionLog.objects.get(pk=outcome.log_entry.pk).rule_results[0]
    assert (stored["observed"], stored["threshold"]) == ("38.50", "2026-01-01")
    assert chain_verify(EmployeeTransitionLog).ok


def test_an_admin_override_passes_a_block_and_the_log_keeps_the_reason(employee, admin, rules):
    blocking = rule_result("NO", severity="block")
    rules([blocking])
    outcome = employee_transition(
        employee_id=employee.pk, name="activate", actor=admin, override_reason="Board decision 2026-14"
    )
    row = EmployeeTransitionLog.objects.get(pk=outcome.log_entry.pk)
    assert (row.override_reason, row.rule_results) == ("Board decision 2026-14", [blocking])
    assert snapshot(employee.pk).state == "active"
    assert chain_verify(EmployeeTransitionLog).ok


def test_an_admin_override_does_not_acknowledge_warnings_by_itself(employee, admin, rules):
    rules([rule_result("NO", severity="block"), rule_result("CAREFUL", severity="warn")])
    with pytest.raises(RuleViolationError):
        employee_transition(employee_id=employee.pk, name="activate", actor=admin, override_reason="Board")
    assert employee_transition(
        employee_id=employee.pk, name="activate", actor=admin, override_reason="Board", acknowledge_warnings=True
    ).allowed


@pytest.mark.parametrize("role", ["hr", "manager", "auditor"])
def test_an_override_by_anyone_but_an_admin_is_a_403_and_writes_nothing(employee, make_user, rules, role):
    rules([rule_result("NO", severity="block")])
    before = snapshot(employee.pk)
    with pytest.raises(errors.PermissionDeniedError):
        employee_transition(employee_id=employee.pk, name="activate", actor=make_user(role), override_reason="Because")
    assert snapshot(employee.pk) == before


# --- transition options (GET …/transitions/) ----------------------------------------------------


def test_options_list_every_transition_with_target_and_whether_it_is_open(make_employee, hr):
    employee = make_employee("active")
    options = transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=hr)
    assert [o["name"] for o in options] == list(LIFECYCLE)
    by_name = {o["name"]: o for o in options}
    assert {n for n, o in by_name.items() if o["allowed"]} == set(allowed_from("active"))
    assert by_name["activate"]["target"] == "active"
    assert by_name["suspend"]["target"] == "suspended"
    assert all(o["rule_results"] == [] for o in options)


@pytest.mark.parametrize("role", ["auditor", "manager", "employee"])
def test_options_are_all_closed_to_roles_that_may_not_transition(make_employee, make_user, role):
    employee = make_employee("active")
    options = transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=make_user(role))
    assert len(options) == len(LIFECYCLE)
    assert not any(o["allowed"] for o in options)


def test_options_carry_rule_results_and_a_block_closes_the_option_but_a_warning_does_not(make_employee, hr, rules):
    employee = make_employee("active")
    rules(
        lambda event, context: (
            [rule_result("NO", rule_type="employee_state")]
            if event == "employee.terminate"
            else [rule_result("W", severity="warn", rule_type="max_weekly_hours")]
        )
    )
    by_name = {o["name"]: o for o in transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=hr)}
    assert (by_name["terminate"]["allowed"], by_name["terminate"]["blocked_by"]) == (False, "rules")
    assert by_name["terminate"]["can_override"] is False  # hr may not override
    assert [r["rule"] for r in by_name["terminate"]["rule_results"]] == ["NO"]
    assert (by_name["suspend"]["allowed"], by_name["suspend"]["blocked_by"]) == (True, None)
    assert by_name["suspend"]["needs"] == ["acknowledge_warnings"]
    assert [r["rule"] for r in by_name["suspend"]["rule_results"]] == ["W"]
    assert by_name["activate"]["rule_results"] == []  # not open: rules are not evaluated
    assert (by_name["activate"]["allowed"], by_name["activate"]["blocked_by"]) == (False, "state")


def test_options_blocked_only_by_reason_required_stay_allowed_and_say_a_reason_is_needed(make_employee, hr, admin):
    """A GET carries no reason: a reason_required rule must not close the option (the POST can satisfy it)."""
    from apps.business_rules.services import rule_create

    employee = make_employee("active")
    rule_create(
        code="WHY", name="Say why", rule_type="reason_required", params={}, events=["employee.suspend"]
    )  # fmt: skip
    rule_create(
        code="NO-TERM", name="Never", rule_type="employee_state", params={"states": ["pending"]},
        events=["employee.terminate"],
    )  # fmt: skip
    by_name = {o["name"]: o for o in transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=hr)}
    suspend = by_name["suspend"]
    assert (suspend["allowed"], suspend["blocked_by"], suspend["needs"]) == (True, None, ["reason"])
    assert [(r["rule"], r["outcome"]) for r in suspend["rule_results"]] == [("WHY", "fail")]
    assert (by_name["start_leave"]["allowed"], by_name["start_leave"]["needs"]) == (True, [])
    terminate = by_name["terminate"]
    assert (terminate["allowed"], terminate["blocked_by"], terminate["can_override"]) == (False, "rules", False)
    as_admin = {o["name"]: o for o in transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=admin)}
    assert (as_admin["terminate"]["allowed"], as_admin["terminate"]["can_override"]) == (False, True)
    # What the option promises holds: with a reason the POST goes through.
    outcome = employee_transition(employee_id=employee.pk, name="suspend", actor=hr, reason="Investigation")
    assert outcome.target == "suspended"


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_options_closed_to_a_role_say_so(make_employee, make_user, role):
    employee = make_employee("active")
    options = transition_options(kind=EMPLOYEE_TRANSITIONS, instance=employee, actor=make_user(role))
    assert {o["blocked_by"] for o in options} == {"role"}


@pytest.mark.parametrize("name", ["activate", "start_leave", "suspend", "terminate"])
def test_no_transition_takes_effect_before_the_hire_date(make_user, name):
    import datetime

    from apps.api.tests.factories import EmployeeFactory
    from apps.fsm.models import EmployeeTransitionLog
    from apps.fsm.services import employee_transition
    from backend.errors import InvalidInputError

    hr = make_user("hr")
    employee = EmployeeFactory(hire_date=datetime.date(2026, 1, 5))
    if name != "activate":
        employee_transition(
            employee_id=employee.pk, name="activate", actor=hr, effective_date=datetime.date(2026, 1, 5)
        )
    before = EmployeeTransitionLog.objects.count()
    with pytest.raises(InvalidInputError) as refused:
        employee_transition(employee_id=employee.pk, name=name, actor=hr, effective_date=datetime.date(1, 1, 1))
    assert "effective_date" in refused.value.details
    assert EmployeeTransitionLog.objects.count() == before
