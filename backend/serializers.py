"""Input bounds shared by every serializer: ids are whole numbers, dates are ``YYYY-MM-DD`` within 1900–2999, free
text has a documented maximum (docs/stack/api-conventions.md, "Bounds").

DRF's defaults are looser than an API of record should be: ``PrimaryKeyRelatedField`` hands ``481.9`` to the
ORM, which truncates it to 481; ``IntegerField`` takes ``481.0``; ``DateField`` parses with
``date.fromisoformat``, which on Python 3.11+ also takes ``20270101`` and ``2027-W01-1`` (while the filters take
neither) and any year up to 9999. ``ModelSerializer`` here maps model fields to the strict fields, so a serializer
gets them by inheriting from it; plain serializers name the fields directly.
"""

import datetime
import decimal
import inspect
import re
from operator import attrgetter, itemgetter
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.query import ModelIterable
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import ISO_8601, api_settings

from backend.bounds import DATE_MAX, DATE_MIN, MAX_ID, TEXT_MAX_LENGTH
from backend.rows import RowObject

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

    utc = zone is datetime.UTC or getattr(zone, "key", None) == "UTC"

    def render(value):
        if utc and type(value) is datetime.datetime and value.tzinfo is datetime.UTC:
            return value.isoformat()[:-6] + "Z"  # already in the zone (psycopg's loader answers UTC, ADR 0031)
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


def _fixed_decimals(field):
    """DRF's rendering of a DecimalField as a string (``quantize`` to its places, then ``f"{value:f}"``), or None for
    a field rendered otherwise (a number, localized, normalized, unbounded). A Decimal that already has exactly the
    field's places and no more digits than it allows is what ``quantize`` would give back, so it is formatted as it
    is (about 1 µs a value less); anything else goes through the field itself."""
    if (
        type(field).to_representation is not drf_fields.DecimalField.to_representation
        or type(field).quantize is not drf_fields.DecimalField.quantize
        or not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        or field.localize
        or field.normalize_output
        or field.decimal_places is None
        or field.max_digits is None
    ):
        return None
    exponent, digits = -field.decimal_places, field.max_digits

    def render(value):
        if type(value) is decimal.Decimal:
            _, coefficient, value_exponent = value.as_tuple()
            if value_exponent == exponent and len(coefficient) <= digits:
                return f"{value:f}"
        return field.to_representation(value)

    return render


def _plain_choices(field):
    """DRF's rendering of a ChoiceField (``choice_strings_to_values.get(str(value), value)``) when every choice is a
    string standing for itself (a ``TextChoices`` column): then a string renders as itself, found or not, and the
    lookup is skipped (about 0.3 µs a value; four columns of every ledger row, ADR 0046). None for a field rendered
    otherwise (choices that map a string to another value, such as integers); anything but a string goes through the
    field itself."""
    if type(field).to_representation is not drf_fields.ChoiceField.to_representation:
        return None
    if any(type(choice) is not str for choice in field.choice_strings_to_values.values()):  # {str(choice): choice}
        return None

    def render(value):
        return value if type(value) is str else field.to_representation(value)

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
    if (render := _fixed_decimals(field)) is not None:
        return name, getter, render, None
    if (render := _plain_choices(field)) is not None:
        return name, getter, render, None
    if kind.to_representation in _CONTEXT_FREE_REPRESENTATIONS:
        return name, getter, field.to_representation, _binds_datetime(field)
    raise TypeError(f"{type(serializer).__name__}.{name}: {kind.__name__}.to_representation is not known to be plain")


class RowPlan(NamedTuple):
    """How a serializer renders a page fetched as tuples: the ``values_list`` lookups to fetch, and per readable
    field its name, a getter over the tuple, its renderer and binder (as in ``_compile_field``)."""

    lookups: tuple[str, ...]
    fields: tuple


def _forward_field(model, name: str):
    try:
        field = model._meta.get_field(name)  # a field's name or its attname (``org_unit`` or ``org_unit_id``)
    except FieldDoesNotExist:
        return None
    return field if field.concrete else None  # reverse relations and many-to-many have no column on this row


