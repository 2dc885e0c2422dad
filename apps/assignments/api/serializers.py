from decimal import Decimal

from rest_framework import serializers

from apps.api.selectors import employee_list, position_list
from apps.assignments.models import Assignment
from backend.serializers import CompiledRepresentationMixin, ModelSerializer

READ_ONLY_ON_WRITE = ("state", "created_by", "created_at", "updated_at")


class AssignmentSerializer(CompiledRepresentationMixin, ModelSerializer):
    """An assignment; ``state`` changes only through POST /api/assignments/{id}/transitions/."""

    employee_name = serializers.CharField(source="employee.full_name", read_only=True)
    position_code = serializers.CharField(source="position.code", read_only=True)
    position_title = serializers.CharField(source="position.title", read_only=True)
    org_unit = serializers.IntegerField(source="position.org_unit_id", read_only=True)
    weekly_hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(168)
    )
    acknowledge_warnings = serializers.BooleanField(write_only=True, required=False, default=False)
    override_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="", max_length=2000
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "employee",
            "employee_name",
            "position",
            "position_code",
            "position_title",
            "org_unit",
            "start_date",
            "end_date",
            "weekly_hours",
            "notes",
            "state",
            "created_by",
            "created_at",
            "updated_at",
            "acknowledge_warnings",
            "override_reason",
        ]
        read_only_fields = ["state", "created_by", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # Only employees and positions the caller can see may be named: an id out of scope is answered like
            # an unknown one (400), so a manager cannot discover or staff people outside their subtree.
            fields["employee"].queryset = employee_list(user=request.user)
            fields["position"].queryset = position_list(user=request.user)
        return fields

    def validate(self, attrs):
        sent = set(getattr(self, "initial_data", {}) or {})
        refused = {name: ["Read-only."] for name in sent & {"created_by", "created_at", "updated_at"}}
        if "state" in sent:
            refused["state"] = ["State changes only through POST /api/assignments/{id}/transitions/."]
        if refused:
            raise serializers.ValidationError(refused)
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": ["Must be on or after start_date."]})
        return attrs
