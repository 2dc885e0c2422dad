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
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import ISO_8601, api_settings

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


# Field types whose ``to_representation`` reads only the field's own settings (never the request, the context or the
# parent serializer), so one field object built per serializer class may render every row of every request.
_CONTEXT_FREE_REPRESENTATIONS = {
    cls.to_representation
    for cls in (
        drf_fields.BigIntegerField,
        drf_fields.BooleanField,
        drf_fields.ChoiceField,
        drf_fields.DateField,
        drf_fields.DateTimeField,
        drf_fields.DecimalField,
        drf_fields.FloatField,
        drf_fields.JSONField,
        drf_fields.ReadOnlyField,
        drf_fields.UUIDField,
    )
}
_PLAIN_GETTERS = {drf_fields.Field.get_attribute, relations.RelatedField.get_attribute}


def _itself(instance):
    return instance


def _model_attname(serializer, source: str) -> str | None:
    """The model attribute a single-name source reads (``employee`` → ``employee_id``), or None."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None:
        return None
    try:
        return model._meta.get_field(source).attname
    except (FieldDoesNotExist, AttributeError):  # a property, or a reverse relation (no column)
        return None


def _iso_datetimes(field, zone):
    """DRF's ISO 8601 rendering of an aware datetime in ``zone`` (the current time zone, looked up once per serializer
    rather than per value); anything else (naive, text) through the field itself."""

    def render(value):
        if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return field.to_representation(value)

    return render


def _iso_dates(field):
    """DRF's ISO 8601 rendering of a date (``isoformat``); anything else through the field itself."""

    def render(value):
        return value.isoformat() if type(value) is datetime.date else field.to_representation(value)

    return render


def _binds_datetime(field):
    """For a DateTimeField rendered the default way (ISO 8601, the current time zone), a renderer per serializer."""
    if (
        type(field).to_representation is not drf_fields.DateTimeField.to_representation
        or type(field).enforce_timezone is not drf_fields.DateTimeField.enforce_timezone
        or hasattr(field, "timezone")
        or not settings.USE_TZ
        or str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() != ISO_8601
    ):
        return None
    return lambda serializer: _iso_datetimes(field, timezone.get_current_timezone())


def _compile_field(serializer, field) -> tuple:
    """(name, getter, renderer, binder) for one readable field, equal to DRF's own path for it; a binder makes the
    renderer per serializer instance (a method field's method, a datetime's current zone).

    Raises TypeError for a field whose output could depend on the request (nested serializers, hyperlinks, fields
    with their own ``get_attribute``): such a serializer must not use ``CompiledRepresentationMixin``.
    """
    kind, name = type(field), field.field_name
    if kind.get_attribute not in _PLAIN_GETTERS:
        raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__} has its own get_attribute")
    if isinstance(field, serializers.SerializerMethodField):
        if kind.to_representation is not serializers.SerializerMethodField.to_representation:
            raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__} renders on its own")
        return name, _itself, None, lambda serializer: getattr(serializer, field.method_name)
    single = len(field.source_attrs) == 1
    attname = _model_attname(serializer, field.source) if single else None
    if isinstance(field, relations.PrimaryKeyRelatedField):
        # DRF reads the column (PKOnlyObject(pk=instance.<fk>_id)) and renders that id as it is.
        if kind.to_representation is not relations.PrimaryKeyRelatedField.to_representation or field.pk_field:
            raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__} renders on its own")
        if attname is None:
            raise TypeError(f"{type(serializer).__name__}.{name}: a related id needs a model field as its source")
        return name, attrgetter(attname), _itself, None
    if isinstance(field, relations.RelatedField | serializers.BaseSerializer | relations.ManyRelatedField):
        raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__} is not supported")
    # A column read straight off the row; anything else (dotted sources, properties) through DRF's own getter,
    # which keeps its handling of missing relations, defaults and SkipField.
    getter = attrgetter(attname) if attname == field.source else field.get_attribute
    if kind.to_representation is drf_fields.IntegerField.to_representation or (
        kind.to_representation is drf_fields.BigIntegerField.to_representation
        and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    ):
        return name, getter, int, None
    if kind.to_representation is drf_fields.CharField.to_representation:
        return name, getter, str, None
    if kind.to_representation is drf_fields.DateField.to_representation and (
        str(getattr(field, "format", api_settings.DATE_FORMAT)).lower() == ISO_8601
    ):
        return name, getter, _iso_dates(field), None
    if kind.to_representation in _CONTEXT_FREE_REPRESENTATIONS:
        return name, getter, field.to_representation, _binds_datetime(field)
    raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__}.to_representation is not known to be plain")


class CompiledRepresentationMixin:
    """Output rendered from fields compiled once per serializer class, not built again for every request.

    DRF builds a serializer's fields on every request (``ModelSerializer.get_fields``: deep copies, model
    introspection) and renders each row through per-field machinery; on a page of 25 rows that is about a quarter of
    a list request (issue 8). For a serializer whose *readable* fields are the same whatever the request — plain
    columns, related ids, dotted sources, ``SerializerMethodField`` — this mixin compiles them once (a getter and a
    renderer per field, the same calls DRF makes) and renders every row in one loop. The output is DRF's, key for
    key (``apps/api/tests/test_compiled_representation.py`` checks every list serializer against DRF's own
    ``to_representation``). Writes are untouched. A field type that could depend on the request is refused
    (TypeError at first use), so opting in a serializer that does not fit fails loudly, not subtly.
    """

    @classmethod
    def _representation_plan(cls) -> tuple:
        plan = cls.__dict__.get("_compiled_representation")  # per class: a subclass compiles its own
        if plan is None:
            template = cls(context={})
            plan = tuple(_compile_field(template, field) for field in template._readable_fields)
            cls._compiled_representation = plan
        return plan

    def to_representation(self, instance):
        bound = self.__dict__.get("_bound_representation")
        if bound is None:  # SerializerMethodFields call this serializer's own method, as DRF does
            bound = self._bound_representation = [
                (name, getter, binder(self) if binder else render)
                for name, getter, render, binder in self._representation_plan()
            ]
        row = {}
        for name, getter, render in bound:
            try:
                value = getter(instance)
            except SkipField:
                continue
            row[name] = None if value is None else render(value)
        return row
