"""Input bounds shared by every serializer: ids are whole numbers, dates are ``YYYY-MM-DD`` within 1900–2999, free
text has a documented maximum (docs/stack/api-conventions.md, "Bounds").

DRF's defaults are looser than an API of record should be: ``PrimaryKeyRelatedField`` hands ``481.9`` to the
ORM, which truncates it to 481; ``IntegerField`` takes ``481.0``; ``DateField`` parses with
``date.fromisoformat``, which on Python 3.11+ also takes ``20270101`` and ``2027-W01-1`` (while the filters take
neither) and any year up to 9999. ``ModelSerializer`` here maps model fields to the strict fields, so a serializer
gets them by inheriting from it; plain serializers name the fields directly.
"""

import datetime
import re

from django.db import models
from rest_framework import serializers

from backend.bounds import DATE_MAX, DATE_MIN, MAX_ID, TEXT_MAX_LENGTH

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_whole_number(data) -> bool:
    """A JSON integer or a string of ASCII digits; never a bool, a float (even ``481.0``) or ``"4e2"``."""
    if isinstance(data, bool):
        return False
    if isinstance(data, int):
        return True
    return isinstance(data, str) and data.isascii() and data.isdigit()


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object's id: a whole number (JSON integer or digit string), else 400 ``incorrect_type``."""

    def to_internal_value(self, data):
        if not _is_whole_number(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class IdField(serializers.IntegerField):
    """An id given as a number (query or body) that is not a relation: whole numbers 1 … 2⁶³−1 only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not _is_whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer that refuses ``2.0`` and ``"2.0"`` (DRF strips a trailing ``.0``) as well as ``2.5``."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip()
            if data[:1] == "-":
                if not _is_whole_number(data[1:]):
                    self.fail("invalid")
                return super().to_internal_value(data)
        if not _is_whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class BoundedDateField(serializers.DateField):
    """A ``YYYY-MM-DD`` date between 1900-01-01 and 2999-12-31 (no ISO basic or week forms, no year 9999)."""

    default_error_messages = {
        "invalid": "Enter a date as YYYY-MM-DD.",
        "out_of_range": f"Enter a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}.",
    }

    def to_internal_value(self, value):
        if isinstance(value, datetime.datetime):
            self.fail("datetime")
        if isinstance(value, datetime.date):
            day = value
        else:
            if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
                self.fail("invalid")
            day = super().to_internal_value(value.strip())
        if not DATE_MIN <= day <= DATE_MAX:
            self.fail("out_of_range")
        return day


class BoundedCharField(serializers.CharField):
    """Free text: at most ``TEXT_MAX_LENGTH`` characters unless the field says otherwise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", TEXT_MAX_LENGTH)
        super().__init__(**kwargs)


class ModelSerializer(serializers.ModelSerializer):
    """The project's ``ModelSerializer``: related ids, integers and dates use the strict fields above."""

    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: BoundedDateField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
    }
