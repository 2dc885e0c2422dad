"""Whose day is it: the time zone of an org unit (its own ``time_zone``, else the nearest ancestor's, else
``COVERIS_TIME_ZONE``) and so of the employees in it. The date arithmetic itself is ``backend.timezones``."""

import datetime
import zoneinfo
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith

from apps.api.models import OrgUnit
from backend import timezones


def effective_time_zone_expression():
    """An annotation for OrgUnit querysets: the zone that decides the unit's day, in the same query.

    The nearest unit on the path (itself or an ancestor) whose ``time_zone`` is set; the organisation's otherwise.
    """
    nearest = (
        OrgUnit.objects.exclude(time_zone="")
        .filter(StartsWith(OuterRef("path"), F("path")))
        .order_by("-depth")
        .values("time_zone")[:1]
    )
    return Coalesce(Subquery(nearest), Value(settings.COVERIS_TIME_ZONE))


def org_unit_zones(org_unit_ids: Iterable[int | None]) -> dict[int | None, zoneinfo.ZoneInfo]:
    """``{org unit id: its zone}`` for these units in one query (``None`` → the organisation's zone)."""
    ids = {pk for pk in org_unit_ids if pk is not None}
    names = dict(
        OrgUnit.objects.filter(pk__in=ids)
        .annotate(effective_time_zone=effective_time_zone_expression())
        .values_list("pk", "effective_time_zone")
    )
    zones: dict[int | None, zoneinfo.ZoneInfo] = {pk: timezones.zone(name) for pk, name in names.items()}
    zones[None] = timezones.zone()
    return zones


def todays_by_unit(org_unit_ids: Iterable[int | None]) -> Callable[[int | None], datetime.date]:
    """``today(unit_id)``: today in the zone of each of these units (one query for all); others → the organisation's.

    For work spanning units in several zones (a plan, a batch): each object's day is its own unit's.
    """
    zones = org_unit_zones(org_unit_ids)
    return lambda org_unit_id: timezones.today(zones.get(org_unit_id, zones[None]))


def org_unit_zone(org_unit_id: int | None) -> zoneinfo.ZoneInfo:
    """The zone whose day applies in this org unit (one query; none without a unit)."""
    if org_unit_id is None:
        return timezones.zone()
    return org_unit_zones([org_unit_id]).get(org_unit_id, timezones.zone())


def employee_zone(employee) -> zoneinfo.ZoneInfo:
    """The zone of the employee's day: their org unit's."""
    return org_unit_zone(getattr(employee, "org_unit_id", None))


def employee_today(employee) -> datetime.date:
    """Today in the employee's zone (their unit's, else the organisation's)."""
    return timezones.today(employee_zone(employee))
