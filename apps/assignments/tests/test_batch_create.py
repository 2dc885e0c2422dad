import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.assignments.services import assignment_create, assignment_transition, assignments_create_many
from apps.business_rules.services import rule_create
from apps.fsm.services import employee_transition
from backend.errors import InvalidInputError, PermissionDeniedError, RuleViolationError

D = datetime.date
pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def _active(actor, hours=40):
    employee = EmployeeFactory(contracted_weekly_hours=hours)
    employee_transition(employee_id=employee.pk, name="activate", actor=actor)
    return type(employee).objects.get(pk=employee.pk)


def _relabel(value, label: dict):
    """Rule results with the ids of the assignments a run made replaced by their rank (runs differ in ids only)."""
    if isinstance(value, dict):
        if value.get("type") == "assignment" and value.get("id") in label:
            return {**value, "id": label[value["id"]]}
        return {k: _relabel(v, label) for k, v in value.items()}
    if isinstance(value, list):
        return [_relabel(v, label) for v in value]
    if isinstance(value, str):
        return re.sub(r"#(\d+)", lambda m: f"#{label.get(int(m[1]), m[1])}", value)
    return value


def _related(details) -> list:
    return [ref for result in details["violations"] for ref in result["related"]]


def _unrelated(details) -> dict:
    return {key: [{**r, "related": None} for r in results] for key, results in details.items()}


def _rolled_back(run):
    """What ``run`` writes and returns, as comparable data; then undone, so another run starts from the same rows."""
    before = set(Assignment.objects.values_list("pk", flat=True))
    try:
        with transaction.atomic():
            made = run()
            new = list(Assignment.objects.exclude(pk__in=before).order_by("pk"))
            label = {a.pk: f"new{rank}" for rank, a in enumerate(new)}
            rows = [
                (
                    a.employee_id,
                    a.position_id,
                    a.start_date,
                    a.end_date,
                    a.weekly_hours,
                    a.notes,
                    a.state,
                    a.created_by_id,
                )
                for a in new
            ]
            assert [a.pk for a, _ in made] == [a.pk for a in new]
            raise _Undo((rows, _relabel([results for _, results in made], label)))
    except _Undo as undo:
        return undo.args[0]


def _one_by_one(actor, proposals, **options):
    return [assignment_create(actor=actor, **proposal, **options) for proposal in proposals]


def _batch(actor, proposals, **options):
    return assignments_create_many(actor=actor, proposals=proposals, **options)


@pytest.fixture
def rules(db):
    rule_create(
        code="ACTIVE_ONLY",
        name="Active only",
        rule_type="employee_state",
        params={"states": ["active"]},
        events=["assignment.create"],
    )
    rule_create(
        code="MAX_40",
        name="At most 40 h",
        rule_type="max_weekly_hours",
        params={"max_hours": 40},
        severity="warn",
        events=["assignment.create"],
    )
    rule_create(
        code="TWO_AT_ONCE",
        name="Two at once",
        rule_type="max_concurrent_assignments",
        params={"max": 2, "count_proposed": True},
        severity="warn",
        events=["assignment.create"],
    )
    rule_create(
        code="NO_DOUBLE",
        name="No double",
        rule_type="no_overlap_same_position",
        params={},
        events=["assignment.create"],
    )


def test_mixed_batch_writes_the_rows_and_results_of_one_by_one_calls(hr, rules):
    first, second = _active(hr), _active(hr, 30)
    p1, p2, p3 = PositionFactory(), PositionFactory(), PositionFactory()
    existing, _ = assignment_create(actor=hr, employee=first, position=p3, start_date=D(2026, 1, 5), weekly_hours=20)
    assignment_transition(assignment_id=existing.pk, name="approve", actor=hr)
    proposals = [
        {"employee": first, "position": p1, "start_date": D(2026, 2, 2), "weekly_hours": Decimal(15)},
        {"employee": second, "position": p1, "start_date": D(2026, 2, 2), "weekly_hours": Decimal(20), "notes": "n"},
        {
            "employee": first,
            "position": p2,
            "start_date": D(2026, 2, 2),
            "weekly_hours": 10,
            "end_date": D(2026, 6, 30),
        },
        {"employee": first, "position": p2, "start_date": D(2026, 7, 1), "weekly_hours": Decimal("12.5")},
        {"employee": second, "position": p2, "start_date": D(2026, 3, 2), "weekly_hours": Decimal(41)},
    ]

    batch = _rolled_back(lambda: _batch(hr, proposals, acknowledge_warnings=True))
    single = _rolled_back(lambda: _one_by_one(hr, proposals, acknowledge_warnings=True))

    assert batch == single
    rows, results = batch
    assert len(rows) == 5
    assert {r["rule"] for r in results[0]} == {"ACTIVE_ONLY", "MAX_40", "TWO_AT_ONCE", "NO_DOUBLE"}
    # The third proposal sees the first (same employee, earlier in the batch), by its id, as a single call would.
    assert {"type": "assignment", "id": "new0"} in next(r for r in results[2] if r["rule"] == "TWO_AT_ONCE")["related"]
    assert next(r for r in results[4] if r["rule"] == "MAX_40")["outcome"] == "fail"  # 41 h over a 40 h cap: warned


def test_single_call_is_a_batch_of_one(hr, active_employee):
    position = PositionFactory()
    [(assignment, results)] = _batch(
        hr,
        [{"employee": active_employee, "position": position, "start_date": D(2026, 2, 2), "weekly_hours": 8}],
    )
    assert (assignment.state, assignment.created_by, results) == ("proposed", hr, [])
    assert Assignment.objects.get(pk=assignment.pk).weekly_hours == 8


