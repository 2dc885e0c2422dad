"""The weekly coverage rollup (apps/demand/rollups.py): kept by triggers, equal to a from-scratch recomputation, read
by the reports, rebuilt by a command."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from apps.api.models import Employee, OrgUnit, Position
from apps.api.tests.factories import PositionFactory
from apps.assignments.models import Assignment
from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.demand import coverage, kpis, rollups
from apps.demand.coverage import coverage_by_position_week, coverage_totals
from apps.demand.models import CoverageRequirement, RollupHorizon
from apps.demand.periods import Period
from apps.demand.tests.conftest import D, transitions_from_scratch, transitions_held
from apps.fsm.services import employee_transition

AKL, LAX = "Pacific/Auckland", "America/Los_Angeles"

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _rollups_built(db):
    """A test run before this one may have flushed every table, the horizon's row included: build them again."""
    from django.utils import timezone

    first, last = rollups.default_horizon(timezone.localdate())
    rollups.rollup_rebuild(first_week=first, last_week=last)


def _held() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT position_id, week, required_headcount, required_hour_days, assigned_headcount, assigned_hour_days "
            "FROM demand_coverageweek WHERE required_headcount <> 0 OR required_hour_days <> 0 "
            "OR assigned_headcount <> 0 OR assigned_hour_days <> 0"
        )
        return set(cursor.fetchall())


def _from_scratch() -> set[tuple]:
    horizon = RollupHorizon.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(rollups.from_scratch_sql(), [horizon.first_week, horizon.last_week])
        return {row for row in cursor.fetchall() if any(row[2:])}


def _random_day(rng) -> datetime.date:
    return D(2026, 1, 1) + datetime.timedelta(days=rng.randrange(200))


def test_the_rollup_equals_a_from_scratch_recomputation_after_random_changes(tree, make_employee):
    rng = random.Random(6)
    positions = [PositionFactory(org_unit=tree.dept) for _ in range(3)]
    people = [make_employee(tree.dept) for _ in range(4)]
    states = ["proposed", "approved", "active", "completed", "cancelled", "rejected"]
    for step in range(60):
        action = rng.choice(["req", "req", "asg", "asg", "pair", "state", "dates", "delete_req", "bulk_state"])
        if action == "req":
            start = _random_day(rng)
            CoverageRequirement.objects.create(
                position=rng.choice(positions),
                valid_from=start,
                valid_to=rng.choice([None, start + datetime.timedelta(days=rng.randrange(40))]),
                required_headcount=rng.randrange(4),
                required_weekly_hours=Decimal(rng.choice(["0", "20", "37.5", "12.34"])),
            )
        elif action in ("asg", "pair"):
            # "pair": one statement inserts two covering assignments of one person to one position in one week —
            # a completed one and its successor — which must count as one head that week.
            start = _random_day(rng)
            person, position = rng.choice(people), rng.choice(positions)
            end = rng.choice([None, start + datetime.timedelta(days=rng.randrange(1, 50))])
            state = rng.choice(["completed", "cancelled", "rejected"])
            if action == "pair":
                end, state = start + datetime.timedelta(days=1), "completed"
            rows = [
                Assignment(
                    employee=person,
                    position=position,
                    start_date=start,
                    end_date=end,
                    weekly_hours=Decimal(rng.choice(["8", "20", "33.33"])),
                    state=state,
                )
            ]
            if action == "pair":
                rows.append(
                    Assignment(
                        employee=person,
                        position=position,
                        start_date=start + datetime.timedelta(days=2),
                        end_date=start + datetime.timedelta(days=rng.randrange(3, 30)),
                        weekly_hours=Decimal("10"),
                        state="completed",
                    )
                )
            Assignment.objects.bulk_create(rows)
        elif action == "state" and Assignment.objects.exists():
            # Closed states only: the database allows one open assignment per person and position at a time.
            chosen = rng.choice(list(Assignment.objects.values_list("pk", flat=True)))
            Assignment.objects.filter(pk=chosen).update(state=rng.choice(["completed", "cancelled", "rejected"]))
        elif action == "dates" and Assignment.objects.exists():
            chosen = rng.choice(list(Assignment.objects.all()))
            Assignment.objects.filter(pk=chosen.pk).update(
                end_date=chosen.start_date + datetime.timedelta(days=rng.randrange(0, 20)),
                weekly_hours=Decimal(rng.choice(["5", "40"])),
            )
        elif action == "delete_req" and CoverageRequirement.objects.exists():
            CoverageRequirement.objects.filter(
                pk=rng.choice(list(CoverageRequirement.objects.values_list("pk", flat=True)))
            ).delete()
        elif action == "bulk_state":
            # One multi-row UPDATE moving several rows (of one person and position, possibly) at once.
            Assignment.objects.filter(employee=rng.choice(people)).update(state=rng.choice(states[3:]))
        if step % 6 == 5:
            assert _held() == _from_scratch(), f"after step {step} ({action})"
    # Two covering rows of one person, position and week leave in one statement: that week loses one head, not two.
    pair = [
        Assignment(
            employee=people[0],
            position=positions[0],
            start_date=D(2026, 9, 7),
            end_date=D(2026, 9, 8),
            weekly_hours=Decimal(8),
            state="completed",
        ),
        Assignment(
            employee=people[0],
            position=positions[0],
            start_date=D(2026, 9, 10),
            end_date=D(2026, 9, 11),
            weekly_hours=Decimal(8),
            state="completed",
        ),
    ]
    Assignment.objects.bulk_create(pair)
    assert _held() == _from_scratch()
    Assignment.objects.filter(start_date__in=[D(2026, 9, 7), D(2026, 9, 10)], employee=people[0]).update(
        state="cancelled"
    )
    assert _held() == _from_scratch()
    # Open assignments too (one per person and position), then the final check.
    for person, position in zip(people, positions, strict=False):
        Assignment.objects.filter(employee=person, position=position).update(state="cancelled")
        Assignment.objects.create(
            employee=person, position=position, start_date=D(2026, 3, 4), weekly_hours=Decimal(15), state="approved"
        )
    assert _held() == _from_scratch()
    assert _held(), "the random changes left something to hold"
    _assert_the_rebuild_equals_the_per_week_sql()


