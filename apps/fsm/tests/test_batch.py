"""The batched transition path: the same end states, log rows and ledger entries as one-by-one calls; a refusal
anywhere writes nothing; far fewer queries than a loop."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import (
    ASSIGNMENT_TRANSITIONS,
    assignment_create,
    assignments_close_on_termination,
    assignments_close_on_termination_many,
)
from apps.business_rules.models import BusinessRule
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.fsm import services
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import (
    EMPLOYEE_TRANSITIONS,
    TransitionRequest,
    transition_perform,
    transition_perform_many,
)
from apps.offer.models import LedgerEntry
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory
from backend import errors
from backend.ahead import statements_ahead
from backend.audit.chain import chain_append, chain_append_many, chain_verify, chain_verify_all
from backend.errors import RuleViolationError, TransitionNotAllowedError

D = datetime.date
HIRE = D(2026, 1, 5)
# Each step: (transition, effective date, reason); the reason rules below make suspend and terminate need one.
EMPLOYEE_STORY = [
    ("activate", HIRE, ""),
    ("start_leave", D(2026, 2, 2), ""),
    ("return_from_leave", D(2026, 2, 16), ""),
    ("suspend", D(2026, 3, 2), "Investigation"),
    ("reinstate", D(2026, 3, 9), ""),
    ("terminate", D(2026, 4, 30), "End of contract"),
    ("rehire", D(2026, 6, 1), ""),
]


@pytest.fixture
def reason_rule(db):
    return BusinessRuleFactory(
        code="REASON", rule_type="reason_required", params={}, events=["employee.suspend", "employee.terminate"]
    )


@pytest.fixture
def approval_rules(db):
    """The rules a real organisation has on approvals: active employees, within the contract, no overlap."""
    return [
        BusinessRuleFactory(
            code="ACTIVE_ONLY", rule_type="employee_state", params={"states": ["active"]}, events=["assignment.approve"]
        ),
        BusinessRuleFactory(
            code="CONTRACT",
            rule_type="max_weekly_hours",
            params={"max_percent_of_contract": 100},
            events=["assignment.approve"],
        ),
        BusinessRuleFactory(
            code="NO_OVERLAP", rule_type="no_overlap_same_position", params={}, events=["assignment.approve"]
        ),
        BusinessRuleFactory(
            code="TWO_AT_ONCE", rule_type="max_concurrent_assignments", params={"max": 2}, events=["assignment.approve"]
        ),
        BusinessRuleFactory(
            code="QUALIFIED", rule_type="required_tags", params={}, severity="warn", events=["assignment.approve"]
        ),
    ]


def _request(name: str, actor, effective_date=None, reason: str = "") -> TransitionRequest:
    return TransitionRequest(
        name=name, actor=actor, effective_date=effective_date, reason=reason, acknowledge_warnings=True
    )


def one_by_one(kind, pks, request):
    return [transition_perform(kind=kind, pk=pk, request=request) for pk in pks]


def employee_trace(employee_id: int) -> dict:
    """What transitions wrote about one employee, without ids and times (which differ between two runs)."""
    row = Employee.objects.values("state", "hire_date", "termination_date").get(pk=employee_id)
    logs = list(
        EmployeeTransitionLog.objects.filter(employee_id=employee_id)
        .order_by("id")
        .values_list(
            "transition",
            "source_state",
            "target_state",
            "actor_id",
            "actor_email",
            "reason",
            "effective_date",
            "rule_results",
            "override_reason",
        )
    )
    return {"employee": row, "logs": logs, "ledger": ledger_trace(employee_id)}


def ledger_trace(employee_id: int) -> list[tuple]:
    entries = LedgerEntry.objects.filter(employee_id=employee_id).order_by("id")
    assignment_ids = sorted({e.assignment_id for e in entries if e.assignment_id})
    reversed_positions = {e.pk: i for i, e in enumerate(entries)}
    return [
        (
            e.kind,
            e.basis,
            e.hours,
            e.period_start,
            e.period_end,
            e.source,
            e.reason,
            e.actor_id,
            assignment_ids.index(e.assignment_id) if e.assignment_id else None,
            reversed_positions.get(e.reverses_id),
        )
        for e in entries
    ]


def assignment_trace(assignment_id: int) -> dict:
    row = Assignment.objects.values("state", "start_date", "end_date", "weekly_hours").get(pk=assignment_id)
    logs = [
        (
            log.transition,
            log.source_state,
            log.target_state,
            log.actor_id,
            log.reason,
            log.effective_date,
            # "related" and some messages name assignment ids, which differ between the two runs.
            [
                (r["rule"], r["version"], r["outcome"], r["severity"], r["observed"], r["threshold"])
                for r in log.rule_results
            ],
        )
        for log in AssignmentTransitionLog.objects.filter(assignment_id=assignment_id).order_by("id")
    ]
    return {"assignment": row, "logs": logs}


def new_employees(count: int, unit=None) -> list[Employee]:
    unit = unit or OrgUnitFactory()
    return [EmployeeFactory(org_unit=unit, hire_date=HIRE, contracted_weekly_hours=Decimal(40)) for _ in range(count)]


def written_counts() -> tuple[int, ...]:
    return (
        EmployeeTransitionLog.objects.count(),
        AssignmentTransitionLog.objects.count(),
        LedgerEntry.objects.count(),
    )


# --- the same result as one-by-one calls ---------------------------------------------------------------


def test_a_batch_writes_what_one_by_one_calls_write_through_the_whole_employee_lifecycle(hr, reason_rule):
    singles, batch = new_employees(3), new_employees(3)

    for name, day, reason in EMPLOYEE_STORY:
        request = _request(name, hr, day, reason)
        one_by_one(EMPLOYEE_TRANSITIONS, [e.pk for e in singles], request)
        outcomes = transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in batch], request=request)
        assert [o.instance.pk for o in outcomes] == [e.pk for e in batch]
        assert all(o.allowed and not o.dry_run and o.log_entry is not None for o in outcomes)

    for single, batched in zip(singles, batch, strict=True):
        expected, got = employee_trace(single.pk), employee_trace(batched.pk)
        assert got == expected
        assert len(got["logs"]) == len(EMPLOYEE_STORY)
        assert got["ledger"]  # contract, leave and their closings were posted by the hooks
    assert all(report.ok for report in chain_verify_all())


def test_outcomes_carry_source_target_results_and_their_log_rows(hr, reason_rule):
    employees = new_employees(2)
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in employees], request=_request("activate", hr))
    stamped = dict(Employee.objects.values_list("pk", "updated_at"))

    outcomes = transition_perform_many(
        kind=EMPLOYEE_TRANSITIONS,
        pks=[employees[1].pk, employees[0].pk],
        request=_request("suspend", hr, D(2026, 3, 2), "Audit"),
    )

    assert [o.instance.pk for o in outcomes] == sorted(e.pk for e in employees)  # pk order, whatever was passed
    for outcome in outcomes:
        assert (outcome.name, outcome.source, outcome.target) == ("suspend", "active", "suspended")
        assert [r["rule"] for r in outcome.rule_results] == ["REASON"]
        log = outcome.log_entry
        assert (log.employee_id, log.transition, log.reason, log.effective_date) == (
            outcome.instance.pk,
            "suspend",
            "Audit",
            D(2026, 3, 2),
        )
        assert log.rule_results == outcome.rule_results
        assert EmployeeTransitionLog.objects.get(pk=log.pk).hash == log.hash
    # Written as ``save`` writes: the state and the auto_now stamp.
    rows = Employee.objects.filter(pk__in=stamped).values_list("pk", "state", "updated_at")
    assert all(state == "suspended" and updated > stamped[pk] for pk, state, updated in rows)


def test_assignment_batches_match_one_by_one_calls_including_ledger_postings(hr, approval_rules):
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    forklift = PositionTagFactory(position=position, min_level=2).tag
    workers = new_employees(6, unit)
    for i, employee in enumerate(workers):  # levels 1, 2, 3 twice: one of each pair fails the (warn) tag rule
        EmployeeTagFactory(employee=employee, tag=forklift, level=1 + i % 3, valid_from=D(2025, 1, 1))
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers], request=_request("activate", hr))
    made = [
        assignment_create(
            actor=hr, employee=e, position=position, start_date=D(2026, 2, 2), weekly_hours=Decimal(20 + i % 3)
        )[0]
        for i, e in enumerate(workers)
    ]
    singles, batch = [a.pk for a in made[:3]], [a.pk for a in made[3:]]

    for name, day in [("approve", D(2026, 1, 26)), ("activate", D(2026, 2, 2)), ("complete", D(2026, 3, 31))]:
        request = _request(name, hr, day)
        one_by_one(ASSIGNMENT_TRANSITIONS, singles, request)
        transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=batch, request=request)

    for single, batched in zip(singles, batch, strict=True):
        assert assignment_trace(batched) == assignment_trace(single)
        assert assignment_trace(batched)["assignment"]["state"] == "completed"
    approvals = [assignment_trace(pk)["logs"][0][-1] for pk in batch]
    assert [[r[2] for r in results] for results in approvals] == [
        ["pass", "pass", "pass", "fail", "pass"],  # ACTIVE_ONLY, CONTRACT, NO_OVERLAP, QUALIFIED, TWO_AT_ONCE
        ["pass", "pass", "pass", "pass", "pass"],
        ["pass", "pass", "pass", "pass", "pass"],
    ]
    for single, batched in zip(workers[:3], workers[3:], strict=True):
        assert ledger_trace(batched.pk) == ledger_trace(single.pk)
        assert [row[0] for row in ledger_trace(batched.pk)] == ["contracted", "assigned", "assigned"]
    assert all(report.ok for report in chain_verify_all())


def test_a_batched_termination_cascades_to_open_assignments_like_a_single_one(hr, reason_rule):
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    workers = new_employees(4, unit)
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers], request=_request("activate", hr))
    running = []
    for employee in workers:
        assignment, _ = assignment_create(
            actor=hr, employee=employee, position=position, start_date=D(2026, 2, 2), weekly_hours=Decimal(30)
        )
        running.append(assignment.pk)
    for name in ("approve", "activate"):
        transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=running, request=_request(name, hr, D(2026, 2, 2)))
    terminate = _request("terminate", hr, D(2026, 4, 30), "Site closed")

    one_by_one(EMPLOYEE_TRANSITIONS, [e.pk for e in workers[:2]], terminate)
    outcomes = transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers[2:]], request=terminate)

    assert [len(o.cascaded) for o in outcomes] == [1, 1]
    assert all(isinstance(row, AssignmentTransitionLog) for o in outcomes for row in o.cascaded)
    for single, batched in [(0, 2), (1, 3)]:
        assert assignment_trace(running[batched]) == assignment_trace(running[single])
        assert assignment_trace(running[batched])["assignment"]["end_date"] == D(2026, 4, 30)
        assert employee_trace(workers[batched].pk) == employee_trace(workers[single].pk)
    assert all(report.ok for report in chain_verify_all())


def test_a_batched_termination_closes_every_kind_of_open_assignment_like_single_ones(hr, reason_rule):
    """The cascade's batched twin: each employee running one assignment, holding an approved and a proposed one;
    terminating two one by one and two as a batch completes and cancels the same way, reverses the same postings."""
    unit = OrgUnitFactory()
    running, approved, proposed = (PositionFactory(org_unit=unit) for _ in range(3))
    workers = new_employees(4, unit)
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers], request=_request("activate", hr))
    made = {}
    for employee in workers:
        for position, start, hours in [(running, D(2026, 2, 2), 20), (approved, D(2026, 6, 1), 10)]:
            made[(employee.pk, position.pk)] = assignment_create(
                actor=hr, employee=employee, position=position, start_date=start, weekly_hours=Decimal(hours)
            )[0].pk
        made[(employee.pk, proposed.pk)] = assignment_create(
            actor=hr, employee=employee, position=proposed, start_date=D(2026, 7, 6), weekly_hours=Decimal(5)
        )[0].pk
    first = [made[(e.pk, running.pk)] for e in workers]
    second = [made[(e.pk, approved.pk)] for e in workers]
    transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=first + second, request=_request("approve", hr))
    transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=first, request=_request("activate", hr, D(2026, 2, 2)))
    terminate = _request("terminate", hr, D(2026, 4, 30), "Site closed")

    singles = one_by_one(EMPLOYEE_TRANSITIONS, [e.pk for e in workers[:2]], terminate)
    outcomes = transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers[2:]], request=terminate)

    twins = services._after_hooks_many["employee.terminate"]
    assert twins[assignments_close_on_termination] is assignments_close_on_termination_many  # the batch ran the twin
    assert [len(o.cascaded) for o in outcomes] == [len(o.cascaded) for o in singles] == [3, 3]
    for single, batched in [(0, 2), (1, 3)]:
        assert [log.assignment_id for log in outcomes[batched - 2].cascaded] == sorted(
            made[(workers[batched].pk, p.pk)] for p in (running, approved, proposed)
        )
        for position in (running, approved, proposed):
            one, other = made[(workers[single].pk, position.pk)], made[(workers[batched].pk, position.pk)]
            assert assignment_trace(other) == assignment_trace(one)
        # The same postings; their order may differ (closing transition by transition, not employee by employee).
        assert _postings(workers[batched].pk) == _postings(workers[single].pk)
        assert employee_trace(workers[batched].pk)["logs"] == employee_trace(workers[single].pk)["logs"]
    states = [
        assignment_trace(made[(workers[3].pk, p.pk)])["assignment"]["state"] for p in (running, approved, proposed)
    ]
    assert states == ["completed", "cancelled", "cancelled"]
    assert [row[:3] for row in _postings(workers[3].pk) if row[0] == "assigned"] == [
        ("assigned", "weekly_rate", Decimal("-20.00")),  # the running one cut after the last day
        ("assigned", "weekly_rate", Decimal("-10.00")),  # the approved one reversed in full
        ("assigned", "weekly_rate", Decimal("10.00")),
        ("assigned", "weekly_rate", Decimal("20.00")),
    ]
    assert all(report.ok for report in chain_verify_all())


def _postings(employee_id: int) -> list[tuple]:
    """An employee's ledger rows in a canonical order, each reversal described by what it reverses."""
    entries = {e.pk: e for e in LedgerEntry.objects.filter(employee_id=employee_id)}
    positions = {
        pk: Assignment.objects.get(pk=pk).position_id for pk in {e.assignment_id for e in entries.values()} if pk
    }

    def row(e):
        return (
            e.kind,
            e.basis,
            e.hours,
            e.period_start,
            e.period_end,
            e.source,
            e.reason,
            positions.get(e.assignment_id),
        )

    return sorted((*row(e), row(entries[e.reverses_id]) if e.reverses_id else None) for e in entries.values())


