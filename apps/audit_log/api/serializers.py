import datetime
from functools import cache

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from apps.audit_log.models import ChainVerification
from apps.fsm.api.serializers import TransitionLogFieldsSerializer
from apps.tags.models import TagChangeLog
from backend.serializers import CompiledRepresentationMixin, ModelSerializer


@cache
def transition_log_serializer(log_model: type[models.Model]) -> type[TransitionLogFieldsSerializer]:
    """The log row's fields with the object declared under its own name (for the schema), last, as
    ``TransitionLogSerializer`` adds it: the same representation."""
    subject = log_model.subject_field
    return type(
        f"{log_model.__name__}Serializer",
        (TransitionLogFieldsSerializer,),
        {subject: serializers.IntegerField(source=f"{subject}_id")},
    )


class TagChangeLogSerializer(CompiledRepresentationMixin, ModelSerializer):
    """One tag add/change/removal as the audit list shows it (ids, plus the tag's code for people)."""

    tag_code = serializers.CharField(source="tag.code")

    class Meta:
        model = TagChangeLog
        fields = [
            "id",
            "action",
            "target_type",
            "target_id",
            "employee",
            "position",
            "tag",
            "tag_code",
            "before",
            "after",
            "actor",
            "actor_email",
            "created_at",
            "request_id",
        ]
        read_only_fields = fields


class StateAtQuerySerializer(serializers.Serializer):
    """``?at=``: an ISO 8601 instant, not in the future; a naive value is read as UTC (how logs are stored)."""

    at = serializers.DateTimeField(default_timezone=datetime.UTC)

    def validate_at(self, value: datetime.datetime) -> datetime.datetime:
        if value > timezone.now():
            raise serializers.ValidationError("Must not be in the future: the log only knows the past.")
        return value


class StateAtSerializer(serializers.Serializer):
    employee = serializers.IntegerField()
    at = serializers.DateTimeField()
    state = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True, help_text="When the log row that set this state was written.")
    log_entry = serializers.IntegerField(allow_null=True, help_text="That log row's id; null for the initial state.")


class ChainTableSerializer(serializers.Serializer):
    table = serializers.CharField()
    checked = serializers.IntegerField()
    ok = serializers.BooleanField()
    first_broken_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
    complete = serializers.BooleanField(help_text="False when more rows than AUDIT_VERIFY_MAX_ROWS were appended.")
    since_rows = serializers.IntegerField(help_text="The chain's length at the digest or checkpoint checked against.")
    state_drift = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids (at most 20) of objects whose state their log does not explain: written outside a transition.",
    )


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every chain intact and no state drift.")
    against = serializers.ChoiceField(
        choices=["digest", "checkpoint", "start"],
        help_text="What the appended rows were checked against: the posted digest, the last signed checkpoint, or "
        "(no checkpoint yet) the start of each chain.",
    )
    tables = ChainTableSerializer(many=True)


class VerifyRequestSerializer(serializers.Serializer):
    digest = serializers.JSONField(
        required=False, help_text="A digest from GET /api/audit/digest/, kept by the auditor since then."
    )


class DigestTableSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    head_id = serializers.IntegerField(allow_null=True)
    head_hash = serializers.CharField(allow_blank=True)


class DigestSerializer(serializers.Serializer):
    """A signed checkpoint: per chained table its length and head; keep it to verify against later."""

    checkpoint = serializers.IntegerField()
    created_at = serializers.CharField(help_text="ISO 8601, UTC: part of what is signed, keep it as is.")
    tables = serializers.DictField(child=DigestTableSerializer())
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text="HMAC-SHA256 (hex) over created_at and tables.")


class FieldChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ChangeSerializer(serializers.Serializer):
    """One create, update or delete of a tracked record, from the change history."""

    id = serializers.CharField(help_text='"<model>:<event id>", unique across models.')
    model = serializers.CharField()
    object_id = serializers.IntegerField()
    object_label = serializers.CharField(
        allow_blank=True, help_text="The record for people: employee number and name, a code, a user's email."
    )
    action = serializers.ChoiceField(choices=["create", "update", "delete"])
    changes = serializers.DictField(
        child=FieldChangeSerializer(),
        help_text="Field → before/after: every field on create (before null) and delete (after null), the changed "
        "ones on update.",
    )
    actor = serializers.IntegerField(allow_null=True)
    actor_email = serializers.CharField(allow_blank=True)
    actor_label = serializers.CharField(help_text='The actor\'s email, or "system" or "database" when none.')
    created_at = serializers.DateTimeField()
    request_id = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class HistoryItemSerializer(serializers.Serializer):
    """One item of a record's history: a field change, a transition or a tag change (``kind``), its other keys
    as in /api/audit/changes/, the transition lists and /api/audit/tag-changes/."""

    kind = serializers.ChoiceField(choices=["change", "transition", "tag_change"])
    created_at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    actor_email = serializers.CharField(allow_blank=True)
    request_id = serializers.CharField(allow_blank=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        extra = {k: v for k, v in instance.items() if k not in data}
        return {**data, **serializers.JSONField().to_representation(json_safe(extra))}


def json_safe(value):
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


class AsOfSerializer(serializers.Serializer):
    employee = serializers.IntegerField()
    at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField(help_text="When the change that made this version was recorded.")
    record = serializers.JSONField(help_text="Every field of the employee as it was, state included.")

    def to_representation(self, instance):
        return super().to_representation({**instance, "record": json_safe(instance["record"])})


class ChainVerificationTableSerializer(serializers.Serializer):
    table = serializers.CharField()
    checked = serializers.IntegerField(help_text="Rows walked (up to and including the first broken one).")
    ok = serializers.BooleanField(help_text="The chain is intact and no object's state drifted from its log.")
    first_broken_id = serializers.IntegerField(allow_null=True, help_text="The first row whose link or hash fails.")
    problem = serializers.CharField(allow_blank=True)
    state_drift = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of objects whose state their log does not explain (at most 20; state-machine logs only).",
    )


class ChainVerificationSerializer(ModelSerializer):
    """One full walk of the audit trail (the nightly job, or ``manage.py verify_audit_chain``)."""

    tables = ChainVerificationTableSerializer(many=True, read_only=True)

    class Meta:
        model = ChainVerification
        fields = ("id", "started_at", "created_at", "status", "source", "rows_checked", "tables", "error")
        read_only_fields = fields  # a record of the workers' walks: nobody writes it through the API
