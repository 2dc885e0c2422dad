"""The free-hours bounds candidates visit the qualified by (apps/demand/candidate_bounds.py, ADR 0036): kept by
triggers on every write path, never below anyone's free hours, trusted only while the rollups hold a horizon."""

import datetime
import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection, transaction

from apps.api.models import Employee
from apps.assignments.models import Assignment
from apps.demand.candidate_bounds import BOUNDS, WEEK_MIN_DAYS, WINDOW_DAYS, bounds_sql
from apps.demand.periods import hours as to_hours
from apps.demand.rollups import HORIZON
from apps.demand.supply import supply_by_employee
from apps.demand.tests.conftest import D
from apps.offer.models import LedgerEntry

pytestmark = pytest.mark.postgres


def _table() -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT employee_id, bound, employee_number, week_bound, week_committed, least_committed, active "  # noqa: S608
            f"FROM {BOUNDS}"
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _from_scratch() -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(bounds_sql("SELECT id FROM api_employee"))
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _floor(day) -> None:
    """The bounds hold from ``day`` on (None: over all time), every row rewritten, as ``rollup_rebuild`` does."""
    from apps.demand.candidate_bounds import rebuild_sql

    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {HORIZON} SET bounds_from = %s", [day])  # noqa: S608
        for statement in rebuild_sql():
            cursor.execute(statement)


def _entry(employee, kind, hours, start, end=None, **fields) -> LedgerEntry:
    return LedgerEntry(
        employee=employee,
        kind=kind,
        hours=Decimal(str(hours)),
        period_start=start,
        period_end=end,
        source=fields.pop("source", "employee"),
        **fields,
    )


def _random_ledger(rng, employees) -> list[LedgerEntry]:
    """Entries of every kind and basis: overlapping contracts, leave and assignments (and their reversals), totals,
    adjustments either way, worked hours."""
    entries = []
    for employee in employees:
        for _ in range(rng.randint(0, 5)):
            start = D(2026, rng.randint(1, 6), rng.randint(1, 28))
            end = rng.choice([None, start + datetime.timedelta(days=rng.randint(0, 90))])
            kind = rng.choice(["contracted", "contracted", "leave", "assigned", "worked", "adjustment"])
            basis = "total" if kind in ("worked", "adjustment") or rng.random() < 0.2 else "weekly_rate"
            if basis == "total" and end is None:
                end = start + datetime.timedelta(days=rng.randint(0, 20))
            hours = rng.choice([4, 7.77, 13.37, 20, 36, 40, 45.5]) * rng.choice([1, 1, 1, -1])
            adjusts = rng.choice(["contracted", "leave", "assigned", "worked"]) if kind == "adjustment" else ""
            entries.append(_entry(employee, kind, hours, start, end, basis=basis, adjusts=adjusts))
    return entries


