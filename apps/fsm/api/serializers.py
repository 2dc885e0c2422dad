from rest_framework import serializers


class TransitionInputSerializer(serializers.Serializer):
    """POST …/transitions/ body; ``validated_data`` are ``TransitionRequest`` keyword arguments."""

    transition = serializers.CharField(max_length=64, source="name")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)
    acknowledge_warnings = serializers.BooleanField(required=False, default=False)
    override_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(required=False, default=False)


class RuleResultSerializer(serializers.Serializer):
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


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.CharField()
    allowed = serializers.BooleanField()
    rule_results = RuleResultSerializer(many=True)


class TransitionLogSerializer(serializers.Serializer):
    """A log row as returned with a transition and by the audit endpoints (subject under its own name)."""

    id = serializers.IntegerField()
    transition = serializers.CharField()
    source_state = serializers.CharField()
    target_state = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    reason = serializers.CharField()
    effective_date = serializers.DateField(allow_null=True)
    rule_results = serializers.JSONField()
    override_reason = serializers.CharField()
    request_id = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data[instance.subject_field] = instance.subject_id
        return data