def test_later_objects_are_judged_after_earlier_ones_like_one_by_one_calls(hr, approval_rules):
    """Two 30-hour proposals of one 40-hour employee: one-by-one, the second approval breaks the contract rule.
    The batch judges it the same way, so it is refused as a whole."""
    unit = OrgUnitFactory()
    (employee,) = new_employees(1, unit)
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk], request=_request("activate", hr))
    pks = [
        assignment_create(
            actor=hr,
            employee=employee,
            position=PositionFactory(org_unit=unit),
            start_date=D(2026, 2, 2),
            weekly_hours=Decimal(30),
        )[0].pk
        for _ in range(2)
    ]
    before = written_counts()

    with pytest.raises(RuleViolationError) as caught:
        transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks, request=_request("approve", hr))

    assert [v["rule"] for v in caught.value.details["violations"]] == ["CONTRACT"]
    assert any(str(pks[1]) in note for note in caught.value.__notes__)
    assert written_counts() == before
    assert set(Assignment.objects.filter(pk__in=pks).values_list("state", flat=True)) == {"proposed"}


# --- inside statements_ahead (a bulk load, ADR 0047): the states written a part at a time, sent ahead ----------


@pytest.mark.postgres  # statements are sent ahead on PostgreSQL only; elsewhere the block changes nothing
def test_inside_statements_ahead_a_batch_written_in_parts_matches_one_by_one_calls(hr, reason_rule, monkeypatch):
    monkeypatch.setattr(services, "_AHEAD_PART", 2)  # 5 objects: three parts, three UPDATEs sent ahead
    singles, batch = new_employees(5), new_employees(5)

    for name, day, reason in EMPLOYEE_STORY:
        request = _request(name, hr, day, reason)
        one_by_one(EMPLOYEE_TRANSITIONS, [e.pk for e in singles], request)
        with transaction.atomic(), statements_ahead():
            outcomes = transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in batch], request=request)
        assert [o.target for o in outcomes] == [outcomes[0].target] * 5

    for single, batched in zip(singles, batch, strict=True):
        assert employee_trace(batched.pk) == employee_trace(single.pk)
    assert all(report.ok for report in chain_verify_all())


