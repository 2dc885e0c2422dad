"""Filter building blocks for every app's FilterSets: a bad query value is a 400 naming it, never a silent
no-op or a 500 (django-filter's defaults ignore an unknown boolean and accept ``1.5`` as an id)."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.encoding import force_str
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.settings import api_settings


class StrictBooleanField(forms.Field):
    """A boolean query parameter that refuses anything but true/false (and 1/0, yes/no)."""

    TRUE = frozenset({"true", "1", "yes"})
    FALSE = frozenset({"false", "0", "no"})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError("Enter true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # The default BooleanWidget turns an unknown value into None, i.e. no filter at all.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.Filter):
    """A whole-number id (``1.5`` or an id past the 64-bit range is a 400, not a crash or a quiet match of 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(filters.OrderingFilter):
    """``?ordering=a,-b``; the primary key breaks ties so pages never overlap."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class SinceUntilForm(forms.Form):
    """A FilterSet form whose ``since`` may not come after its ``until`` (both inclusive)."""

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "'until' must not be earlier than 'since'.")
        return cleaned


class UTCDateTimeField(forms.DateTimeField):
    """An ISO 8601 instant, returned in UTC. Naive input is UTC (not the server's zone, as Django would read it);
    a value that UTC cannot hold is invalid rather than a 500 further down. A bare date means the start of that
    UTC day, or its last microsecond with ``end_of_day=True`` (for inclusive upper bounds: ``until=2026-11-26``
    includes all of the 26th)."""

    def __init__(self, *args, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date and time, e.g. 2026-01-31T09:30:00Z.",
        "overflow": "The date and time is out of range.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            parsed = value
        else:
            text = force_str(value).strip()
            try:
                day = parse_date(text) if len(text) == 10 else None  # YYYY-MM-DD alone: a whole day
                parsed = parse_datetime(text) if day is None else None
            except ValueError:  # well formed but impossible, e.g. February 30th
                parsed = day = None
            if day is not None:
                parsed = datetime.datetime.combine(day, datetime.time.max if self.end_of_day else datetime.time.min)
            if parsed is None:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=datetime.UTC)
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-14:00 lies past datetime.max in UTC
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from exc


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


def in_callers_scope(selector):
    """``queryset=`` for a ``ModelChoiceFilter``: the rows the caller may read, ``selector(user=request.user)``.

    An id outside the caller's scope is then refused exactly like an id that does not exist (400 naming the
    parameter), so no filter answers "exists, but not yours" with an empty page: ids cannot be enumerated.
    """

    def queryset(request):
        return selector(user=getattr(request, "user", None))  # no request (schema generation): nothing

    return queryset


class ColumnMultipleChoiceFilter(filters.MultipleChoiceFilter):
    """``?state=a&state=b`` on a plain column, without ``DISTINCT``.

    django-filter's MultipleChoiceFilter adds ``.distinct()`` by default (meant for to-many lookups, which can repeat
    rows). On a column of the listed table no row can repeat, and ``SELECT DISTINCT`` over every selected column makes
    PostgreSQL sort the whole filtered table for one page (issue 8: 58,000 rows sorted for 25 assignments).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


# Query parameters that are never filters: pagination (CoverisPagination) and the format suffix (CSV exports).
_NOT_FILTERS = frozenset({"page", "page_size", api_settings.URL_FORMAT_OVERRIDE})


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, which does nothing at all when the request names no parameter but paging.

    A FilterSet deep-copies every filter and builds and validates a form on each request — about a tenth of a
    plain list page (issue 8) — only to apply nothing when no filter is given: every filter's empty value leaves
    the queryset as it is. ``backend/tests/test_filter_backend.py`` holds every list's FilterSet to that (its
    query with no parameters is the selector's query, unchanged), so skipping it cannot change an answer.
    """

    def filter_queryset(self, request, queryset, view):
        if _NOT_FILTERS.issuperset(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
