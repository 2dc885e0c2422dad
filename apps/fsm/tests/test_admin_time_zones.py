"""The admin's transition page defaults to today where the selected objects are, not the organisation's today.

Time is frozen at 00:30 on Monday 30 November 2026 in Auckland (11:30Z on Sunday 29th): Auckland's today is the 30th,
Los Angeles' and the organisation's (UTC) the 29th.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.test import Client

from apps.api.tests.factories import OrgUnitFactory
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.tests.admin_flow import messages_of, open_preview, run_transition

pytestmark = pytest.mark.django_db
EMPLOYEES = "/admin/api/employee/"
NOW = datetime.datetime(2026, 11, 30, 0, 30, tzinfo=zoneinfo.ZoneInfo("Pacific/Auckland"))
AKL_TODAY, LAX_TODAY = datetime.date(2026, 11, 30), datetime.date(2026, 11, 29)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hr_client(hr, frozen):
    client = Client()
    client.force_login(hr)
    return client


@pytest.fixture
def sites(db):
    return OrgUnitFactory(time_zone="Pacific/Auckland"), OrgUnitFactory(time_zone="America/Los_Angeles")


def test_one_zone_selected_defaults_to_that_zones_today(hr_client, make_employee, sites, settings):
    assert settings.COVERIS_TIME_ZONE == "UTC"  # whose today is LAX_TODAY: the unit's zone must win
    auckland, _ = sites
    people = [make_employee("active", org_unit=OrgUnitFactory(parent=auckland)) for _ in range(2)]
    page = open_preview(hr_client, EMPLOYEES, "start_leave", [p.pk for p in people])
    assert page.context["form"]["effective_date"].value() == AKL_TODAY.isoformat()
    assert not [note for note in page.context["notes"] if "time zones" in note]


def test_a_selection_spanning_zones_leaves_the_date_blank_says_why_and_each_takes_its_own_today(
    hr_client, make_employee, sites
):
    auckland, los_angeles = sites
    kiwi, angeleno = make_employee("active", org_unit=auckland), make_employee("active", org_unit=los_angeles)
    page = open_preview(hr_client, EMPLOYEES, "start_leave", [kiwi.pk, angeleno.pk])
    assert page.context["form"]["effective_date"].value() == ""
    [note] = [note for note in page.context["notes"] if "time zones" in note]
    assert f"{LAX_TODAY.isoformat()} for 1, {AKL_TODAY.isoformat()} for 1" in note
    assert all(row.allowed for row in page.context["rows"])

    response = run_transition(hr_client, EMPLOYEES, "start_leave", [kiwi.pk, angeleno.pk], effective_date="")
    assert [level for level, _ in messages_of(response)] == ["success"]
    logged = dict(
        EmployeeTransitionLog.objects.filter(transition="start_leave").values_list("employee_id", "effective_date")
    )
    assert logged == {kiwi.pk: AKL_TODAY, angeleno.pk: LAX_TODAY}


def test_a_date_entered_applies_to_every_object_of_the_selection(hr_client, make_employee, sites):
    auckland, los_angeles = sites
    people = [make_employee("active", org_unit=auckland), make_employee("active", org_unit=los_angeles)]
    day = datetime.date(2026, 12, 7)
    response = run_transition(
        hr_client, EMPLOYEES, "start_leave", [p.pk for p in people], effective_date=day.isoformat()
    )
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert set(
        EmployeeTransitionLog.objects.filter(transition="start_leave").values_list("effective_date", flat=True)
    ) == {day}