@pytest.mark.postgres
def test_inside_statements_ahead_a_refusal_in_the_last_part_rolls_back_the_parts_sent_ahead(hr, monkeypatch):
    monkeypatch.setattr(services, "_AHEAD_PART", 2)
    employees = new_employees(5)
    pks = [e.pk for e in employees]
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("activate", hr))
    Employee.objects.filter(pk=pks[-1]).update(state="suspended")  # the last one cannot start a leave
    before = written_counts()

    with pytest.raises(TransitionNotAllowedError), transaction.atomic(), statements_ahead():
        transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("start_leave", hr, HIRE))

    assert written_counts() == before
    states = dict(Employee.objects.filter(pk__in=pks).values_list("pk", "state"))
    assert states == {**dict.fromkeys(pks[:-1], "active"), pks[-1]: "suspended"}


# --- a refusal writes nothing ---------------------------------------------------------------------------


def test_one_object_in_the_wrong_state_refuses_the_whole_batch_and_writes_nothing(hr):
    employees = new_employees(3)
    transition_perform(kind=EMPLOYEE_TRANSITIONS, pk=employees[1].pk, request=_request("activate", hr))
    before = written_counts()

    with pytest.raises(TransitionNotAllowedError) as caught:
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in employees], request=_request("activate", hr)
        )

    assert caught.value.details == {
        "current_state": "active",
        "allowed_transitions": ["start_leave", "suspend", "terminate"],
        "object": employees[1].pk,
    }
    assert written_counts() == before
    states = dict(Employee.objects.filter(pk__in=[e.pk for e in employees]).values_list("pk", "state"))
    assert states == {employees[0].pk: "pending", employees[1].pk: "active", employees[2].pk: "pending"}
    assert chain_verify(EmployeeTransitionLog).ok


