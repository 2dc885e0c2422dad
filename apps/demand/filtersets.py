"""django-filter FilterSets for coverage requirements."""

import django_filters

from apps.api.selectors import org_unit_list, position_list
from apps.demand.models import CoverageRequirement, Plan, PlanStatus
from apps.demand.selectors import requirement_active_on
from backend.filters import ColumnMultipleChoiceFilter, IdFilter, UTCDateTimeFilter, in_callers_scope


class CoverageRequirementFilterSet(django_filters.FilterSet):
    """position, org_unit (the position's unit and its subtree), active_on, priority (several), validity bounds."""

    position = django_filters.ModelChoiceFilter(queryset=in_callers_scope(position_list))
    org_unit = django_filters.ModelChoiceFilter(
        queryset=in_callers_scope(org_unit_list), field_name="position__org_unit", method="filter_org_unit"
    )
    active_on = django_filters.DateFilter(method="filter_active_on", help_text="Valid on this date (YYYY-MM-DD).")
    priority = ColumnMultipleChoiceFilter(choices=[(i, str(i)) for i in range(1, 6)])
    valid_from_after = django_filters.DateFilter(field_name="valid_from", lookup_expr="gte")
    valid_from_before = django_filters.DateFilter(field_name="valid_from", lookup_expr="lte")

    class Meta:
        model = CoverageRequirement
        fields = ["position", "org_unit", "active_on", "priority"]

    def filter_org_unit(self, queryset, name, unit):
        return queryset.filter(position__org_unit__path__startswith=unit.path) if unit else queryset

    def filter_active_on(self, queryset, name, day):
        return queryset.filter(requirement_active_on(day)) if day else queryset


class PlanFilterSet(django_filters.FilterSet):
    """status (several), org_unit (the plan's unit in this unit's subtree), created_by, creation time, period."""

    status = django_filters.MultipleChoiceFilter(choices=PlanStatus.choices)
    org_unit = django_filters.ModelChoiceFilter(queryset=in_callers_scope(org_unit_list), method="filter_org_unit")
    created_by = IdFilter(field_name="created_by_id")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lte", end_of_day=True)
    covers = django_filters.DateFilter(method="filter_covers", help_text="Plans whose period includes this date.")

    class Meta:
        model = Plan
        fields = ["status", "org_unit", "created_by"]

    def filter_org_unit(self, queryset, name, unit):
        return queryset.filter(org_unit__path__startswith=unit.path) if unit else queryset

    def filter_covers(self, queryset, name, day):
        return queryset.filter(period_start__lte=day, period_end__gte=day) if day else queryset