def _assert_the_rebuild_equals_the_per_week_sql() -> None:
    """The rebuild computes in running sums (``coverage_rebuild_sql``, ``supply_rebuild_sql``); what it writes equals
    the week-by-week SQL and what the triggers held, row for row."""
    held, supply_held = _held(), _supply_held()
    horizon = RollupHorizon.objects.get()
    rollups.rollup_rebuild(first_week=horizon.first_week, last_week=horizon.last_week)
    assert _held() == _from_scratch() == held
    assert _supply_held() == _supply_from_scratch() == supply_held


def test_reports_read_the_rollup_and_agree_with_the_live_sql(scenario, monkeypatch):
    period = Period(D(2026, 3, 1), D(2026, 3, 31))
    positions = [scenario.p, scenario.q, scenario.r, scenario.s]
    from apps.api.models import Position

    rolled_rows = coverage_by_position_week(positions=positions, period=period)
    rolled_totals = coverage_totals(positions=Position.objects.all(), period=period)
    monkeypatch.setattr(coverage, "_from_rollup", lambda *args: None)
    assert coverage_by_position_week(positions=positions, period=period) == rolled_rows
    assert coverage_totals(positions=Position.objects.all(), period=period) == rolled_totals
    monkeypatch.undo()
    # The reports do read the rollup: an hour-day added there (7 hour-days = 1 hour) shows.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE demand_coverageweek SET assigned_hour_days = assigned_hour_days + 7 WHERE position_id = %s "
            "AND week = %s",
            [scenario.p.pk, D(2026, 3, 2)],
        )
    assert coverage_totals(positions=Position.objects.all(), period=period)["assigned_hours"] == (
        rolled_totals["assigned_hours"] + 1
    )
    # Outside the horizon the live SQL answers (and still agrees with itself).
    RollupHorizon.objects.update(first_week=D(2026, 3, 9))
    assert coverage_totals(positions=Position.objects.all(), period=period) == rolled_totals


def test_rollups_rebuild_restores_the_rollup_and_moves_the_horizon(scenario):
    expected = _held()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE demand_coverageweek SET assigned_headcount = assigned_headcount + 5")
    assert _held() != expected
    call_command("rollups_rebuild", "--from", "2026-01-01", "--to", "2026-12-31", verbosity=0)
    horizon = RollupHorizon.objects.get()
    assert (horizon.first_week, horizon.last_week) == (D(2025, 12, 29), D(2026, 12, 28))
    assert _held() == _from_scratch()
    assert {row[1] for row in _held()} <= {D(2025, 12, 29) + datetime.timedelta(weeks=i) for i in range(53)}


def _supply_held() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT org_unit_id, week, contracted, leave_h, assigned, worked FROM demand_supplyweek "
            "WHERE contracted <> 0 OR leave_h <> 0 OR assigned <> 0 OR worked <> 0"
        )
        return {(u, w, *(round(x, 10) for x in rest)) for u, w, *rest in cursor.fetchall()}