def test_a_rule_refusing_the_last_object_rolls_back_the_earlier_ones(hr, reason_rule):
    employees = new_employees(3)
    pks = [e.pk for e in employees]
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("activate", hr))
    before = written_counts()

    with pytest.raises(RuleViolationError):
        transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("terminate", hr, HIRE, ""))

    assert written_counts() == before
    assert set(Employee.objects.filter(pk__in=pks).values_list("state", "termination_date")) == {("active", None)}


def test_a_failing_hook_rolls_back_the_whole_batch(hr, after_hook):
    employees = new_employees(2)
    calls = []

    def fail_on_second(instance, request, log_entry):
        calls.append(instance.pk)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return []

    after_hook("employee.activate", fail_on_second)
    before = written_counts()
    with pytest.raises(RuntimeError):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in employees], request=_request("activate", hr)
        )
    assert written_counts() == before
    assert set(Employee.objects.filter(pk__in=[e.pk for e in employees]).values_list("state", flat=True)) == {"pending"}


def test_a_missing_object_is_a_404_naming_it_and_writes_nothing(hr):
    (employee,) = new_employees(1)
    before = written_counts()
    with pytest.raises(errors.NotFoundError, match="987654"):
        transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk, 987654], request=_request("activate", hr))
    assert written_counts() == before


