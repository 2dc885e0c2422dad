"""Auto-plans judge rules on today where each employee works (their unit's zone), not on the organisation's today:
a plan may span units in several zones. Time is frozen at 00:30 on Monday 30 November 2026 in Auckland (11:30Z on
Sunday 29th): Auckland's today is the 30th, Los Angeles' and the organisation's (UTC) the 29th."""

import datetime
import zoneinfo

import pytest
import time_machine

from apps.api.models import Employee, OrgUnit, Position
from apps.api.tests.factories import PositionFactory
from apps.api.timezones import todays_by_unit
from apps.business_rules.facts import Facts
from apps.demand.periods import Period
from apps.demand.planning import problem as problem_module
from apps.demand.planning import verify as verify_module
from apps.demand.tests.factories import CoverageRequirementFactory

NOW = datetime.datetime(2026, 11, 30, 0, 30, tzinfo=zoneinfo.ZoneInfo("Pacific/Auckland"))
AKL_TODAY, LAX_TODAY = datetime.date(2026, 11, 30), datetime.date(2026, 11, 29)
PERIOD = Period(datetime.date(2027, 1, 4), datetime.date(2027, 1, 31))


@pytest.fixture
def zoned(tree, make_employee):
    """DEPT (and TEAM under it) in Auckland, OTHER in Los Angeles; one person in each, one open position."""
    OrgUnit.objects.filter(pk=tree.dept.pk).update(time_zone="Pacific/Auckland")
    OrgUnit.objects.filter(pk=tree.other.pk).update(time_zone="America/Los_Angeles")
    position = PositionFactory(org_unit=tree.other)
    CoverageRequirementFactory(position=position, valid_from=PERIOD.start, required_weekly_hours=40)
    return {"kiwi": make_employee(tree.team), "angeleno": make_employee(tree.other), "position": position}


@pytest.fixture
def judged_on(monkeypatch):
    """``(event, employee id) → effective_date`` of every fact set the planner's rules judge."""
    seen: dict[tuple[str, int], datetime.date] = {}

    class Spy(Facts):
        @classmethod
        def preloaded(cls, event, **fields):
            seen[(event, fields["employee"].pk)] = fields["effective_date"]
            return Facts.preloaded(event, **fields)

    monkeypatch.setattr(problem_module, "Facts", Spy)
    monkeypatch.setattr(verify_module, "Facts", Spy)
    return seen


def test_todays_by_unit_answers_each_units_own_today(tree, settings):
    OrgUnit.objects.filter(pk=tree.dept.pk).update(time_zone="Pacific/Auckland")
    with time_machine.travel(NOW, tick=False):
        today = todays_by_unit([tree.team.pk, tree.other.pk])
        assert (today(tree.team.pk), today(tree.other.pk), today(None)) == (AKL_TODAY, LAX_TODAY, LAX_TODAY)
        settings.COVERIS_TIME_ZONE = "Pacific/Auckland"
        assert todays_by_unit([tree.other.pk])(tree.other.pk) == AKL_TODAY  # inherited from the organisation


def test_the_planner_judges_each_candidate_on_their_own_today(zoned, judged_on):
    kiwi, angeleno = zoned["kiwi"], zoned["angeleno"]
    with time_machine.travel(NOW, tick=False):
        problem_module.problem_build(period=PERIOD, positions=Position.objects.all(), pool=Employee.objects.all())
    assert judged_on[("assignment.approve", kiwi.pk)] == AKL_TODAY
    assert judged_on[("assignment.approve", angeleno.pk)] == LAX_TODAY
    assert judged_on[("assignment.create", kiwi.pk)] == PERIOD.start  # a creation is judged on its start


def test_verifying_a_plan_judges_each_proposal_on_its_employees_today(zoned, judged_on):
    kiwi, angeleno, position = zoned["kiwi"], zoned["angeleno"], zoned["position"]
    proposals = [{"employee": e.pk, "position": position.pk, "weekly_hours": 10} for e in (kiwi, angeleno)]
    with time_machine.travel(NOW, tick=False):
        verify_module.plan_verify(proposals=proposals, start=PERIOD.start, end=PERIOD.end, reason="test")
    assert judged_on[("assignment.approve", kiwi.pk)] == AKL_TODAY
    assert judged_on[("assignment.approve", angeleno.pk)] == LAX_TODAY
    day = datetime.date(2026, 12, 24)  # a day given is everyone's
    verify_module.plan_verify(proposals=proposals, start=PERIOD.start, end=PERIOD.end, reason="test", today=day)
    assert {judged_on[("assignment.approve", e.pk)] for e in (kiwi, angeleno)} == {day}


def test_applying_a_plan_in_the_admin_offers_the_employees_today_or_a_blank_date_across_zones(zoned, tree):
    from apps.demand.admin import _proposal_todays
    from apps.fsm.admin import default_effective_date

    kiwi, angeleno = zoned["kiwi"], zoned["angeleno"]
    with time_machine.travel(NOW, tick=False):
        assert _proposal_todays([{"employee": kiwi.pk}, {"employee": angeleno.pk}]) == [AKL_TODAY, LAX_TODAY]
        date, note = default_effective_date(_proposal_todays([{"employee": kiwi.pk}, {"employee": angeleno.pk}]))
        assert date == ""
        assert f"{LAX_TODAY.isoformat()} for 1, {AKL_TODAY.isoformat()} for 1" in note
        assert default_effective_date(_proposal_todays([{"employee": kiwi.pk}])) == (AKL_TODAY.isoformat(), None)
