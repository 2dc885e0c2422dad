"""Serializers: requirement CRUD, the query parameters of the reports, and the report rows (for the schema)."""

from decimal import Decimal

from rest_framework import serializers

from apps.api.models import Position
from apps.demand.choices import MAX_WEEKS, CoverageStatus
from apps.demand.models import CoverageRequirement
from apps.demand.periods import Period
from backend.serializers import (
    BoundedDateField,
    IdField,
    ModelSerializer,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
)


def HoursField(**kwargs) -> serializers.DecimalField:  # noqa: N802 (reads like a field class)
    """Hours as the API writes them: a two-decimal string (schema only; values come ready-made)."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True, **kwargs)


class CoverageRequirementSerializer(ModelSerializer):
    """A requirement: a position needs ``required_headcount`` people and ``required_weekly_hours`` a week."""

    position = StrictPrimaryKeyRelatedField(queryset=Position.objects.all())
    position_code = serializers.CharField(source="position.code", read_only=True)
    position_title = serializers.CharField(source="position.title", read_only=True)
    org_unit = serializers.IntegerField(source="position.org_unit_id", read_only=True)
    required_headcount = StrictIntegerField(min_value=0, max_value=100_000)
    required_weekly_hours = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal(0), max_value=Decimal("99999.99")
    )
    priority = StrictIntegerField(min_value=1, max_value=5, default=3)

    class Meta:
        model = CoverageRequirement
        fields = [
            "id",
            "position",
            "position_code",
            "position_title",
            "org_unit",
            "valid_from",
            "valid_to",
            "required_headcount",
            "required_weekly_hours",
            "priority",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        start = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        end = attrs["valid_to"] if "valid_to" in attrs else getattr(self.instance, "valid_to", None)
        if start and end and end < start:
            raise serializers.ValidationError({"valid_to": ["Must be on or after valid_from."]})
        return attrs


class PeriodQuerySerializer(serializers.Serializer):
    """``from`` and ``to`` (YYYY-MM-DD, inclusive), at most 104 ISO weeks apart; the result is ``period``."""

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so the two fields cannot be class attributes.
        fields["from"] = BoundedDateField(help_text="First day (YYYY-MM-DD), inclusive.")
        fields["to"] = BoundedDateField(help_text="Last day (YYYY-MM-DD), inclusive.")
        return fields

    def validate(self, attrs):
        start, end = attrs["from"], attrs["to"]
        if end < start:
            raise serializers.ValidationError({"to": ["Must be on or after 'from'."]})
        period = Period(start, end)
        if period.week_count > MAX_WEEKS:
            raise serializers.ValidationError(
                {"to": [f"The range touches {period.week_count} ISO weeks; at most {MAX_WEEKS} are allowed."]}
            )
        attrs["period"] = period
        return attrs


class _ScopedRefs:
    """Turns ``position`` / ``org_unit`` ids into objects the caller may see; unknown or out of scope → 400."""

    def _resolve(self, attrs, field: str, queryset, label: str):
        value = attrs.get(field)
        if value is None:
            return
        found = queryset.filter(pk=value).first()
        if found is None:
            raise serializers.ValidationError({field: [f"No {label} with id {value} (or not in your scope)."]})
        attrs[field] = found

    def resolve_refs(self, attrs):
        scope = self.context["scope"]
        self._resolve(attrs, "position", scope["positions"], "position")
        self._resolve(attrs, "org_unit", scope["org_units"], "org unit")
        return attrs


class CoverageQuerySerializer(_ScopedRefs, PeriodQuerySerializer):
    """Query of GET /api/coverage/ and /api/coverage/org-units/."""

    org_unit = IdField(required=False, help_text="Only this unit and its subtree.")
    position = IdField(required=False, help_text="Only this position.")

    def validate(self, attrs):
        return self.resolve_refs(super().validate(attrs))


class KpiQuerySerializer(_ScopedRefs, PeriodQuerySerializer):
    """Query of GET /api/kpis/."""

    org_unit = IdField(required=False, help_text="Only this unit and its subtree.")

    def validate(self, attrs):
        return self.resolve_refs(super().validate(attrs))


class CandidateQuerySerializer(_ScopedRefs, PeriodQuerySerializer):
    """Query of GET /api/coverage/candidates/."""

    position = IdField(help_text="The position to fill.")
    hours = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(168),
        required=False,
        help_text="Weekly hours needed (default: the position's standard weekly hours).",
    )
    org_unit = IdField(required=False, help_text="Only employees of this unit and its subtree.")
    limit = StrictIntegerField(required=False, default=25, min_value=1, max_value=100)

    def validate(self, attrs):
        attrs = self.resolve_refs(super().validate(attrs))
        if attrs.get("hours") is None:
            attrs["hours"] = attrs["position"].standard_weekly_hours
        return attrs


# --- output (documentation of the response shapes) ---------------------------------------------------------


class _MeasuresSerializer(serializers.Serializer):
    week = BoundedDateField(help_text="The ISO week's Monday.")
    required_headcount = serializers.IntegerField()
    assigned_headcount = serializers.IntegerField()
    required_hours = HoursField()
    assigned_hours = HoursField()
    gap_hours = HoursField(help_text="required − assigned: positive is a shortfall, negative a surplus.")
    coverage_ratio = serializers.FloatField(allow_null=True, help_text="assigned ÷ required hours; null if 0.")
    status = serializers.ChoiceField(choices=CoverageStatus.choices)


class CoverageRowSerializer(_MeasuresSerializer):
    position = serializers.IntegerField()
    position_code = serializers.CharField()


class OrgUnitCoverageRowSerializer(_MeasuresSerializer):
    org_unit = serializers.IntegerField()
    org_unit_code = serializers.CharField()
    open_gap_hours = HoursField(help_text="Sum of the positive gaps of the subtree's positions.")
    positions_under = serializers.IntegerField()


class CandidateSerializer(serializers.Serializer):
    employee = serializers.IntegerField()
    employee_number = serializers.CharField()
    name = serializers.CharField()
    state = serializers.CharField()
    org_unit = serializers.IntegerField()
    score = serializers.FloatField(help_text="0–100: tags 40, free hours 30, state 20, rules 10.")
    fits = serializers.BooleanField()
    free_hours = HoursField(help_text="Average free hours a week over the period.")
    free_hours_source = serializers.ChoiceField(choices=["ledger", "contract"])
    reasons = serializers.ListField(child=serializers.CharField())
    rule_failures = serializers.ListField(child=serializers.DictField())


class CandidateListSerializer(serializers.Serializer):
    position = serializers.DictField()
    hours = HoursField()
    considered = serializers.IntegerField()
    fitting = serializers.IntegerField(
        help_text="How many in the pool fit; when fitting_exact is false, a lower bound (at least this many)."
    )
    fitting_exact = serializers.BooleanField(
        help_text="False when the page was decided before every qualified employee was looked at: fitting is then "
        "the number found to fit so far, not the total."
    )
    rules_evaluated = serializers.ListField(child=serializers.CharField())
    results = CandidateSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = BoundedDateField()
        fields["to"] = BoundedDateField()
        return fields


class KpiSerializer(serializers.Serializer):
    period = serializers.DictField()
    org_unit = serializers.IntegerField(allow_null=True)
    coverage_ratio = serializers.FloatField(allow_null=True)
    required_hours = HoursField()
    assigned_hours = HoursField()
    open_gap_hours = HoursField()
    utilisation = serializers.FloatField(allow_null=True)
    contracted_hours = HoursField()
    employee_assigned_hours = HoursField()
    leave_hours = HoursField()
    worked_hours = HoursField()
    overtime_hours = HoursField()
    headcount_by_state = serializers.DictField(child=serializers.IntegerField())
    headcount = serializers.IntegerField()
    transitions = serializers.DictField()
