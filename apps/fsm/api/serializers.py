from rest_framework import serializers

from apps.business_rules.api.serializers import RuleResultSerializer
from backend.serializers import BoundedDateField, CompiledRepresentationMixin


class TransitionInputSerializer(serializers.Serializer):
    """POST …/transitions/ body; ``validated_data`` are ``TransitionRequest`` keyword arguments."""

    transition = serializers.CharField(max_length=64, source="name")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    effective_date = BoundedDateField(required=False, allow_null=True, default=None)
    acknowledge_warnings = serializers.BooleanField(required=False, default=False)
    override_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(required=False, default=False)


class RuleViolationDetailsSerializer(serializers.Serializer):
    """``details`` of a 422 ``rule_violation`` (``apps.business_rules.engine.raise_for_decision``)."""

    violations = RuleResultSerializer(many=True, help_text="The failing rules: each says what to do (remediation).")
    rule_results = RuleResultSerializer(many=True, help_text="Every rule evaluated, passing ones included.")
    acknowledge_warnings_required = serializers.BooleanField(
        required=False, help_text="Present (true) when only warn rules failed: resend with acknowledge_warnings."
    )


class TransitionNotAllowedDetailsSerializer(serializers.Serializer):
    """``details`` of a 409 ``transition_not_allowed``: where the object is and where it may go from there."""

    current_state = serializers.CharField()
    allowed_transitions = serializers.ListField(child=serializers.CharField())
    object = serializers.IntegerField(required=False, help_text="In a batch: the id of the refused object.")


class TransitionOptionSerializer(serializers.Serializer):
    """One entry of GET …/transitions/ (``transition_options``)."""

    name = serializers.CharField()
    target = serializers.CharField()
    allowed = serializers.BooleanField(help_text="False only when blocked_by is set; 'needs' does not close it.")
    rule_results = RuleResultSerializer(many=True)
    blocked_by = serializers.ChoiceField(
        choices=["role", "state", "rules"],
        allow_null=True,
        help_text="Why it is closed: your role, the current state, or a failing block rule; null when open.",
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=["reason", "acknowledge_warnings"]),
        help_text="What the POST body must carry for the rules to pass (a reason, acknowledge_warnings=true).",
    )
    can_override = serializers.BooleanField(
        help_text="Blocked by rules, and you are an admin: an override_reason lets it through (and is logged)."
    )


class TransitionLogFieldsSerializer(CompiledRepresentationMixin, serializers.Serializer):
    """A log row's own fields; ``TransitionLogSerializer`` adds the subject under its own name, and the audit lists
    declare it as a field (``transition_log_serializer``), so their pages can render from rows (ADR 0035)."""

    id = serializers.IntegerField()
    transition = serializers.CharField()
    # SPEC §4 names them source and target (like the audit filters); the columns are source_state/target_state.
    source = serializers.CharField(source="source_state")
    target = serializers.CharField(source="target_state")
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    reason = serializers.CharField()
    effective_date = BoundedDateField(allow_null=True)
    rule_results = serializers.JSONField()
    override_reason = serializers.CharField()
    request_id = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class TransitionLogSerializer(TransitionLogFieldsSerializer):
    """A log row as returned with a transition and by the audit endpoints (subject under its own name)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data[instance.subject_field] = instance.subject_id
        return data


class TransitionDryRunSerializer(serializers.Serializer):
    """POST …/transitions/ with ``dry_run``: what would happen; nothing is written."""

    dry_run = serializers.BooleanField()
    allowed = serializers.BooleanField()
    transition = serializers.CharField()
    current_state = serializers.CharField()
    target = serializers.CharField()
    blocked_by = serializers.ChoiceField(
        choices=["transition_not_allowed", "rule_violation", "warnings_not_acknowledged"], allow_null=True
    )
    rule_results = RuleResultSerializer(many=True)


_performed: dict[tuple[str, type], type[serializers.Serializer]] = {}


def transition_performed_serializer(subject_field: str, subject_serializer: type) -> type[serializers.Serializer]:
    """The body of a performed transition for one model: ``{<subject_field>, log_entry, rule_results, cascaded}``.

    One class per (subject, serializer), named after the subject (``EmployeeTransitionPerformed``...), so the
    OpenAPI schema has one component per model.
    """
    key = (subject_field, subject_serializer)
    if key not in _performed:
        camel = "".join(part.capitalize() for part in subject_field.split("_"))
        entry = type(
            f"{camel}TransitionLogEntrySerializer",
            (TransitionLogSerializer,),
            {subject_field: serializers.IntegerField(source=f"{subject_field}_id")},
        )
        _performed[key] = type(
            f"{camel}TransitionPerformedSerializer",
            (serializers.Serializer,),
            {
                "__doc__": f"POST …/transitions/: the {subject_field} after the transition and its log row.",
                subject_field: subject_serializer(),
                "log_entry": entry(),
                "rule_results": RuleResultSerializer(many=True),
                "cascaded": TransitionLogSerializer(
                    many=True, help_text="Log rows of other objects changed with it (e.g. ended assignments)."
                ),
            },
        )
    return _performed[key]
