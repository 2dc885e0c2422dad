import django_filters
from django.db.models import Q

from apps.api.selectors import employee_list, org_unit_list, position_list
from apps.assignments.choices import AssignmentState
from apps.assignments.models import Assignment
from backend.filters import ColumnMultipleChoiceFilter, in_callers_scope

# States of an assignment that runs (or ran) over its dates: what ``active_on`` means by "running that day".
RAN_STATES = (AssignmentState.APPROVED, AssignmentState.ACTIVE, AssignmentState.COMPLETED)


class AssignmentFilterSet(django_filters.FilterSet):
    """employee, position, state (several), org_unit (the position's unit and its subtree), active_on, search."""

    employee = django_filters.ModelChoiceFilter(queryset=in_callers_scope(employee_list))
    position = django_filters.ModelChoiceFilter(queryset=in_callers_scope(position_list))
    state = ColumnMultipleChoiceFilter(choices=AssignmentState.choices)
    org_unit = django_filters.ModelChoiceFilter(
        queryset=in_callers_scope(org_unit_list), field_name="position__org_unit", method="filter_org_unit"
    )
    active_on = django_filters.DateFilter(
        method="filter_active_on",
        help_text=(
            "Running on this date (YYYY-MM-DD): approved, active or completed (a completed assignment ran over its "
            "dates, its end date being the day it completed) with start_date ≤ date ≤ end_date (or open-ended). "
            "Proposed, rejected and cancelled assignments never ran, whatever their dates."
        ),
    )
    starts_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    starts_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")
    search = django_filters.CharFilter(method="filter_search")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("start_date", "start_date"),
            ("end_date", "end_date"),
            ("weekly_hours", "weekly_hours"),
            ("created_at", "created_at"),
            ("id", "id"),
        )
    )

    class Meta:
        model = Assignment
        fields = ["employee", "position", "state", "org_unit", "active_on"]

    def filter_org_unit(self, queryset, name, unit):
        return queryset.filter(position__org_unit__path__startswith=unit.path) if unit else queryset

    def filter_active_on(self, queryset, name, day):
        if not day:
            return queryset
        return queryset.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day), start_date__lte=day, state__in=RAN_STATES
        )

    def filter_search(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Q(notes__icontains=value)
            | Q(employee__first_name__icontains=value)
            | Q(employee__last_name__icontains=value)
            | Q(employee__employee_number__icontains=value)
            | Q(position__code__icontains=value)
            | Q(position__title__icontains=value)
        )