def _supply_from_scratch() -> set[tuple]:
    horizon = RollupHorizon.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(rollups.supply_from_scratch_sql(), [horizon.first_week, horizon.last_week])
        return {(u, w, *(round(x, 10) for x in rest)) for u, w, *rest in cursor.fetchall() if any(rest)}


def _post(rng, employee) -> None:
    from apps.offer.models import LedgerEntry

    start = _random_day(rng)
    kind = rng.choice(["contracted", "leave", "assigned", "worked", "adjustment"])
    basis = "total" if kind == "worked" else rng.choice(["weekly_rate", "total"])
    end = start + datetime.timedelta(days=rng.randrange(0, 30))
    if basis == "weekly_rate" and rng.random() < 0.5:
        end = None
    LedgerEntry.objects.create(
        employee=employee,
        kind=kind,
        adjusts=rng.choice(["contracted", "worked", "leave", "assigned"]) if kind == "adjustment" else "",
        basis=basis,
        hours=Decimal(rng.choice(["40", "12.5", "-6", "7.77", "130"])),
        period_start=start,
        period_end=end,
        source="manual" if kind == "adjustment" else "employee",
        reason="test" if kind == "adjustment" else "",
    )


def test_the_supply_rollup_follows_postings_and_moves_and_kpis_agree_with_the_live_sql(tree, make_employee):
    from apps.api.models import Employee, OrgUnit, Position
    from apps.demand.supply import supply_totals, supply_totals_rolled

    rng = random.Random(11)
    units = [tree.dept, tree.team, tree.other]
    people = [make_employee(rng.choice(units), contract=rng.choice([0, 20, 40])) for _ in range(8)]
    contract_only = make_employee(tree.team, contract=30)  # never on the ledger: the contract source
    Assignment.objects.create(
        employee=contract_only,
        position=PositionFactory(org_unit=tree.team),
        start_date=D(2026, 2, 4),
        weekly_hours=Decimal(12),
        state="approved",
    )
    for step in range(50):
        if rng.random() < 0.8:
            _post(rng, rng.choice(people))
        else:
            Employee.objects.filter(pk=rng.choice(people).pk).update(org_unit=rng.choice(units))
        if step % 10 == 9:
            assert _supply_held() == _supply_from_scratch(), f"after step {step}"
    assert _supply_held(), "the postings left something to hold"
    _assert_the_rebuild_equals_the_per_week_sql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT employee_id FROM demand_ledgerlessemployee")
        ledgerless = {row[0] for row in cursor.fetchall()}
    assert ledgerless == set(Employee.objects.filter(ledger_entries__isnull=True).values_list("pk", flat=True))
    assert contract_only.pk in ledgerless
    # Contracted hours below zero (an adjustment larger than the contract) count as overtime without any clocking.
    from apps.offer.models import LedgerEntry

    LedgerEntry.objects.create(
        employee=make_employee(tree.dept, contract=0),
        kind="adjustment",
        adjusts="contracted",
        hours=Decimal(-100),
        period_start=D(2026, 2, 2),
        period_end=D(2026, 2, 15),
        source="manual",
        reason="test",
    )

    checked = 0
    for start, end in [
        (D(2026, 1, 5), D(2026, 3, 29)),
        (D(2026, 2, 2), D(2026, 2, 8)),
        (D(2026, 1, 5), D(2026, 7, 26)),
    ]:
        for unit in (None, tree.dept, tree.other):
            employees, scope = Employee.objects.all(), OrgUnit.objects.all()
            if unit is not None:
                employees = employees.filter(org_unit__path__startswith=unit.path)
                scope = scope.filter(path__startswith=unit.path)
            rolled = supply_totals_rolled(units=scope, start=start, end=end)
            live = supply_totals(employees=employees, start=start, end=end)
            assert rolled is not None
            assert [round(x, 8) for x in rolled] == [round(x, 8) for x in live], (start, end, unit)
            checked += any(rolled)
    assert checked
    assert Position.objects.exists()