@pytest.mark.parametrize("floor", [None, D(2026, 3, 10)])
def test_the_triggers_keep_every_bound_equal_to_a_rebuild_on_every_write_path(tree, make_employee, floor):
    """Employees inserted one by one, in bulk and through COPY, contract hours and employee numbers updated (save and
    ``QuerySet.update``), ledger entries posted one by one and in bulk (the ledger's chain takes no COPY): the table
    equals the from-scratch SELECT after each step."""
    from backend.bulk_copy import copy_insert

    rng = random.Random(36)
    _floor(floor)
    one = make_employee(tree.dept, contract=40, employee_number="B-ONE")
    assert _table()[one.pk] == (4000, "B-ONE", 4000, 0, 0, True)

    def people(first: int, n: int) -> list[Employee]:
        return [
            Employee(
                employee_number=f"B-{i:03d}",
                first_name="B",
                last_name=str(i),
                email=f"b{i}@coveris.test",
                org_unit=tree.dept,
                contracted_weekly_hours=Decimal(rng.choice([0, 12, 37.5, 40])),
                hire_date=D(2025, 1, 6),
                state=rng.choice(["active", "active", "pending", "on_leave"]),
            )
            for i in range(first, first + n)
        ]

    many = Employee.objects.bulk_create(people(0, 20))
    with transaction.atomic():
        many += copy_insert(Employee, people(20, 10))  # COPY (ADR 0032) fires the statement triggers too
    assert _table() == _from_scratch()
    for entry in _random_ledger(rng, many[:10]):
        entry.save()
    assert _table() == _from_scratch()
    LedgerEntry.objects.bulk_create(_random_ledger(rng, many[10:]))
    assert _table() == _from_scratch()
    one.contracted_weekly_hours = Decimal("45.5")
    one.save()
    Employee.objects.filter(pk__in=[e.pk for e in many[:15]]).update(contracted_weekly_hours=Decimal(50))
    many[3].employee_number = "A-FIRST"
    many[3].save()
    was_active = set(Employee.objects.filter(state="active").values_list("pk", flat=True))
    Employee.objects.filter(pk__in=[e.pk for e in many[20:25]]).update(state="suspended")
    Employee.objects.filter(pk__in=[e.pk for e in many[25:]]).update(state="active")
    table = _table()
    assert table == _from_scratch()
    assert table[one.pk] == (4550, "B-ONE", 4550, 0, 0, True)
    assert table[many[3].pk][1] == "A-FIRST"
    on_ledger = set(LedgerEntry.objects.values_list("employee_id", flat=True))
    active = set(Employee.objects.filter(state="active").values_list("pk", flat=True))
    contracts = dict(Employee.objects.values_list("pk", "contracted_weekly_hours"))
    assert 0 < len(active) < len(contracts)  # some of every kind: a bound whatever the state (ADR 0045)
    # the row's copy of the state (ADR 0050), moved both ways by the updates above
    assert {pk for pk in contracts if table[pk][5]} == active
    assert was_active - active, "nobody left active"
    assert active - was_active, "nobody became active"
    assert all(table[pk][0] == contracts[pk] * 100 for pk in contracts if pk not in on_ledger)
    assert any(table[pk][0] != contracts[pk] * 100 for pk in active & on_ledger)  # the ledger's rates
    assert any(table[pk][0] != contracts[pk] * 100 for pk in on_ledger - active)
    assert all(table[pk][2] == table[pk][0] for pk in contracts if pk not in on_ledger)  # the contract either way
    assert all(0 <= table[pk][2] <= table[pk][0] for pk in contracts)  # an average is at most the maximum
    if floor:
        assert any(table[pk][2] < table[pk][0] for pk in active & on_ledger), "no week bound below the day's maximum"
        assert any(table[pk][2] < table[pk][0] for pk in on_ledger - active), "nor for anyone not active"
    else:
        assert all(table[pk][2] == table[pk][0] for pk in contracts), "without a floor: the day's maximum"


