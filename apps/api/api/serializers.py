"""Serializers for org units, positions and employees: field validation only; writes happen in services."""

from collections.abc import Mapping
from decimal import Decimal

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from apps.api.imports import resource_from_path
from apps.api.models import Employee, ImportJob, OrgUnit, Position
from apps.api.services import EMPLOYEE_LIFECYCLE_FIELDS, employee_lifecycle_refusal
from apps.api.timezones import org_unit_zone
from backend.serializers import CompiledRepresentationMixin, ModelSerializer

MAX_WEEKLY_HOURS = Decimal(168)


class OrgUnitSerializer(ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, allow_null=True)
    effective_time_zone = serializers.SerializerMethodField(
        help_text="The zone that decides this unit's day: its own time_zone, else the nearest ancestor's, "
        "else COVERIS_TIME_ZONE."
    )

    def get_effective_time_zone(self, unit) -> str:
        annotated = getattr(unit, "effective_time_zone", None)
        return annotated if annotated is not None else org_unit_zone(unit.pk).key

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "code",
            "name",
            "parent",
            "parent_code",
            "path",
            "depth",
            "is_active",
            "time_zone",
            "effective_time_zone",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["path", "depth", "created_at", "updated_at"]


class PositionSerializer(ModelSerializer):
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = Position
        fields = [
            "id",
            "code",
            "title",
            "org_unit",
            "org_unit_code",
            "org_unit_name",
            "standard_weekly_hours",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"standard_weekly_hours": {"max_value": MAX_WEEKLY_HOURS}}

    def validate_standard_weekly_hours(self, value: Decimal) -> Decimal:
        if value <= 0:
            raise serializers.ValidationError("Must be more than 0.")
        return value


class EmployeeSerializer(CompiledRepresentationMixin, ModelSerializer):
    """``state`` and ``termination_date`` are read-only: a body that sends them is refused, not ignored."""

    full_name = serializers.CharField(read_only=True)
    org_unit_code = serializers.CharField(source="org_unit.code", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "employee_number",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "user",
            "org_unit",
            "org_unit_code",
            "org_unit_name",
            "contracted_weekly_hours",
            "hire_date",
            "termination_date",
            "state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["state", "termination_date", "created_at", "updated_at"]
        extra_kwargs = {
            "email": {"validators": [UniqueValidator(queryset=Employee.objects.all(), lookup="iexact")]},
            "contracted_weekly_hours": {"min_value": Decimal(0), "max_value": MAX_WEEKLY_HOURS},
        }

    def to_internal_value(self, data):
        employee_id = self.instance.pk if isinstance(self.instance, Employee) else None
        refused = {}
        if isinstance(data, Mapping):
            refused = {
                name: [employee_lifecycle_refusal(name, employee_id)]
                for name in EMPLOYEE_LIFECYCLE_FIELDS
                if name in data
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def validate_email(self, value: str) -> str:
        return value.lower()  # uniqueness is checked case-insensitively; store one spelling

    def validate(self, attrs: dict) -> dict:
        termination_date = self.instance.termination_date if self.instance else None
        hire_date = attrs.get("hire_date")
        if termination_date and hire_date and hire_date > termination_date:
            raise serializers.ValidationError(
                {"hire_date": [f"Must not be after the termination date ({termination_date.isoformat()})."]}
            )
        return attrs


class ImportRequestSerializer(serializers.Serializer):
    """``POST …/import/``: a CSV or XLSX file; ``dry_run`` reports what would happen and writes nothing."""

    file = serializers.FileField(help_text="A .csv (UTF-8) or .xlsx file whose first row names the columns.")
    dry_run = serializers.BooleanField(default=False)


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the file (the header is row 1).")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    committed = serializers.BooleanField(help_text="True when the rows were written (never on a dry run).")
    totals = serializers.DictField(child=serializers.IntegerField(), help_text="Rows per outcome: new, update, skip.")
    errors = ImportRowErrorSerializer(many=True)


class ImportJobSerializer(ModelSerializer):
    """A large import running on the job queue: poll it until ``status`` is ``done`` (or ``failed``)."""

    kind = serializers.SerializerMethodField(help_text='What the file imports, e.g. "employee tags".')
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)
    totals = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Rows per outcome once done: new, update, skip."
    )
    errors = ImportRowErrorSerializer(many=True, read_only=True, help_text="Once done: every bad row, in words.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "dry_run",
            "rows",
            "status",
            "committed",
            "totals",
            "errors",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_kind(self, job) -> str:
        try:
            return str(resource_from_path(job.resource)._meta.model._meta.verbose_name_plural)
        except ImportError:
            return job.resource
