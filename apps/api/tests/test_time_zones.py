"""The organisation's day (docs/time-zones.md): COVERIS_TIME_ZONE, an org unit's time_zone inherited by its subtree,
and the dates computed from "now" — the clock-in day, default effective dates — in the employee's zone.

Time is frozen at 23:30 and 00:30 local time in Pacific/Auckland and America/Los_Angeles: in each pair one moment
falls on a different UTC date than its local one, so a UTC "today" fails at least one case.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory
from apps.api.timezones import employee_today, org_unit_zone, org_unit_zones
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from apps.offer.models import ClockEvent
from apps.tags.services import employee_tag_add
from apps.tags.tests.factories import TagCatalogFactory
from backend import timezones

pytestmark = pytest.mark.django_db

AKL, LAX = "Pacific/Auckland", "America/Los_Angeles"
# (zone, local wall-clock moment, the local date): 23:30 the evening before and 00:30 the morning of 2026-12-01.
MOMENTS = [
    (AKL, datetime.datetime(2026, 11, 30, 23, 30), datetime.date(2026, 11, 30)),  # 10:30Z on the 30th
    (AKL, datetime.datetime(2026, 12, 1, 0, 30), datetime.date(2026, 12, 1)),  # 11:30Z on the 30th
    (LAX, datetime.datetime(2026, 11, 30, 23, 30), datetime.date(2026, 11, 30)),  # 07:30Z on the 1st
    (LAX, datetime.datetime(2026, 12, 1, 0, 30), datetime.date(2026, 12, 1)),  # 08:30Z on the 1st
]
IDS = ["auckland-23:30", "auckland-00:30", "los-angeles-23:30", "los-angeles-00:30"]


@pytest.fixture
def hr_client(make_user) -> APIClient:
    """HR, signed in without a token (a token's expiry would not survive travelling in time)."""
    client = APIClient()
    client.force_authenticate(make_user("hr"))
    return client


def utc(zone: str, wall: datetime.datetime) -> datetime.datetime:
    return wall.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(datetime.UTC)


def test_the_utc_dates_really_differ_in_one_case_of_each_pair():
    differing = {zone for zone, wall, local in MOMENTS if utc(zone, wall).date() != local}
    assert differing == {AKL, LAX}


def test_org_default_is_utc_and_units_inherit_the_nearest_zone(settings):
    assert settings.COVERIS_TIME_ZONE == "UTC"
    root = OrgUnitFactory()
    site = OrgUnitFactory(parent=root, time_zone=AKL)
    team = OrgUnitFactory(parent=site)
    other = OrgUnitFactory(parent=root, time_zone=LAX)
    deep = OrgUnitFactory(parent=OrgUnitFactory(parent=other))
    zones = org_unit_zones([root.pk, site.pk, team.pk, other.pk, deep.pk])
    assert {pk: z.key for pk, z in zones.items() if pk} == {
        root.pk: "UTC",
        site.pk: AKL,
        team.pk: AKL,
        other.pk: LAX,
        deep.pk: LAX,
    }
    settings.COVERIS_TIME_ZONE = "Europe/Paris"
    assert org_unit_zone(root.pk).key == "Europe/Paris"  # no unit sets one: the organisation's
    assert org_unit_zone(team.pk).key == AKL


def test_org_units_answer_their_own_and_effective_zone(auth_client):
    client, _ = auth_client("admin")
    site = OrgUnitFactory(time_zone=LAX)
    response = client.post("/api/org-units/", {"code": "T1", "name": "Team", "parent": site.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["time_zone"], body["effective_time_zone"]) == ("", LAX)
    listed = {row["code"]: row for row in client.get("/api/org-units/").json()["results"]}
    assert listed["T1"]["effective_time_zone"] == LAX
    assert listed[site.code]["effective_time_zone"] == LAX


def test_an_unknown_zone_is_a_400_and_nothing_is_written(auth_client):
    client, _ = auth_client("admin")
    body = {"code": "BAD", "name": "Bad", "time_zone": "Mars/Olympus"}
    response = client.post("/api/org-units/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["time_zone"]
    unit = OrgUnitFactory()
    patch = client.patch(f"/api/org-units/{unit.pk}/", {"time_zone": "Not/AZone"}, format="json")
    assert patch.status_code == 400
    unit.refresh_from_db()
    assert unit.time_zone == ""


@pytest.mark.parametrize(("zone", "wall", "local"), MOMENTS, ids=IDS)
def test_today_is_the_employees_local_date(zone, wall, local):
    employee = EmployeeFactory(org_unit=OrgUnitFactory(time_zone=zone))
    with time_machine.travel(utc(zone, wall), tick=False):
        assert employee_today(employee) == local
        assert timezones.today(zone) == local
        assert timezones.today() == utc(zone, wall).date()  # the organisation's zone: UTC by default


@pytest.mark.parametrize(("zone", "wall", "local"), MOMENTS, ids=IDS)
def test_clock_in_and_out_fall_on_the_local_day(zone, wall, local, hr_client):
    client = hr_client
    employee = EmployeeFactory(org_unit=OrgUnitFactory(time_zone=zone), state="active")
    with time_machine.travel(utc(zone, wall), tick=False):
        clocked_in = client.post("/api/clock/in/", {"employee": employee.pk}, format="json")
    assert clocked_in.status_code == 201, clocked_in.content
    event = ClockEvent.objects.get(employee=employee)
    assert event.day == local
    # Datetimes are still answered in UTC, with their offset.
    answered = datetime.datetime.fromisoformat(clocked_in.json()["clock_in_at"].replace("Z", "+00:00"))
    assert answered.utcoffset() == datetime.timedelta(0)
    assert answered == utc(zone, wall)
    with time_machine.travel(utc(zone, wall) + datetime.timedelta(hours=2), tick=False):
        clocked_out = client.post("/api/clock/out/", {"employee": employee.pk}, format="json")
    assert clocked_out.status_code == 200, clocked_out.content
    ledger = clocked_out.json()["ledger_entry"]
    assert ledger["period_start"] == local.isoformat()  # worked hours count on the clock-in day


@pytest.mark.parametrize(("zone", "wall", "local"), MOMENTS, ids=IDS)
def test_a_second_clock_in_the_same_local_day_is_refused(zone, wall, local, hr_client):
    client = hr_client
    employee = EmployeeFactory(org_unit=OrgUnitFactory(time_zone=zone), state="active")
    start = utc(zone, wall)
    with time_machine.travel(start, tick=False):
        assert client.post("/api/clock/in/", {"employee": employee.pk}, format="json").status_code == 201
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        assert client.post("/api/clock/out/", {"employee": employee.pk}, format="json").status_code == 200
    # Still the same local day twenty minutes later (23:30 → 23:50, 00:30 → 00:50): one clock-in per day.
    with time_machine.travel(start + datetime.timedelta(minutes=21), tick=False):
        again = client.post("/api/clock/in/", {"employee": employee.pk}, format="json")
    assert again.status_code == 422, again.content
    # An hour after 23:30 it is the next local day: allowed again.
    if wall.hour == 23:
        with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
            assert client.post("/api/clock/in/", {"employee": employee.pk}, format="json").status_code == 201


@pytest.mark.parametrize(("zone", "wall", "local"), MOMENTS, ids=IDS)
def test_default_effective_dates_are_local(zone, wall, local, make_user):
    hr = make_user("hr")
    employee = EmployeeFactory(
        org_unit=OrgUnitFactory(parent=OrgUnitFactory(time_zone=zone)), hire_date=datetime.date(2026, 1, 5)
    )
    tag = TagCatalogFactory()
    with time_machine.travel(utc(zone, wall), tick=False):
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
        employee_tag = employee_tag_add(employee=employee, tag=tag, actor=hr)
        employee_transition(employee_id=employee.pk, name="terminate", actor=hr, reason="Moving away")
    log = EmployeeTransitionLog.objects.filter(employee=employee).order_by("pk")
    assert [row.effective_date for row in log] == [local, local]
    employee.refresh_from_db()
    assert employee.termination_date == local
    assert employee_tag.valid_from == local


def test_no_code_takes_todays_date_from_utc():
    """Every "today" goes through backend.timezones (or apps.api.timezones): a new timezone.localdate() or
    date.today() would silently be UTC's day again."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for top in ("apps", "backend", "config")
        for path in (root / top).rglob("*.py")
        if not {"tests", "migrations", "benchmarks"} & set(path.parts) and path.name != "timezones.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "localdate(" in line or "date.today(" in line
    ]
    assert offenders == [], "use backend.timezones.today() / apps.api.timezones.employee_today() instead"