@pytest.mark.parametrize("role", ["manager", "auditor", "employee"])
def test_a_role_that_may_not_transition_gets_403(make_user, role):
    (employee,) = new_employees(1)
    with pytest.raises(errors.PermissionDeniedError):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk], request=_request("activate", make_user(role))
        )
    assert Employee.objects.get(pk=employee.pk).state == "pending"


def test_bad_batches_are_refused_before_anything_is_read(hr, make_user):
    (employee,) = new_employees(1)
    with pytest.raises(errors.InvalidInputError):
        transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk], request=_request("promote", hr))
    with pytest.raises(ValueError, match="once"):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk, employee.pk], request=_request("activate", hr)
        )
    with pytest.raises(ValueError, match="dry-run"):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS,
            pks=[employee.pk],
            request=TransitionRequest(name="activate", actor=hr, dry_run=True),
        )
    with pytest.raises(errors.PermissionDeniedError):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS,
            pks=[employee.pk],
            request=TransitionRequest(name="activate", actor=hr, override_reason="because"),
        )
    assert transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[], request=_request("activate", hr)) == []
    assert written_counts() == (0, 0, 0)


# --- the chain ---------------------------------------------------------------------------------------------


def test_chain_append_many_continues_the_chain_in_list_order(make_employee, hr):
    first, second = make_employee("active"), make_employee("active")
    common = {"actor": hr, "actor_email": hr.email, "source_state": "active", "target_state": "active"}
    single = chain_append(EmployeeTransitionLog, employee=first, transition="note", **common)
    rows = chain_append_many(
        EmployeeTransitionLog,
        [
            {"employee": first, "transition": "one", "rule_results": [{"observed": Decimal("1.50")}], **common},
            {"employee": second, "transition": "two", **common},
        ],
    )

    assert [r.prev_hash for r in rows] == [single.hash, rows[0].hash]
    assert rows[0].pk < rows[1].pk
    assert rows[0].rule_results == [{"observed": "1.50"}]  # as the JSON column gives it back
    assert chain_verify(EmployeeTransitionLog).ok
    assert chain_append_many(EmployeeTransitionLog, []) == []


