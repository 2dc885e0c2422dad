"""``backend.timestamptz``: timestamps loaded by psycopg's C loader answer exactly what Django's loader answers."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from apps.users.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SQL = "SELECT %s::timestamptz, %s::timestamptz, 'infinity'::timestamptz < %s::timestamptz"
VALUES = ["2026-11-30 12:34:56.789012+00", "1999-03-28 01:30:00+02", "2026-11-30 12:00:00+00"]


def _load(*, django_loader: bool) -> tuple:
    with connection.cursor() as cursor:
        if django_loader:  # Django's own BaseTzLoader, as without backend.timestamptz
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(SQL, VALUES)
        return cursor.fetchone()


def test_every_connection_gets_the_c_loader():
    from psycopg.pq import Format

    from backend.timestamptz import TIMESTAMPTZ_OID, FastTimestamptzLoader

    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT) is FastTimestamptzLoader


def test_timestamps_load_as_django_loads_them_in_utc():
    fast, django = _load(django_loader=False), _load(django_loader=True)

    assert fast == django
    assert fast[0] == datetime.datetime(2026, 11, 30, 12, 34, 56, 789012, tzinfo=datetime.UTC)
    assert fast[0].tzinfo is datetime.UTC is django[0].tzinfo  # the same object, not merely an equal offset


def test_a_connection_in_another_time_zone_still_gets_what_django_gives():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Europe/Paris'")  # reverted with the test's transaction
    fast, django = _load(django_loader=False), _load(django_loader=True)

    assert fast == django
    assert fast[0].tzinfo is datetime.UTC


def test_models_read_through_the_orm_carry_utc():
    user = User.objects.create_user("loader@coveris.test", "pw-loader-1", role="admin")

    assert User.objects.get(pk=user.pk).date_joined.tzinfo is datetime.UTC
