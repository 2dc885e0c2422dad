"""Serializers for the rule catalogue, its versions, the type registry and hypothetical evaluations.

Field checks only; a rule's definition (type, params against the type's schema, events, validity) is
validated by apps.business_rules.services, which every write goes through.
"""

from decimal import Decimal

from rest_framework import serializers

from apps.business_rules.choices import KNOWN_EVENTS
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.selectors import evaluation_subjects
from backend.serializers import BoundedDateField, ModelSerializer, StrictIntegerField, StrictPrimaryKeyRelatedField


class RuleResultSerializer(serializers.Serializer):
    """One rule's result in an evaluation; one schema component API-wide (transitions' 422s use it too)."""

    rule = serializers.CharField()
    version = serializers.IntegerField()
    rule_type = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["pass", "fail"])
    severity = serializers.ChoiceField(choices=["block", "warn"])
    message = serializers.CharField()
    observed = serializers.JSONField(allow_null=True)
    threshold = serializers.JSONField(allow_null=True)
    remediation = serializers.CharField(allow_blank=True)
    related = serializers.JSONField()


class BusinessRuleSerializer(ModelSerializer):
    """A rule as SPEC names it; ``version`` is read-only (every real edit bumps it)."""

    events = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False, max_length=50)
    params = serializers.JSONField(required=False)
    # allow_null, not default=None: DRF skips a field whose default it would use in a partial update, so a PATCH
    # answered without these keys when the rule had no org unit / position (every write must answer what GET does).
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True, allow_null=True)
    position_code = serializers.CharField(source="position.code", read_only=True, allow_null=True)

    class Meta:
        model = BusinessRule
        fields = [
            "id",
            "code",
            "name",
            "description",
            "rule_type",
            "params",
            "severity",
            "events",
            "org_unit",
            "org_unit_code",
            "position",
            "position_code",
            "is_active",
            "valid_from",
            "valid_to",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]


class BusinessRuleVersionSerializer(ModelSerializer):
    """One snapshot: the rule exactly as it was at ``version`` (what a log row's code + version refer to)."""

    actor_email = serializers.EmailField(source="actor.email", read_only=True, default=None)

    class Meta:
        model = BusinessRuleVersion
        fields = ["id", "rule", "version", "snapshot", "actor", "actor_email", "created_at"]
        read_only_fields = fields


class RuleTypeSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    description = serializers.CharField()
    params_schema = serializers.DictField()


class RuleTypesSerializer(serializers.Serializer):
    """Every registered rule type, plus the event names and severities a rule may use."""

    types = RuleTypeSerializer(many=True)
    events = serializers.ListField(child=serializers.CharField())
    severities = serializers.ListField(child=serializers.CharField())


_EVENT_ERROR = f'Unknown event "{{input}}". Known: {", ".join(KNOWN_EVENTS)}.'


class EvaluateInputSerializer(serializers.Serializer):
    """A hypothetical event. With ``assignment``, its employee, position, dates and hours are the defaults,
    and any field given here overrides them (``end_date: null`` means open-ended)."""

    event = serializers.ChoiceField(choices=KNOWN_EVENTS, error_messages={"invalid_choice": _EVENT_ERROR})
    employee = StrictPrimaryKeyRelatedField(queryset=evaluation_subjects(user=None)["employee"], required=False)
    position = StrictPrimaryKeyRelatedField(queryset=evaluation_subjects(user=None)["position"], required=False)
    assignment = StrictPrimaryKeyRelatedField(queryset=evaluation_subjects(user=None)["assignment"], required=False)
    start_date = BoundedDateField(required=False)
    end_date = BoundedDateField(required=False, allow_null=True)
    weekly_hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(168), required=False
    )
    effective_date = BoundedDateField(
        required=False,
        help_text="The day rules' validity is checked on (default: start_date for assignment.create, else today).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    clock_ins_today = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=1000,
        help_text=(
            "For clock events, a what-if: how often the employee clocked in on the effective date. "
            "Omitted: counted from the employee's real clock events."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        subjects = evaluation_subjects(user=getattr(request, "user", None))
        for name, queryset in subjects.items():
            self.fields[name].queryset = queryset

    def validate(self, attrs):
        assignment = attrs.get("assignment")
        start = attrs.get("start_date", getattr(assignment, "start_date", None))
        end = attrs["end_date"] if "end_date" in attrs else getattr(assignment, "end_date", None)
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"end_date": ["Must be on or after start_date."]})
        if "end_date" in attrs and start is None:
            raise serializers.ValidationError({"start_date": ["Give start_date (or an assignment) with end_date."]})
        return attrs

    def to_context(self, *, actor) -> dict:
        """The engine's context: the given fields, the actor, and the default effective date."""
        context = dict(self.validated_data)
        event = context.pop("event")
        context["actor"] = actor
        if "effective_date" not in context and event == "assignment.create":
            start = context.get("start_date", getattr(context.get("assignment"), "start_date", None))
            if start is not None:
                context["effective_date"] = start  # as assignment_create does
        return context


class EvaluateOutputSerializer(serializers.Serializer):
    event = serializers.CharField()
    allowed = serializers.BooleanField()
    decision = serializers.ChoiceField(choices=["rule_violation", "warnings_not_acknowledged"], allow_null=True)
    rule_results = RuleResultSerializer(many=True)