# --- cheaper than a loop ----------------------------------------------------------------------------------


def _proposed_assignments(hr, position, count: int) -> list[int]:
    """``count`` new employees of the position's unit, activated as one batch, each proposed for the position."""
    workers = new_employees(count, position.org_unit)
    transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in workers], request=_request("activate", hr))
    return [
        assignment_create(actor=hr, employee=e, position=position, start_date=D(2026, 2, 2), weekly_hours=20)[0].pk
        for e in workers
    ]


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("name", "divisor"),
    [
        ("suspend", 20),  # no hook: the states in one bulk update, the rest once per batch
        ("activate", 2),  # a ledger posting per employee (its hook's own queries) stays per object
    ],
)
def test_a_batch_of_50_costs_far_fewer_queries_than_50_single_calls(hr, reason_rule, name, divisor):
    employees = new_employees(51)
    pks = [e.pk for e in employees]
    if name == "suspend":
        transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("activate", hr))
    request = _request(name, hr, HIRE, "Audit")

    one = _queries(lambda: transition_perform(kind=EMPLOYEE_TRANSITIONS, pk=pks[0], request=request))
    batch = _queries(lambda: transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks[1:], request=request))

    assert batch * divisor < 50 * one, (batch, one)


def test_an_assignment_batch_costs_far_fewer_queries_than_single_calls(hr, approval_rules):
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    pks = _proposed_assignments(hr, position, 21)
    request = _request("reject", hr)

    one = _queries(lambda: transition_perform(kind=ASSIGNMENT_TRANSITIONS, pk=pks[0], request=request))
    batch = _queries(lambda: transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks[1:], request=request))

    assert batch * 2 < 20 * one, (batch, one)


def test_rules_that_read_other_rows_add_no_query_per_object(hr, approval_rules):
    """Approving 20 assignments with five rules (reading open assignments, employee tags, position tags) costs
    the same as without rules, give or take the batch's three loads."""
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    PositionTagFactory(position=position)
    pks = _proposed_assignments(hr, position, 40)
    approve = _request("approve", hr)

    with_rules = _queries(lambda: transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks[:20], request=approve))
    BusinessRule.objects.update(is_active=False)
    without = _queries(lambda: transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks[20:], request=approve))

    assert with_rules - without <= 3, (with_rules, without)


def test_a_facts_relation_the_batch_does_not_preload_makes_it_save_per_object(hr, approval_rules, monkeypatch):
    """Should ``Facts`` gain a lazily loaded relation, its rules would read the database: the batch then saves each
    object as it goes (the database answers as it would one-by-one calls) instead of one bulk update at the end."""
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    pks = _proposed_assignments(hr, position, 6)

    def assignment_updates(batch) -> int:
        with CaptureQueriesContext(connection) as ctx:
            transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=batch, request=_request("approve", hr))
        return sum(
            'UPDATE "assignments_assignment"' in q["sql"] for q in ctx.captured_queries
        )  # a context may prefix SQL

    assert assignment_updates(pks[:3]) == 1
    monkeypatch.setattr(services, "_lazy_facts", lambda: {"other_open_assignments", "salary_history"})
    assert assignment_updates(pks[3:]) == 3
    assert assignment_trace(pks[4]) == assignment_trace(pks[1])


# --- batched twins of after-transition hooks -----------------------------------------------------------------


