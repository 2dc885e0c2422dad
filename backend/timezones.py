"""The organisation's day: which calendar date a moment falls on, and what "today" is (docs/time-zones.md).

``COVERIS_TIME_ZONE`` (an IANA name, default UTC) is the organisation's zone; an org unit may override it for its
subtree (``apps.api.timezones`` resolves a unit's or an employee's zone and calls these functions). Every date the
domain computes from a moment — today, the clock-in day, a default effective date — goes through here, so the
date boundary is the zone's midnight, not UTC's. Datetimes themselves stay in UTC (the API answers them with
their offset; Django's ``TIME_ZONE`` stays UTC).
"""

import datetime
import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def zone(name: str | None = None) -> zoneinfo.ZoneInfo:
    """The zone called ``name``, or the organisation's (``COVERIS_TIME_ZONE``) when ``name`` is empty."""
    return _zone(name or settings.COVERIS_TIME_ZONE)


def local_date(moment: datetime.datetime, tz: zoneinfo.ZoneInfo | str | None = None) -> datetime.date:
    """The calendar date ``moment`` (aware) falls on in ``tz`` (default: the organisation's zone)."""
    if not isinstance(tz, datetime.tzinfo):
        tz = zone(tz)
    return moment.astimezone(tz).date()


def today(tz: zoneinfo.ZoneInfo | str | None = None) -> datetime.date:
    """Today's date in ``tz`` (default: the organisation's zone). Use this, not ``timezone.localdate()``."""
    return local_date(timezone.now(), tz)


def day_start(day: datetime.date, tz: zoneinfo.ZoneInfo | str | None = None) -> datetime.datetime:
    """The moment (UTC) ``day`` begins in ``tz``: the bound to query datetimes of one local day with."""
    if not isinstance(tz, datetime.tzinfo):
        tz = zone(tz)
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz).astimezone(datetime.UTC)


def validate_time_zone(value: str) -> None:
    """A model/serializer validator: ``value`` is an IANA time zone name this server knows."""
    if not value:
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone name (such as Europe/Paris).") from exc
