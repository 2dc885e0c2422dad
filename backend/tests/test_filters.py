"""The shared filter fields refuse bad values (400) instead of ignoring them or crashing."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from backend.filters import StrictBooleanField, UTCDateTimeField

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("2026-11-26", False, datetime.datetime(2026, 11, 26, tzinfo=UTC)),
        ("2026-11-26", True, datetime.datetime(2026, 11, 26, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-11-26T10:00:00+02:00", True, datetime.datetime(2026, 11, 26, 8, tzinfo=UTC)),
        ("2026-11-26T10:00:00", False, datetime.datetime(2026, 11, 26, 10, tzinfo=UTC)),  # naive is UTC
    ],
)
def test_utc_datetime_field_reads_instants_and_whole_days(text, end_of_day, expected):
    assert UTCDateTimeField(end_of_day=end_of_day).to_python(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "soon", "9999-12-31T23:59:59-14:00"])
def test_utc_datetime_field_refuses_impossible_values(text):
    with pytest.raises(ValidationError):
        UTCDateTimeField().to_python(text)


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("0", False), ("YES", True), ("", None)])
def test_strict_boolean_field(text, expected):
    assert StrictBooleanField().to_python(text) is expected


def test_strict_boolean_field_refuses_anything_else():
    with pytest.raises(ValidationError):
        StrictBooleanField().to_python("maybe")