@pytest.fixture
def batched_hook():
    """``batched_hook(event, hook, twin)`` registers a hook and its batched twin for the test's duration only."""
    registered: list[tuple[str, object]] = []

    def _register(event: str, hook, twin) -> None:
        services.register_after_transition(event, hook)
        services.register_after_transition_many(event, twin, replaces=hook)
        registered.append((event, hook))

    yield _register
    for event, hook in registered:
        services._after_hooks[event].remove(hook)
        services._after_hooks_many[event].pop(hook, None)


def test_a_batched_twin_runs_once_per_batch_instead_of_its_hook_per_object(hr, batched_hook):
    employees = new_employees(4)
    pks = [e.pk for e in employees[:3]]
    per_object, per_batch = [], []

    def hook(instance, request, log_entry):
        per_object.append(instance.pk)
        return [log_entry]

    def twin(items):
        per_batch.append([(instance.pk, request.name, log_entry.employee_id) for instance, request, log_entry in items])
        return [[log_entry] for _, _, log_entry in items]

    batched_hook("employee.activate", hook, twin)
    outcomes = transition_perform_many(kind=EMPLOYEE_TRANSITIONS, pks=pks, request=_request("activate", hr))

    assert per_object == []
    assert per_batch == [[(pk, "activate", pk) for pk in pks]]
    assert [o.cascaded for o in outcomes] == [[o.log_entry] for o in outcomes]
    transition_perform(kind=EMPLOYEE_TRANSITIONS, pk=employees[3].pk, request=_request("activate", hr))
    assert per_object == [employees[3].pk]  # one-by-one calls keep the hook itself


def test_a_failing_batched_twin_rolls_back_the_whole_batch(hr, batched_hook):
    employees = new_employees(2)
    batched_hook("employee.activate", lambda *args: [], lambda items: 1 / 0)
    before = written_counts()
    with pytest.raises(ZeroDivisionError):
        transition_perform_many(
            kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in employees], request=_request("activate", hr)
        )
    assert written_counts() == before
    assert set(Employee.objects.filter(pk__in=[e.pk for e in employees]).values_list("state", flat=True)) == {"pending"}


# --- what the batch loads with its objects (ADR 0041) -----------------------------------------------------------


def test_log_rows_come_back_with_their_subject_and_actor_loaded(hr, reason_rule):
    employees = new_employees(3)
    outcomes = transition_perform_many(
        kind=EMPLOYEE_TRANSITIONS, pks=[e.pk for e in employees], request=_request("activate", hr)
    )

    with CaptureQueriesContext(connection) as ctx:
        pairs = [(o.log_entry.employee, o.log_entry.actor) for o in outcomes]
    assert ctx.captured_queries == []
    assert pairs == [(o.instance, hr) for o in outcomes]
    assert all(pair[0] is o.instance for pair, o in zip(pairs, outcomes, strict=True))
    stored = EmployeeTransitionLog.objects.filter(pk__in=[o.log_entry.pk for o in outcomes]).order_by("pk")
    assert [(log.employee_id, log.actor_id) for log in stored] == [(o.instance.pk, hr.pk) for o in outcomes]


def test_a_managers_batch_with_a_unit_scoped_rule_costs_the_same_queries_for_4_or_12_assignments(make_user, hr):
    """``_actor_may`` (the position's unit) and a rule scoped to an org unit read relations the batch loads with its
    objects (``batch_related``): a larger batch costs no more queries."""
    unit = OrgUnitFactory()
    manager = make_user(role="manager", org_unit=unit)
    position = PositionFactory(org_unit=unit)
    BusinessRuleFactory(
        code="UNIT_ACTIVE",
        rule_type="employee_state",
        params={"states": ["active"]},
        events=["assignment.approve"],
        org_unit=unit,
    )
    pks = _proposed_assignments(hr, position, 16)
    approve = _request("approve", manager)

    small = _queries(lambda: transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks[:4], request=approve))
    large = _queries(lambda: transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=pks[4:], request=approve))

    assert small == large, (small, large)
    logs = AssignmentTransitionLog.objects.filter(assignment_id__in=pks).order_by("id")
    assert [[r["rule"] for r in log.rule_results] for log in logs] == [["UNIT_ACTIVE"]] * 16
    assert all(log.actor_id == manager.pk for log in logs)
