"""Admin for coverage requirements; saves and deletions go through apps.demand.services."""

import datetime

from django.contrib import admin
from django.utils import timezone

from apps.api.admin import PositionAdmin
from apps.demand import services
from apps.demand.coverage import coverage_by_position_week
from apps.demand.models import CoverageRequirement
from apps.demand.periods import Period
from backend.admin import Panel, ReadOnlyInline, add_file_inline, add_file_panel


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
    autocomplete_fields = ("position",)
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


# --- on the position's page ---------------------------------------------------------------------------------------

COVERAGE_WEEKS = 8


def _coming_weeks(request, position):
    """Coverage of this position for the coming eight ISO weeks (one query, ``coverage_by_position_week``)."""
    today = timezone.localdate()
    period = Period(today, today + datetime.timedelta(weeks=COVERAGE_WEEKS - 1))
    rows = coverage_by_position_week(positions=[position], period=period)
    columns = ["Week (Monday)", "Required people", "Assigned people", "Required h", "Assigned h", "Gap h", "Status"]
    cells = [
        [
            row["week"],
            row["required_headcount"],
            row["assigned_headcount"],
            row["required_hours"],
            row["assigned_hours"],
            row["gap_hours"],
            row["status"],
        ]
        for row in rows
    ]
    return columns, cells, "As GET /api/coverage/ computes it (docs/coverage.md)."


class CoverageRequirementInline(ReadOnlyInline):
    model = CoverageRequirement
    fields = ("valid_from", "valid_to", "required_headcount", "required_weekly_hours", "priority")
    ordering = ("-valid_from", "-id")
    select_related = ("position",)
    verbose_name_plural = "Coverage requirements (change them on their own page)"


add_file_inline(PositionAdmin, CoverageRequirementInline)
add_file_panel(PositionAdmin, Panel("Coverage of the coming weeks", _coming_weeks))
