from rest_framework import serializers

from apps.api.models import Employee, Position
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog
from apps.tags.services import LEVEL_MAX, LEVEL_MIN
from backend.serializers import BoundedDateField, ModelSerializer, StrictIntegerField, StrictPrimaryKeyRelatedField


class TagRefField(StrictPrimaryKeyRelatedField):
    """A catalogue tag given by id or by code; rendered as its id."""

    default_error_messages = {
        **StrictPrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "No tag with id or code '{pk_value}'.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip() and not (data.strip().isascii() and data.strip().isdigit()):
            try:
                return self.get_queryset().get(code=data.strip())
            except TagCatalog.DoesNotExist:
                self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class TagCatalogSerializer(ModelSerializer):
    """A catalogue tag; ``code`` is unique."""

    class Meta:
        model = TagCatalog
        fields = ["id", "code", "name", "category", "is_active"]
        # The service checks uniqueness (and turns a racing IntegrityError into the same 400).
        extra_kwargs = {"code": {"validators": []}}


class _FixedIdentityMixin:
    """On update, the fields naming what the row is about cannot change: remove it and add another."""

    identity_fields: tuple[str, ...] = ()

    def validate(self, attrs):
        if self.instance is not None:
            errors = {}
            for field in self.identity_fields:
                if field in attrs and attrs.pop(field) != getattr(self.instance, field):
                    errors[field] = [f"{field} cannot be changed; remove this tag and add a new one instead."]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class EmployeeTagSerializer(_FixedIdentityMixin, ModelSerializer):
    """An employee's tag: level 1..10 over [valid_from, valid_until] (open-ended when valid_until is null)."""

    identity_fields = ("employee", "tag")

    employee = StrictPrimaryKeyRelatedField(queryset=Employee.objects.all())
    tag = TagRefField(queryset=TagCatalog.objects.all())
    tag_code = serializers.CharField(source="tag.code", read_only=True)
    tag_name = serializers.CharField(source="tag.name", read_only=True)
    level = StrictIntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX, required=False, default=1)
    valid_from = BoundedDateField(required=False)
    valid_until = BoundedDateField(required=False, allow_null=True)

    class Meta:
        model = EmployeeTag
        fields = ["id", "employee", "tag", "tag_code", "tag_name", "level", "valid_from", "valid_until"]
        validators = []  # the service checks (employee, tag, valid_from) and names the fields


class PositionTagSerializer(_FixedIdentityMixin, ModelSerializer):
    """A tag a position asks for, at least at ``min_level``; ``required`` false means nice to have."""

    identity_fields = ("position", "tag")

    position = StrictPrimaryKeyRelatedField(queryset=Position.objects.all())
    tag = TagRefField(queryset=TagCatalog.objects.all())
    tag_code = serializers.CharField(source="tag.code", read_only=True)
    tag_name = serializers.CharField(source="tag.name", read_only=True)
    min_level = StrictIntegerField(min_value=LEVEL_MIN, max_value=LEVEL_MAX, required=False, default=1)
    required = serializers.BooleanField(required=False, default=True)

    class Meta:
        model = PositionTag
        fields = ["id", "position", "tag", "tag_code", "tag_name", "min_level", "required"]
        validators = []  # the service checks (position, tag) and names the fields
