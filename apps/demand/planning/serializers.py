"""Plans over the API: the request that creates one, the list row, the full plan, the apply request."""

from rest_framework import serializers

from apps.demand.api.serializers import PeriodQuerySerializer
from apps.demand.models import Plan
from apps.demand.planning.solver import DEFAULT_WEIGHTS
from backend.serializers import BoundedDateField, IdField, StrictIntegerField

MAX_PLAN_WEEKS = 13


class PlanCreateSerializer(PeriodQuerySerializer):
    """``{from, to, org_unit?, positions?, objective?, seed?, time_limit?}``; ids must be in the caller's scope."""

    org_unit = IdField(required=False)
    positions = serializers.ListField(child=IdField(), required=False, max_length=1000)
    objective = serializers.DictField(
        child=StrictIntegerField(min_value=0, max_value=10_000),
        required=False,
        help_text=f"Weights over the defaults {DEFAULT_WEIGHTS}.",
    )
    seed = StrictIntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)
    time_limit = StrictIntegerField(required=False, min_value=1, max_value=120, help_text="Seconds.")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["period"].week_count > MAX_PLAN_WEEKS:
            raise serializers.ValidationError({"to": [f"A plan spans at most {MAX_PLAN_WEEKS} ISO weeks."]})
        unknown = sorted(set(attrs.get("objective", {})) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise serializers.ValidationError(
                {"objective": [f"Unknown weight(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_WEIGHTS)}."]}
            )
        scope = self.context["scope"]
        if attrs.get("org_unit") is not None:
            unit = scope["org_units"].filter(pk=attrs["org_unit"]).first()
            if unit is None:
                raise serializers.ValidationError({"org_unit": [f"No org unit with id {attrs['org_unit']} in scope."]})
            attrs["org_unit"] = unit
        if attrs.get("positions"):
            wanted = set(attrs["positions"])
            found = list(scope["positions"].filter(pk__in=wanted))
            missing = sorted(wanted - {p.pk for p in found})
            if missing:
                raise serializers.ValidationError(
                    {"positions": [f"No position with id {', '.join(map(str, missing))} in scope."]}
                )
            attrs["positions"] = found
        return attrs


class PlanSerializer(serializers.ModelSerializer):
    """A plan as the list shows it: status, progress, the request and its metrics (no proposals)."""

    url = serializers.HyperlinkedIdentityField(view_name="plan-detail")
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True, default=None)
    created_by_email = serializers.CharField(source="created_by.email", read_only=True, default=None)
    weights = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id",
            "url",
            "status",
            "progress",
            "period_start",
            "period_end",
            "org_unit",
            "org_unit_code",
            "positions",
            "objective",
            "weights",
            "seed",
            "time_limit",
            "metrics",
            "error",
            "attempts",
            "created_by",
            "created_by_email",
            "created_at",
            "started_at",
            "finished_at",
            "applied_at",
            "applied_by",
        ]
        read_only_fields = fields

    def get_weights(self, plan) -> dict:
        return {**DEFAULT_WEIGHTS, **(plan.objective or {})}


class PlanDetailSerializer(PlanSerializer):
    """A plan with its results: proposals, coverage before/after, open gaps with reasons, score terms."""

    proposals = serializers.SerializerMethodField()
    coverage = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField()
    score_terms = serializers.SerializerMethodField()
    applied = serializers.SerializerMethodField()

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "proposals", "coverage", "gaps", "score_terms", "applied"]
        read_only_fields = fields

    def get_proposals(self, plan) -> list[dict]:
        return [{"index": i, **p} for i, p in enumerate(plan.results.get("proposals", []))]

    def get_coverage(self, plan) -> list[dict]:
        return plan.results.get("coverage", [])

    def get_gaps(self, plan) -> list[dict]:
        return plan.results.get("gaps", [])

    def get_score_terms(self, plan) -> dict:
        return plan.results.get("score_terms", {})

    def get_applied(self, plan) -> dict | None:
        return plan.results.get("applied")


class PlanApplySerializer(serializers.Serializer):
    """``{proposals?, approve?, force_revalidate?, acknowledge_warnings?, reason?, override_reason?,
    effective_date?}``: which proposals (indexes), and how (as the admin's Apply page asks)."""

    proposals = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=100_000), required=False, max_length=100_000
    )
    approve = serializers.BooleanField(default=False)
    force_revalidate = serializers.BooleanField(default=False)
    acknowledge_warnings = serializers.BooleanField(default=False)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Kept in the approvals' log after the plan."
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Admins only: apply despite failing block rules, for this reason (kept in the log).",
    )
    effective_date = BoundedDateField(
        required=False,
        help_text="The day the approvals take effect (default: today where each proposal's employee works).",
    )