def test_kpis_come_from_the_rollups(scenario, auth_client, monkeypatch):
    """The endpoint reads the supply rollup (an hour added there shows) and equals the live computation."""
    from apps.demand import supply

    client, _ = auth_client("hr")
    url = "/api/kpis/?from=2026-03-02&to=2026-03-22"
    rolled = client.get(url).json()
    monkeypatch.setattr(supply, "supply_totals_rolled", lambda **kwargs: None)
    monkeypatch.setattr(coverage, "_from_rollup", lambda *args: None)
    from apps.demand import kpis

    monkeypatch.setattr(kpis, "supply_totals_rolled", lambda **kwargs: None)
    assert client.get(url).json() == rolled
    monkeypatch.undo()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO demand_supplyweek (org_unit_id, week, contracted, leave_h, assigned, worked) "
            "VALUES (%s, %s, 0, 1, 0, 0) ON CONFLICT (org_unit_id, week) DO UPDATE SET leave_h = "
            "demand_supplyweek.leave_h + 1",
            [scenario.p.org_unit_id, D(2026, 3, 9)],
        )
    assert Decimal(client.get(url).json()["leave_hours"]) == Decimal(rolled["leave_hours"]) + 1


# Moments around week boundaries (Sunday 10:00Z to Monday 14:00Z): local weeks differ from UTC's in most zones.
BOUNDARY = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("organisation", "overrides"),
    [("UTC", {}), ("America/Los_Angeles", {}), ("UTC", {"dept": AKL, "other": LAX})],
    ids=["utc", "non-utc-organisation", "unit-overrides"],
)
def test_transition_counts_follow_logs_moves_and_zones_in_local_weeks_and_kpis_agree_with_the_live_counts(
    organisation, overrides, tree, make_employee, make_user, settings
):
    settings.COVERIS_TIME_ZONE = organisation
    for name, zone in overrides.items():
        OrgUnit.objects.filter(pk=getattr(tree, name).pk).update(time_zone=zone)
    first, last = rollups.default_horizon(D(2026, 11, 30))
    rollups.rollup_rebuild(first_week=first, last_week=last)
    rng = random.Random(5)
    hr = make_user("hr")
    units = [tree.dept, tree.team, tree.other, tree.elsewhere]
    positions = [PositionFactory(org_unit=rng.choice(units)) for _ in range(3)]
    people = [make_employee(rng.choice(units), state="pending") for _ in range(4)]
    proposals = [AssignmentFactory(employee=p, position=positions[i % 3]) for i, p in enumerate(people)]
    for i, person in enumerate(people):
        with time_machine.travel(BOUNDARY + datetime.timedelta(hours=7 * i), tick=False):
            employee_transition(employee_id=person.pk, name="activate", actor=hr)
    for step in range(24):
        action = rng.choice(["leave", "approve", "move_employee", "move_position", "reassign", "rezone"])
        moment = BOUNDARY + datetime.timedelta(minutes=rng.randrange(28 * 60))
        with time_machine.travel(moment, tick=False):
            if action == "leave":
                person = Employee.objects.get(pk=rng.choice(people).pk)
                name = "start_leave" if person.state == "active" else "return_from_leave"
                employee_transition(employee_id=person.pk, name=name, actor=hr)
            elif action == "approve" and proposals:
                assignment_transition(assignment_id=proposals.pop().pk, name="approve", actor=hr)
            elif action == "move_employee":
                Employee.objects.filter(pk=rng.choice(people).pk).update(org_unit=rng.choice(units))
            elif action == "move_position":
                Position.objects.filter(pk=rng.choice(positions).pk).update(org_unit=rng.choice(units))
            elif action == "reassign":
                Assignment.objects.filter(pk=rng.choice(sorted(a.pk for a in Assignment.objects.all()))).update(
                    position=PositionFactory(org_unit=rng.choice(units))
                )
            elif action == "rezone":
                OrgUnit.objects.filter(pk=rng.choice(units).pk).update(
                    time_zone=rng.choice(["", AKL, LAX, "Europe/Paris"])
                )
        if step % 4 == 3:
            assert transitions_held() == transitions_from_scratch(), f"after step {step} ({action})"
    held = transitions_held()
    assert len({week for _kind, _unit, week, _name, _n in held}) >= 2  # the moments really span two local weeks

    employees, positions_qs = Employee.objects.all(), Position.objects.all()
    for week in (D(2026, 11, 23), D(2026, 11, 30)):
        for unit in (None, tree.dept, tree.other):
            period = Period(week, week + datetime.timedelta(days=6))
            rolled = kpis.kpi_summary(
                positions=positions_qs, employees=employees, period=period, org_unit=unit, units=OrgUnit.objects.all()
            )["transitions"]
            live = kpis.kpi_summary(positions=positions_qs, employees=employees, period=period, org_unit=unit)[
                "transitions"
            ]
            assert rolled == live, (week, unit)
