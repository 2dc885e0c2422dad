"""django-filter FilterSets for ledger entries and clock events; bad values are 400s, never empty pages or 500s."""

from django.db.models import Q
from django_filters import rest_framework as filters

from apps.api.selectors import employee_list
from apps.assignments.selectors import assignment_list
from apps.offer.choices import BALANCE_KINDS, EntryKind, EntrySource
from apps.offer.models import ClockEvent, LedgerEntry
from backend.filters import ColumnMultipleChoiceFilter, SinceUntilForm, StrictBooleanFilter, in_callers_scope


class LedgerEntryFilterSet(filters.FilterSet):
    """employee, kind, column, source, assignment, and since/until: entries whose period overlaps that range."""

    employee = filters.ModelChoiceFilter(queryset=in_callers_scope(employee_list))
    assignment = filters.ModelChoiceFilter(queryset=in_callers_scope(assignment_list))
    kind = ColumnMultipleChoiceFilter(choices=EntryKind.choices)
    column = ColumnMultipleChoiceFilter(
        choices=[(k.value, k.label) for k in BALANCE_KINDS],
        method="filter_column",
        help_text="The balance column counted in: the kind, or for adjustments the column adjusted.",
    )
    source = ColumnMultipleChoiceFilter(choices=EntrySource.choices)
    since = filters.DateFilter(method="filter_since", help_text="Period ends on or after this date (YYYY-MM-DD).")
    until = filters.DateFilter(method="filter_until", help_text="Period starts on or before this date (YYYY-MM-DD).")
    ordering = filters.OrderingFilter(
        fields=(("id", "id"), ("period_start", "period_start"), ("created_at", "created_at"))
    )

    class Meta:
        model = LedgerEntry
        fields = ["employee", "assignment", "kind", "column", "source", "since", "until"]
        form = SinceUntilForm

    def filter_column(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(
            Q(kind=EntryKind.ADJUSTMENT, adjusts__in=values) | (~Q(kind=EntryKind.ADJUSTMENT) & Q(kind__in=values))
        )

    def filter_since(self, queryset, name, day):
        return queryset.filter(Q(period_end__isnull=True) | Q(period_end__gte=day)) if day else queryset

    def filter_until(self, queryset, name, day):
        return queryset.filter(period_start__lte=day) if day else queryset


class ClockEventFilterSet(filters.FilterSet):
    """employee, day, since/until (the shift's day, inclusive), open."""

    employee = filters.ModelChoiceFilter(queryset=in_callers_scope(employee_list))
    day = filters.DateFilter(field_name="day")
    since = filters.DateFilter(field_name="day", lookup_expr="gte")
    until = filters.DateFilter(field_name="day", lookup_expr="lte")
    open = StrictBooleanFilter(field_name="clock_out_at", lookup_expr="isnull", help_text="Shifts not clocked out.")
    ordering = filters.OrderingFilter(fields=(("clock_in_at", "clock_in_at"), ("day", "day"), ("id", "id")))

    class Meta:
        model = ClockEvent
        fields = ["employee", "day", "since", "until", "open"]
        form = SinceUntilForm
