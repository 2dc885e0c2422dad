"""Transition counts in the KPIs, live and from the weekly rollup, fall in the local week of the employee's zone
(their org unit's ``time_zone``, inherited, else ``COVERIS_TIME_ZONE``; docs/time-zones.md), not in UTC's week.

Time is frozen at 23:30 on a Sunday and 00:30 on the Monday after, in Pacific/Auckland and America/Los_Angeles: in
each pair one moment falls in another UTC week than its local one, so UTC weeks fail at least one case.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection

from apps.api.models import Employee, OrgUnit, Position
from apps.api.tests.factories import PositionFactory
from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.demand import kpis, rollups
from apps.demand.periods import Period, monday
from apps.fsm.services import employee_transition

AKL, LAX = "Pacific/Auckland", "America/Los_Angeles"
D = datetime.date
# Sunday 29 November 2026 23:30 and Monday 30 November 00:30, local time: (zone, wall clock, local Monday).
SUNDAY, MONDAY = D(2026, 11, 23), D(2026, 11, 30)
MOMENTS = [
    (AKL, datetime.datetime(2026, 11, 29, 23, 30), SUNDAY),  # 10:30Z Sunday: the same UTC week
    (AKL, datetime.datetime(2026, 11, 30, 0, 30), MONDAY),  # 11:30Z Sunday: UTC's week is the one before
    (LAX, datetime.datetime(2026, 11, 29, 23, 30), SUNDAY),  # 07:30Z Monday: UTC's week is the one after
    (LAX, datetime.datetime(2026, 11, 30, 0, 30), MONDAY),  # 08:30Z Monday: the same UTC week
]
IDS = ["auckland-sun-23:30", "auckland-mon-00:30", "los-angeles-sun-23:30", "los-angeles-mon-00:30"]


def utc(zone: str, wall: datetime.datetime) -> datetime.datetime:
    return wall.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(datetime.UTC)


def _rebuild():
    first, last = rollups.default_horizon(D(2026, 11, 30))
    rollups.rollup_rebuild(first_week=first, last_week=last)


def _counts(week: datetime.date, *, rolled: bool) -> dict:
    period = Period(week, week + datetime.timedelta(days=6))
    units = OrgUnit.objects.all() if rolled else None
    return kpis.kpi_summary(
        positions=Position.objects.all(), employees=Employee.objects.all(), period=period, units=units
    )["transitions"]


def test_the_utc_weeks_really_differ_in_one_case_of_each_pair():
    differing = {zone for zone, wall, week in MOMENTS if monday(utc(zone, wall).date()) != week}
    assert differing == {AKL, LAX}


def _transition_at(zone, wall, unit, make_employee, make_user):
    """An employee of ``unit`` activated, and an assignment of theirs approved, at ``wall`` in ``zone``."""
    hr = make_user("hr")
    person = make_employee(unit, state="pending")
    assignment = AssignmentFactory(employee=person, position=PositionFactory(org_unit=unit))
    with time_machine.travel(utc(zone, wall), tick=False):
        employee_transition(employee_id=person.pk, name="activate", actor=hr)
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr)


@pytest.mark.parametrize(("zone", "wall", "week"), MOMENTS, ids=IDS)
@pytest.mark.parametrize("where", ["unit-zone", "organisation-zone"])
def test_live_kpis_count_a_transition_near_midnight_in_its_local_week(
    zone, wall, week, where, tree, make_employee, make_user, settings
):
    if where == "unit-zone":  # the unit's parent sets it: inherited
        OrgUnit.objects.filter(pk=tree.dept.pk).update(time_zone=zone)
    else:
        settings.COVERIS_TIME_ZONE = zone
    _transition_at(zone, wall, tree.team, make_employee, make_user)
    live = _counts(week, rolled=False)
    assert live["employee"] == {"activate": 1}
    assert live["assignment"] == {"approve": 1}
    for other in (week - datetime.timedelta(days=7), week + datetime.timedelta(days=7)):
        assert _counts(other, rolled=False)["total"] == 0


def _held_weeks() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, week FROM demand_transitionweek WHERE count <> 0")
        return set(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize(("zone", "wall", "week"), MOMENTS, ids=IDS)
@pytest.mark.parametrize("where", ["unit-zone", "organisation-zone"])
def test_the_rollup_holds_a_transition_near_midnight_in_its_local_week(
    zone, wall, week, where, tree, make_employee, make_user, settings
):
    if where == "unit-zone":
        OrgUnit.objects.filter(pk=tree.dept.pk).update(time_zone=zone)
    else:
        settings.COVERIS_TIME_ZONE = zone
    _rebuild()
    _transition_at(zone, wall, tree.team, make_employee, make_user)
    assert _held_weeks() == {("employee", week), ("assignment", week)}
    assert _counts(week, rolled=True) == _counts(week, rolled=False)
    assert _counts(week, rolled=True)["total"] == 2
    with connection.cursor() as cursor:  # the rolled answer really came from the rollup
        cursor.execute("UPDATE demand_transitionweek SET count = count + 1 WHERE kind = 'employee'")
    assert _counts(week, rolled=True)["total"] == 3


@pytest.mark.postgres
def test_a_unit_changing_zone_re_dates_its_counts_and_another_organisation_zone_reads_live(
    tree, make_employee, make_user, settings
):
    zone, wall, week = MOMENTS[1]  # Monday 00:30 in Auckland: Sunday in UTC
    _rebuild()
    _transition_at(zone, wall, tree.team, make_employee, make_user)
    utc_week = monday(utc(zone, wall).date())
    assert _held_weeks() == {("employee", utc_week), ("assignment", utc_week)}
    OrgUnit.objects.filter(pk=tree.dept.pk).update(time_zone=zone)  # the trigger counts the subtree again
    assert _held_weeks() == {("employee", week), ("assignment", week)}
    assert _counts(week, rolled=True)["total"] == 2
    settings.COVERIS_TIME_ZONE = LAX  # the rollup was built for UTC: the KPIs compute live until a rebuild
    with connection.cursor() as cursor:
        cursor.execute("UPDATE demand_transitionweek SET count = count + 5")
    assert _counts(week, rolled=True) == _counts(week, rolled=False)
    assert _counts(week, rolled=True)["total"] == 2
