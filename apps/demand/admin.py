"""Admin for coverage requirements; saves and deletions go through apps.demand.services."""

from django.contrib import admin

from apps.demand import services
from apps.demand.models import CoverageRequirement


@admin.register(CoverageRequirement)
class CoverageRequirementAdmin(admin.ModelAdmin):
    list_display = (
        "position",
        "valid_from",
        "valid_to",
        "required_headcount",
        "required_weekly_hours",
        "priority",
    )
    list_filter = ("priority", "position__org_unit", "valid_from")
    search_fields = ("position__code", "position__title", "notes")
    list_select_related = ("position",)
    raw_id_fields = ("position",)
    date_hierarchy = "valid_from"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.coverage_requirement_update(requirement=obj, **fields)
        else:
            saved = services.coverage_requirement_create(**fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.coverage_requirement_delete(requirement=obj)

    def delete_queryset(self, request, queryset):
        for requirement in queryset:
            services.coverage_requirement_delete(requirement=requirement)
