"""django-filter FilterSets for the tag endpoints."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from apps.api.selectors import employee_list
from apps.tags.choices import TagCategory
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog
from backend.filters import IdFilter, StrictBooleanFilter, in_callers_scope


class TagRefFormField(forms.ModelChoiceField):
    """A catalogue tag given by id (digits) or by code; an unknown one is a validation error (400)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        lookup = {"pk": int(value)} if value.isascii() and value.isdigit() and len(value) <= 18 else {"code": value}
        try:
            return self.queryset.get(**lookup)
        except (self.queryset.model.DoesNotExist, OverflowError, ValueError) as exc:
            raise ValidationError(f"No tag with id or code '{value}'.", code="invalid_choice") from exc


class TagRefFilter(django_filters.ModelChoiceFilter):
    field_class = TagRefFormField


class TagCatalogFilterSet(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=TagCategory.choices)
    is_active = StrictBooleanFilter()

    class Meta:
        model = TagCatalog
        fields = ["category", "is_active"]


class EmployeeTagFilterSet(django_filters.FilterSet):
    employee = django_filters.ModelChoiceFilter(queryset=in_callers_scope(employee_list))
    tag = TagRefFilter(queryset=TagCatalog.objects.all())
    category = django_filters.ChoiceFilter(field_name="tag__category", choices=TagCategory.choices)
    valid_on = django_filters.DateFilter(method="filter_valid_on", label="Valid on this date")
    level_gte = IdFilter(field_name="level", lookup_expr="gte", min_value=0, max_value=32767)

    class Meta:
        model = EmployeeTag
        fields = ["employee", "tag", "category", "valid_on", "level_gte"]

    def filter_valid_on(self, queryset, name, value):
        return queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=value), valid_from__lte=value)


class PositionTagFilterSet(django_filters.FilterSet):
    position = IdFilter(field_name="position_id")
    tag = TagRefFilter(queryset=TagCatalog.objects.all())
    required = django_filters.BooleanFilter()

    class Meta:
        model = PositionTag
        fields = ["position", "tag", "required"]
