"""The tag catalogue and employee tags from and to spreadsheets (the generic import: ``apps.api.imports``).

Both save through ``apps.tags.services``, so every imported employee tag writes its ``TagChangeLog`` row with the
importing user as actor, and the services' own checks (an inactive tag cannot be newly assigned, one row per
employee, tag and start) refuse a row in the same words as the API.
"""

from apps.api.imports import ServiceResource, code_field
from apps.api.models import Employee
from apps.tags import services
from apps.tags.models import EmployeeTag, TagCatalog

TAG_COLUMNS = ("code", "name", "category", "is_active")


class TagCatalogResource(ServiceResource):
    """Catalogue tags by code: new codes are added, known ones renamed, recategorised or (de)activated."""

    import_columns = TAG_COLUMNS

    class Meta:
        model = TagCatalog
        fields = TAG_COLUMNS
        export_order = TAG_COLUMNS
        import_id_fields = ("code",)

    def service_save(self, instance, *, is_create, actor):
        data = {"code": instance.code or "", "name": instance.name or "", "category": instance.category}
        if instance.is_active is not None:
            data["is_active"] = instance.is_active
        if is_create:
            return services.tag_catalog_create(**data)
        return services.tag_catalog_update(tag=instance, **data)


EMPLOYEE_TAG_COLUMNS = ("employee_number", "tag", "level", "valid_from", "valid_until")


class EmployeeTagResource(ServiceResource):
    """Employee tags by (employee number, tag code, valid_from): a known one changes its level or end, a new one is
    added."""

    employee = code_field("employee", Employee, "employee_number", "employee with number", column="employee_number")
    tag = code_field("tag", TagCatalog, "code", "tag with code")
    import_columns = EMPLOYEE_TAG_COLUMNS
    constraint_messages = {
        "tags_employeetag_valid_range": ("valid_until", "Must be on or after valid_from."),
        "tags_employeetag_level_range": (
            "level",
            f"Must be a whole number from {services.LEVEL_MIN} to {services.LEVEL_MAX}.",
        ),
    }

    class Meta:
        model = EmployeeTag
        fields = ("employee", "tag", "level", "valid_from", "valid_until")
        export_order = ("employee", "tag", "level", "valid_from", "valid_until")
        import_id_fields = ("employee", "tag", "valid_from")

    def get_queryset(self):
        return EmployeeTag.objects.select_related("employee", "tag")

    def service_save(self, instance, *, is_create, actor):
        if is_create:
            return services.employee_tag_add(
                employee=instance.employee,
                tag=instance.tag,
                actor=actor,
                level=instance.level,
                valid_from=instance.valid_from,
                valid_until=instance.valid_until,
            )
        return services.employee_tag_change(
            employee_tag=instance, actor=actor, level=instance.level, valid_until=instance.valid_until
        )
