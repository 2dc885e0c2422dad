"""django-filter FilterSets for org units, positions and employees.

Every filter validates its value: an unknown choice, id or tag, a malformed date or boolean, or an unknown
``ordering`` field makes the FilterSet invalid, and DjangoFilterBackend turns that into a 400
``validation_error`` whose details name the parameter. Subtree filters are one ``path LIKE`` on the
materialized path; ids are looked up among the units the caller may read, so an out-of-scope id is
indistinguishable from an unknown one.
"""

from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters
from django_filters.fields import ModelChoiceField
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.api.choices import EmployeeState
from apps.api.models import Employee, OrgUnit, Position
from apps.api.selectors import org_unit_list
from apps.tags.models import EmployeeTag, TagCatalog
from backend.filters import ColumnMultipleChoiceFilter, StableOrderingFilter, StrictBooleanFilter, in_callers_scope

visible_org_units = in_callers_scope(org_unit_list)  # the choices of every org-unit filter


class CommaSeparatedArrayWidget(QueryArrayWidget):
    """Accepts ``?state=a&state=b``, ``?state[]=a`` and ``?state=a,b`` alike."""

    def value_from_datadict(self, data, files, name):
        values = super().value_from_datadict(data, files, name)
        return sorted({part.strip() for value in values for part in str(value).split(",") if part.strip()})


@extend_schema_field(OpenApiTypes.INT)
class SubtreeFilter(filters.ModelChoiceFilter):
    """``?<param>=<unit id>``: rows in that unit or anywhere below it (one LIKE on the materialized path)."""

    def __init__(self, *args, path_field: str, **kwargs):
        kwargs.setdefault("queryset", visible_org_units)
        super().__init__(*args, **kwargs)
        self.path_field = path_field

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{f"{self.path_field}__startswith": value.path})


class TagCodeOrIdField(ModelChoiceField):
    """A tag given by its code or, failing that, by its id."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if "\x00" in text:  # PostgreSQL cannot even compare such a string
            raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        tag = self.queryset.filter(code=text).first()
        if (
            tag is None and text.isascii() and text.isdigit() and len(text) < 19
        ):  # ASCII digits ("³" is a digit), a bigint
            tag = self.queryset.filter(pk=int(text)).first()
        if tag is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return tag


@extend_schema_field(OpenApiTypes.STR)
class TagFilter(filters.ModelChoiceFilter):
    """``?tag=<code or id>``: employees holding that tag (any EmployeeTag row of it), each listed once."""

    field_class = TagCodeOrIdField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", TagCatalog.objects.all())
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        # EXISTS rather than a join: no duplicates, so no DISTINCT to fight the ordering.
        return qs.filter(Exists(EmployeeTag.objects.filter(employee=OuterRef("pk"), tag=value)))


def search_terms(qs, fields: tuple[str, ...], value: str):
    """Every whitespace-separated term must match one of ``fields`` (case-insensitive substring)."""
    for term in value.split():
        qs = qs.filter(reduce(or_, (Q(**{f"{field}__icontains": term}) for field in fields)))
    return qs


class OrgUnitFilterSet(filters.FilterSet):
    parent = filters.ModelChoiceFilter(
        queryset=visible_org_units, null_label="root", help_text="A unit id, or `null` for root units."
    )
    within = SubtreeFilter(path_field="path", help_text="A unit id: that unit and everything below it.")
    is_active = StrictBooleanFilter()
    code = filters.CharFilter(lookup_expr="iexact")
    search = filters.CharFilter(method="filter_search", help_text="Matches code and name.")
    ordering = StableOrderingFilter(fields=("code", "name", "path", "depth", "created_at"))

    class Meta:
        model = OrgUnit
        fields = ["parent", "within", "is_active", "code"]

    def filter_search(self, queryset, name, value):
        return search_terms(queryset, ("code", "name"), value)


class PositionFilterSet(filters.FilterSet):
    org_unit = SubtreeFilter(path_field="org_unit__path", help_text="A unit id: positions in it or below it.")
    is_active = StrictBooleanFilter()
    code = filters.CharFilter(lookup_expr="iexact")
    search = filters.CharFilter(method="filter_search", help_text="Matches code and title.")
    ordering = StableOrderingFilter(fields=("code", "title", "standard_weekly_hours", "created_at"))

    class Meta:
        model = Position
        fields = ["org_unit", "is_active", "code"]

    def filter_search(self, queryset, name, value):
        return search_terms(queryset, ("code", "title"), value)


class EmployeeFilterSet(filters.FilterSet):
    state = ColumnMultipleChoiceFilter(
        choices=EmployeeState.choices,
        widget=CommaSeparatedArrayWidget,
        help_text="One or more states (repeat the parameter or separate with commas).",
    )
    org_unit = SubtreeFilter(path_field="org_unit__path", help_text="A unit id: employees in it or below it.")
    tag = TagFilter(help_text="A tag code or id: employees holding it.")
    hire_date_after = filters.DateFilter(field_name="hire_date", lookup_expr="gte", help_text="Hired on or after.")
    hire_date_before = filters.DateFilter(field_name="hire_date", lookup_expr="lte", help_text="Hired on or before.")
    search = filters.CharFilter(method="filter_search", help_text="Matches first/last name, email, employee number.")
    ordering = StableOrderingFilter(
        fields=("last_name", "first_name", "employee_number", "email", "hire_date", "state", "created_at")
    )

    class Meta:
        model = Employee
        fields = ["state", "org_unit", "tag", "hire_date_after", "hire_date_before"]

    def filter_search(self, queryset, name, value):
        return search_terms(queryset, ("first_name", "last_name", "email", "employee_number"), value)
