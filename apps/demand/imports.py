"""Coverage requirements from and to spreadsheets (the generic import: ``apps.api.imports``)."""

from apps.api.imports import ServiceResource, code_field, instance_values
from apps.api.models import Position
from apps.demand import services
from apps.demand.models import CoverageRequirement

REQUIREMENT_COLUMNS = (
    "position",
    "valid_from",
    "valid_to",
    "required_headcount",
    "required_weekly_hours",
    "priority",
    "notes",
)


class CoverageRequirementResource(ServiceResource):
    """Requirements by (position code, valid_from): a known pair updates that requirement, a new one creates it."""

    position = code_field("position", Position, "code", "position with code")
    import_columns = REQUIREMENT_COLUMNS
    constraint_messages = {
        "demand_req_validity_range": ("valid_to", "Must be on or after valid_from."),
        "demand_req_hours_non_negative": ("required_weekly_hours", "Must not be negative."),
        "demand_req_priority_range": ("priority", "Must be from 1 (highest) to 5 (lowest)."),
    }

    class Meta:
        model = CoverageRequirement
        fields = REQUIREMENT_COLUMNS
        export_order = REQUIREMENT_COLUMNS
        import_id_fields = ("position", "valid_from")

    def get_queryset(self):
        return CoverageRequirement.objects.select_related("position")

    def service_save(self, instance, *, is_create, actor):
        data = instance_values(instance, services.EDITABLE_FIELDS)
        if is_create:
            return services.coverage_requirement_create(**data)
        return services.coverage_requirement_update(requirement=instance, **data)
