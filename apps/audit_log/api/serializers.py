import datetime
from functools import cache

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from apps.fsm.api.serializers import TransitionLogSerializer
from apps.tags.models import TagChangeLog
from backend.serializers import ModelSerializer


@cache
def transition_log_serializer(log_model: type[models.Model]) -> type[TransitionLogSerializer]:
    """The shared ``TransitionLogSerializer`` with the object declared under its own name (for the schema).

    The representation is unchanged: the base already adds ``<subject_field>: id``.
    """
    subject = log_model.subject_field
    return type(
        f"{log_model.__name__}Serializer",
        (TransitionLogSerializer,),
        {subject: serializers.IntegerField(source=f"{subject}_id")},
    )


class TagChangeLogSerializer(ModelSerializer):
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
    state_drift = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids (at most 20) of objects whose state their log does not explain: written outside a transition.",
    )


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every chain intact and no state drift.")
    tables = ChainTableSerializer(many=True)