@pytest.mark.parametrize("floor", [None, D(2026, 3, 10)])
def test_no_one_has_more_free_hours_than_their_bound_over_any_period(tree, make_employee, make_assignment, floor):
    """The bound is at least the free hours apps/demand/supply.py gives (what the ranking reads), for either source,
    over periods of one day to several months, inside, across and outside the entries — inside the floor's window
    when there is one (then the bounds are tighter: entries outside the window do not count); the week bound (ADR
    0042) over the periods of 7 days or more."""
    from apps.api.tests.factories import PositionFactory

    rng = random.Random(3600)
    position = PositionFactory(org_unit=tree.dept)
    people = [
        make_employee(
            tree.dept,
            contract=rng.choice([0, 12, 24, 37.5, 40, 45]),
            employee_number=f"F-{i:03d}",
            hire_date=rng.choice([D(2025, 1, 6), D(2026, 3, 10)]),
            termination_date=rng.choice([None, D(2026, 4, 30)]),
        )
        for i in range(60)
    ]
    for person in people[::3]:
        make_assignment(person, position, hours=rng.choice([4, 19.99, 40]), start=D(2026, 2, rng.randint(1, 28)))
    LedgerEntry.objects.bulk_create(_random_ledger(rng, people[: len(people) // 2]))
    _floor(floor)
    bounds = _table()
    checked = weeks = 0
    for _ in range(25):
        start = (floor or D(2025, 12, 1)) + datetime.timedelta(days=rng.randint(0, WINDOW_DAYS - 1 if floor else 240))
        end = start + datetime.timedelta(days=rng.choice([0, 1, 6, 13, 27, 90]))
        if floor:  # the bounds hold inside [floor, floor + WINDOW_DAYS - 1]
            end = min(end, floor + datetime.timedelta(days=WINDOW_DAYS - 1))
        supply = supply_by_employee(
            employees=Employee.objects.filter(pk__in=[p.pk for p in people]), start=start, end=end
        )
        days = (end - start).days + 1
        for pk, (_ledger, contracted, leave, assigned, _worked) in supply.items():
            free = to_hours((Decimal(str(contracted)) - Decimal(str(leave)) - Decimal(str(assigned))) * 7 / days)
            assert free * 100 <= bounds[pk][0], (pk, start, end, free, bounds[pk])  # every state (ADR 0045)
            checked += 1
            if days >= WEEK_MIN_DAYS:
                assert free * 100 <= bounds[pk][2], (pk, start, end, free, bounds[pk])
                weeks += 1
    assert checked == 25 * len(people)
    assert weeks >= 10 * len(people)


def _week_bounds_by_hand(employees, floor, lengths=range(7, 14), shift=0, extra=0) -> dict[int, int]:
    """Each employee's week bound computed day by day in Python from their ledger entries: the rate of each day of
    [floor + shift, floor + shift + WINDOW_DAYS − 1 + extra] (every entry's weekly rate rounded up to the cent, signed
    by the column it counts in), then the largest average over the windows of ``lengths`` days inside it, rounded
    up."""
    days = [floor + datetime.timedelta(days=shift + i) for i in range(WINDOW_DAYS + extra)]
    signs = {"contracted": 1, "leave": -1, "assigned": -1, "worked": 0}
    found = {}
    for employee in employees:
        rates = [0] * len(days)
        for entry in LedgerEntry.objects.filter(employee=employee):
            sign = signs[entry.adjusts if entry.kind == "adjustment" else entry.kind]
            if entry.basis == "weekly_rate":
                cents = math.ceil(sign * Fraction(entry.hours) * 100)
            else:
                cents = math.ceil(
                    sign * Fraction(entry.hours) * 700 / ((entry.period_end - entry.period_start).days + 1)
                )
            for i, day in enumerate(days):
                if entry.period_start <= day and (entry.period_end is None or day <= entry.period_end):
                    rates[i] += cents
        found[employee.pk] = max(
            0,
            max(math.ceil(Fraction(sum(rates[i : i + k]), k)) for k in lengths for i in range(len(days) - k + 1)),
        )
    return found


def test_the_week_bound_is_the_largest_average_over_seven_to_thirteen_days_of_the_window(tree, make_employee):
    """The week bound (ADR 0042) equals a day-by-day computation in Python, and would not with windows of 6 days too,
    without those of 7, or with the window a day longer or a day later: the test can tell an off-by-one. (Windows of
    14 days or more never change it: each splits into windows of 7 to 13 days, the bound's own argument.)"""
    rng = random.Random(42)
    floor = D(2026, 3, 10)
    people = [make_employee(tree.dept, contract=40, employee_number=f"W-{i:03d}") for i in range(40)]
    LedgerEntry.objects.bulk_create(_random_ledger(rng, people))
    # Booked but for a few days: 5, 6, then 7 free days between two assignments, inside the window.
    for gap in (5, 6, 7):
        person = make_employee(tree.dept, contract=40, employee_number=f"W-GAP-{gap}")
        resume = D(2026, 4, 10) + datetime.timedelta(days=gap)
        LedgerEntry.objects.bulk_create(
            [
                _entry(person, "contracted", 40, D(2026, 1, 1)),
                _entry(person, "assigned", 40, D(2026, 1, 1), D(2026, 4, 9), source="assignment"),
                _entry(person, "assigned", 40, resume, source="assignment"),
            ]
        )
        people.append(person)
    # Free for the window's last six days only.
    end = make_employee(tree.dept, contract=40, employee_number="W-END")
    last = floor + datetime.timedelta(days=WINDOW_DAYS - 7)
    LedgerEntry.objects.bulk_create(
        [
            _entry(end, "contracted", 40, D(2026, 1, 1)),
            _entry(end, "assigned", 40, D(2026, 1, 1), last, source="assignment"),
        ]
    )
    people.append(end)
    _floor(floor)
    table = {pk: row[2] for pk, row in _table().items() if pk in {p.pk for p in people}}
    on_ledger = [p for p in people if LedgerEntry.objects.filter(employee=p).exists()]
    assert len(on_ledger) >= 20
    by_hand = _week_bounds_by_hand(on_ledger, floor)
    assert {pk: table[pk] for pk in by_hand} == by_hand
    # 40 h × free days / 7: one week of the gap's days at most
    assert [table[p.pk] for p in people[-4:]] == [2858, 3429, 4000, 3429]
    for variant in ({"lengths": range(6, 14)}, {"lengths": range(8, 14)}, {"extra": 1}, {"shift": 1}):
        assert _week_bounds_by_hand(on_ledger, floor, **variant) != by_hand, variant


COMMITTED = ("approved", "active")


def _committed_by_hand(employees, floor, length=WEEK_MIN_DAYS, shift=0, extra=0) -> dict[int, tuple[int, int]]:
    """Each employee's committed-hours bound day by day in Python from their assignments: c(d) = Σ weekly hours (cents)
    of the committed assignments covering day d of [floor + shift, floor + shift + WINDOW_DAYS − 1 + extra], then the
    least, over the windows of ``length`` days inside it, of the largest c(d) there; and the least c(d)."""
    days = [floor + datetime.timedelta(days=shift + i) for i in range(WINDOW_DAYS + extra)]
    found = {}
    for employee in employees:
        load = [0] * len(days)
        for a in Assignment.objects.filter(employee=employee, state__in=COMMITTED):
            for i, day in enumerate(days):
                if a.start_date <= day and (a.end_date is None or day <= a.end_date):
                    load[i] += math.floor(a.weekly_hours * 100)
        found[employee.pk] = (min(max(load[i : i + length]) for i in range(len(days) - length + 1)), min(load))
    return found


def _random_assignments(rng, people, positions, floor) -> list[Assignment]:
    """Committed and other assignments around and inside the window: overlapping, open-ended, with gaps of 5 to 8
    days between two (each of a person's on its own position: no two open ones of a person to one position)."""
    rows = []
    for person in people:
        day = floor - datetime.timedelta(days=rng.randint(0, 30))
        for position in positions[: rng.randint(0, len(positions))]:
            length = rng.choice([3, 6, 7, 20, 45, 120])
            end = day + datetime.timedelta(days=length)
            rows.append(
                Assignment(
                    employee=person,
                    position=position,
                    start_date=day,
                    end_date=rng.choice([end, end, None]),
                    weekly_hours=Decimal(str(rng.choice([4, 7.5, 12.25, 20, 40]))),
                    state=rng.choice(["approved", "active", "active", "proposed", "completed", "cancelled"]),
                )
            )
            day = day + datetime.timedelta(days=rng.choice([0, 5, 6, 7, 8, 15, length]))
    return rows


def test_the_committed_bound_is_the_least_over_seven_days_of_the_window_of_the_most_committed_hours(
    tree, make_employee
):
    """The committed-hours bound (ADR 0049) equals a day-by-day computation in Python, and would not with windows of 6
    or 8 days, or with the window a day longer or a day later: the test can tell an off-by-one. Only approved and
    active assignments count; without a floor it is 0."""
    from apps.api.tests.factories import PositionFactory

    rng = random.Random(49)
    floor = D(2026, 3, 10)
    positions = [PositionFactory(org_unit=tree.dept) for _ in range(6)]
    position = positions[0]
    people = [make_employee(tree.dept, contract=40, employee_number=f"C-{i:03d}") for i in range(60)]
    Assignment.objects.bulk_create(_random_assignments(rng, people, positions, floor))
    # Booked throughout but for a gap of 6, then 7 days inside the window: the gap of 7 leaves a week with nothing.
    for gap in (6, 7):
        person = make_employee(tree.dept, contract=40, employee_number=f"C-GAP-{gap}")
        resume = D(2026, 4, 10) + datetime.timedelta(days=gap)
        Assignment.objects.bulk_create(
            [
                Assignment(
                    employee=person,
                    position=position,
                    start_date=D(2026, 1, 1),
                    end_date=D(2026, 4, 10),
                    weekly_hours=Decimal(30),
                    state="active",
                ),
                Assignment(
                    employee=person,
                    position=positions[1],
                    start_date=D(2026, 1, 1),
                    end_date=D(2026, 4, 10),
                    weekly_hours=Decimal("12.5"),
                    state="approved",
                ),
                Assignment(
                    employee=person,
                    position=position,
                    start_date=resume + datetime.timedelta(days=1),
                    weekly_hours=Decimal(20),
                    state="approved",
                ),
            ]
        )
        people.append(person)
    # Free for the window's last six days only: every week of the window still has a booked day.
    end = make_employee(tree.dept, contract=40, employee_number="C-END")
    Assignment.objects.create(
        employee=end,
        position=position,
        start_date=D(2026, 1, 1),
        end_date=floor + datetime.timedelta(days=WINDOW_DAYS - 7),
        weekly_hours=Decimal(30),
        state="active",
    )
    people.append(end)
    _floor(floor)
    table = {pk: row[3:5] for pk, row in _table().items()}
    by_hand = _committed_by_hand(people, floor)
    assert {p.pk: table[p.pk] for p in people} == by_hand
    # the gap of 6: 20 h on a day of every week; of 7: none; free for the last six days: 30 h
    assert [table[p.pk] for p in people[-3:]] == [(2000, 0), (0, 0), (3000, 0)]
    assert any(least > 0 for _, least in by_hand.values())
    assert sum(1 for v, _ in by_hand.values() if v > 0) >= 15
    assert sum(1 for v, _ in by_hand.values() if v == 0) >= 5
    for variant in ({"length": 6}, {"length": 8}, {"extra": 1}, {"shift": 1}):
        assert _committed_by_hand(people, floor, **variant) != by_hand, variant
    _floor(None)
    assert all(row[3:5] == (0, 0) for row in _table().values())


def test_the_triggers_keep_the_committed_bound_equal_to_a_rebuild_on_every_assignment_write_path(tree, make_employee):
    """Assignments created one by one, in bulk and through COPY, their state, dates, hours and employee changed (save
    and ``QuerySet.update``), deleted one by one and in bulk: the table equals the from-scratch SELECT after each
    step, and the bounds moved."""
    from apps.api.tests.factories import PositionFactory
    from backend.bulk_copy import copy_insert

    rng = random.Random(490)
    floor = D(2026, 3, 10)
    _floor(floor)
    positions = [PositionFactory(org_unit=tree.dept) for _ in range(6)]
    people = [make_employee(tree.dept, contract=40, employee_number=f"T-{i:03d}") for i in range(33)]

    def committed() -> dict[int, int]:
        return {pk: row[3:5] for pk, row in _table().items()}

    def check() -> dict[int, int]:
        assert _table() == _from_scratch()
        return committed()

    seen = [check()]
    for a in _random_assignments(rng, people[:10], positions, floor):
        a.save()
    seen.append(check())
    Assignment.objects.bulk_create(_random_assignments(rng, people[10:20], positions, floor))
    seen.append(check())
    with transaction.atomic():
        copy_insert(Assignment, _random_assignments(rng, people[20:30], positions, floor))
    seen.append(check())
    mine = list(Assignment.objects.order_by("id"))
    one = next(a for a in mine if a.state in COMMITTED)
    one.weekly_hours += 1
    one.save()
    seen.append(check())
    Assignment.objects.filter(pk__in=[a.pk for a in mine[::4]]).update(state="cancelled")
    seen.append(check())
    Assignment.objects.filter(pk__in=[a.pk for a in mine[1::4]]).update(state="active")
    seen.append(check())
    cut = floor + datetime.timedelta(days=20)
    Assignment.objects.filter(pk__in=[a.pk for a in mine[2::5]], start_date__lte=cut).update(end_date=cut)
    seen.append(check())
    late = floor + datetime.timedelta(days=10)
    Assignment.objects.filter(pk__in=[a.pk for a in mine[3::3]]).exclude(end_date__lt=late).update(start_date=late)
    seen.append(check())
    for a, newcomer in zip(mine[::7], people[30:], strict=False):  # to someone without assignments
        Assignment.objects.filter(pk=a.pk).update(employee=newcomer)
    seen.append(check())
    Assignment.objects.filter(pk__in=[a.pk for a in mine[1::3]]).update(weekly_hours=Decimal(33))
    seen.append(check())
    mine[5].delete()
    seen.append(check())
    Assignment.objects.filter(pk__in=[a.pk for a in mine[::2]]).delete()
    seen.append(check())
    assert [i for i, (before, after) in enumerate(zip(seen, seen[1:], strict=False)) if before == after] == []
