"""The rule catalogue's FilterSet. Every filter validates its value: an unknown choice, id or boolean makes
the FilterSet invalid, and DjangoFilterBackend answers 400 ``validation_error`` naming the parameter."""

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django_filters import rest_framework as filters

from apps.api.selectors import org_unit_list, position_list
from apps.business_rules.choices import KNOWN_EVENTS, Severity
from apps.business_rules.models import BusinessRule
from apps.business_rules.registry import REGISTRY
from backend.filters import StableOrderingFilter, StrictBooleanFilter, in_callers_scope


def _rule_types():
    return [(identifier, identifier) for identifier in sorted(REGISTRY)]


class BusinessRuleFilterSet(filters.FilterSet):
    rule_type = filters.ChoiceFilter(choices=_rule_types)
    severity = filters.ChoiceFilter(choices=Severity.choices)
    is_active = StrictBooleanFilter()
    org_unit = filters.ModelChoiceFilter(
        queryset=in_callers_scope(org_unit_list), help_text="Rules scoped to this unit."
    )
    position = filters.ModelChoiceFilter(
        queryset=in_callers_scope(position_list), help_text="Rules scoped to this position."
    )
    event = filters.ChoiceFilter(
        choices=[(e, e) for e in KNOWN_EVENTS], method="filter_event", help_text="Rules whose events include it."
    )
    search = filters.CharFilter(method="filter_search", help_text="Matches code and name.")
    ordering = StableOrderingFilter(fields=("code", "name", "rule_type", "severity", "version", "updated_at"))

    class Meta:
        model = BusinessRule
        fields = ["rule_type", "severity", "is_active", "org_unit", "position", "event"]

    def filter_event(self, queryset, name, value):
        if connection.features.supports_json_field_contains:
            return queryset.filter(events__contains=[value])
        # SQLite has no JSON containment: match the quoted name in the stored JSON text (names are [a-z._]).
        return queryset.annotate(events_text=Cast("events", TextField())).filter(events_text__contains=f'"{value}"')

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(Q(code__icontains=term) | Q(name__icontains=term))
        return queryset