def test_rule_violation_writes_nothing_and_raises_the_single_calls_error(hr, rules):
    active, pending = _active(hr), EmployeeFactory()
    position = PositionFactory()
    proposals = [
        {"employee": active, "position": position, "start_date": D(2026, 2, 2), "weekly_hours": 10},
        {"employee": pending, "position": position, "start_date": D(2026, 2, 2), "weekly_hours": 10},
    ]
    with pytest.raises(RuleViolationError) as batch_err:
        _batch(hr, proposals, acknowledge_warnings=True)
    assert Assignment.objects.count() == 0
    with pytest.raises(RuleViolationError) as single_err:
        assignment_create(actor=hr, acknowledge_warnings=True, **proposals[1])
    assert batch_err.value.details == single_err.value.details
    assert batch_err.value.message == single_err.value.message
    assert "proposal 1" in batch_err.value.__notes__[0]


def test_manager_out_of_scope_writes_nothing(make_user, tree):
    manager = make_user("manager", org_unit=tree["root"])
    local = EmployeeFactory(org_unit=tree["east"])
    proposals = [
        {"employee": local, "position": tree["p_east"], "start_date": D(2026, 2, 2), "weekly_hours": 10},
        {"employee": local, "position": tree["p_west"], "start_date": D(2027, 2, 2), "weekly_hours": 10},
    ]
    with pytest.raises(PermissionDeniedError):
        _batch(manager, proposals)
    assert Assignment.objects.count() == 0
    assert len(_batch(manager, proposals[:1])) == 1


def test_bad_period_writes_nothing_and_the_first_refusal_wins(hr, rules):
    employee, pending = _active(hr), EmployeeFactory()
    position = PositionFactory()
    proposals = [
        {"employee": employee, "position": position, "start_date": D(2026, 2, 2), "weekly_hours": 10},
        {
            "employee": employee,
            "position": position,
            "start_date": D(2026, 2, 2),
            "end_date": D(2026, 1, 1),
            "weekly_hours": 10,
        },
        {"employee": pending, "position": position, "start_date": D(2026, 2, 2), "weekly_hours": 10},
    ]
    with pytest.raises(InvalidInputError) as err:
        _batch(hr, proposals, acknowledge_warnings=True)
    assert set(err.value.details) == {"end_date"}
    assert Assignment.objects.count() == 0


def test_only_an_admin_overrides(hr, active_employee):
    proposal = {
        "employee": active_employee,
        "position": PositionFactory(),
        "start_date": D(2026, 2, 2),
        "weekly_hours": 1,
    }
    with pytest.raises(PermissionDeniedError):
        _batch(hr, [proposal], override_reason="urgent")
    assert Assignment.objects.count() == 0


def test_later_proposal_of_an_employee_sees_the_earlier_ones_as_one_by_one_calls_do(hr, active_employee):
    # max_weekly_hours counts approved/active assignments only (proposals do not load anyone), so two 30 h proposals
    # under a 40 h cap both pass one by one — and so in a batch; a rule that counts proposals refuses the second.
    rule_create(
        code="CAP_40",
        name="Cap 40",
        rule_type="max_weekly_hours",
        params={"max_hours": 40},
        events=["assignment.create"],
    )
    proposals = [
        {"employee": active_employee, "position": PositionFactory(), "start_date": D(2026, 2, 2), "weekly_hours": 30},
        {"employee": active_employee, "position": PositionFactory(), "start_date": D(2026, 2, 2), "weekly_hours": 30},
    ]
    batch = _rolled_back(lambda: _batch(hr, proposals))
    assert batch == _rolled_back(lambda: _one_by_one(hr, proposals))
    assert len(batch[0]) == 2

    rule_create(
        code="ONE_AT_ONCE",
        name="One at once",
        rule_type="max_concurrent_assignments",
        params={"max": 1, "count_proposed": True},
        events=["assignment.create"],
    )
    with pytest.raises(RuleViolationError) as batch_err:
        _batch(hr, proposals)
    assert Assignment.objects.count() == 0
    first, _ = assignment_create(actor=hr, **proposals[0])
    with pytest.raises(RuleViolationError) as single_err:
        assignment_create(actor=hr, **proposals[1])
    # The same refusal, except that it cannot name the batch's first proposal: that one was never saved.
    assert _unrelated(batch_err.value.details) == _unrelated(single_err.value.details)
    assert _related(single_err.value.details) == [{"type": "assignment", "id": first.pk}]
    assert _related(batch_err.value.details) == []
    assert "proposal 1" in batch_err.value.__notes__[0]


def test_queries_do_not_grow_with_the_batch(hr, rules):
    employees = [_active(hr) for _ in range(10)]
    positions = [PositionFactory() for _ in range(3)]
    proposals = [
        {"employee": e, "position": p, "start_date": D(2026, 2, 2) + datetime.timedelta(days=7 * k), "weekly_hours": 5}
        for k, p in enumerate(positions)
        for e in employees
    ]
    with CaptureQueriesContext(connection) as batched:
        made = _batch(hr, proposals, acknowledge_warnings=True)
    assert len(made) == 30
    Assignment.objects.filter(pk__in=[a.pk for a, _ in made]).delete()
    with CaptureQueriesContext(connection) as single:
        _one_by_one(hr, proposals, acknowledge_warnings=True)
    # lock, rules, open assignments, employee tags, position tags, one insert per round (3), savepoint pair
    assert len(batched) <= 10
    assert len(single) >= 5 * len(batched)