def _row_object(model, prefix: str, annotations: tuple, column, function):
    """A getter building the ``RowObject`` that ``function`` (a property's or a method field's) reads: the
    attributes it names with ``@reads`` — columns of ``model`` reached through ``prefix``, or at the root the
    queryset's annotations — and without it every concrete column of ``model`` and every annotation. None when it
    names an attribute this row cannot have."""
    annotations = () if prefix else annotations  # a related model's row carries no annotation of the queryset
    names = getattr(function, "row_reads", ()) or (
        *(f.attname for f in model._meta.concrete_fields),
        *annotations,
    )
    picks = []
    for name in names:
        if name in annotations:
            picks.append(column(name))
        elif (concrete := _forward_field(model, name)) is not None:
            picks.append(column(prefix + concrete.attname))
        else:
            return None
    pick = itemgetter(*picks) if len(picks) > 1 else lambda row: (row[picks[0]],)
    pk_name = model._meta.pk.attname

    def build(row):
        obj = RowObject()
        values = obj.__dict__
        values.update(zip(names, pick(row), strict=True))
        if pk_name in values:
            values["pk"] = values[pk_name]
        return obj

    return build


def _row_getter(serializer, field, model, annotations: tuple, column):
    """A getter reading ``field``'s value from a ``values_list`` tuple (``column(lookup)`` gives its index), equal
    to what DRF reads from a model instance; None when the field cannot be read from a row."""
    if isinstance(field, serializers.SerializerMethodField):
        # the method reads the row as it would read the instance
        return _row_object(model, "", annotations, column, getattr(serializer, field.method_name))
    if field.source == "*":
        return None
    *path, last = field.source_attrs
    prefix = ""
    for name in path:
        # Through required forward relations only: DRF skips the key when a nullable one is empty, a join gives null.
        relation = _forward_field(model, name)
        if relation is None or not (relation.many_to_one or relation.one_to_one) or relation.null:
            return None
        prefix, model = f"{prefix}{name}__", relation.related_model
    if not prefix and last in annotations:
        return itemgetter(column(last))
    concrete = _forward_field(model, last)
    if concrete is not None:
        if concrete.is_relation and last == concrete.name and not isinstance(field, relations.PrimaryKeyRelatedField):
            return None  # the related object itself, not its id
        return itemgetter(column(prefix + concrete.attname))
    attribute = inspect.getattr_static(model, last, None)
    if isinstance(attribute, property):
        fget, build = attribute.fget, _row_object(model, prefix, annotations, column, attribute.fget)
        return None if build is None else lambda row: fget(build(row))
    return None


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

    @classmethod
    def row_plan(cls, queryset) -> RowPlan | None:
        """The plan rendering ``queryset``'s rows from tuples (``queryset.values_list(*plan.lookups)``) instead of
        model instances, or None when this serializer or this queryset needs instances: a ``to_representation`` of
        its own, a field read some other way, or a queryset whose rows ``values_list`` would change (prefetches,
        ``DISTINCT``, ``GROUP BY`` and aggregates, ``extra``, set operations, rows that are not instances)."""
        query = queryset.query
        if (
            cls.to_representation is not CompiledRepresentationMixin.to_representation
            or queryset._prefetch_related_lookups
            or queryset._iterable_class is not ModelIterable
            or query.distinct
            or query.combinator
            or query.group_by is not None
            or query.extra
            or any(annotation.contains_aggregate for annotation in query.annotations.values())
        ):
            return None
        annotations = tuple(query.annotation_select)
        key = (queryset.model, annotations)
        plans = cls.__dict__.get("_row_plans")
        if plans is None:
            plans = cls._row_plans = {}
        if key not in plans:
            plans[key] = cls._compile_row_plan(queryset.model, annotations)
        return plans[key]

    @classmethod
    def _compile_row_plan(cls, model, annotations: tuple) -> RowPlan | None:
        columns: dict[str, int] = {}

        def column(lookup: str) -> int:
            return columns.setdefault(lookup, len(columns))

        template, fields = cls(context={}), []
        for (name, _, render, binder), field in zip(cls._representation_plan(), template._readable_fields, strict=True):
            getter = _row_getter(template, field, model, annotations, column)
            if getter is None:
                return None
            fields.append((name, getter, render, binder))
        return RowPlan(tuple(columns), tuple(fields))

    def rows_representation(self, plan: RowPlan, rows) -> list[dict]:
        """Every row of a page fetched with ``plan.lookups``, rendered as ``to_representation`` renders an instance."""
        bound = [(name, getter, binder(self) if binder else render) for name, getter, render, binder in plan.fields]
        data = []
        for values in rows:
            row = {}
            for name, getter, render in bound:
                value = getter(values)
                row[name] = None if value is None else render(value)
            data.append(row)
        return data
