"""Admin for assignments: proposals saved through the services, transitions as a preview/confirm flow, the log
read-only; an employee's and a position's pages list their assignments."""

from django import forms
from django.contrib import admin
from rangefilter.filters import DateRangeFilter

from apps.api.admin import EmployeeAdmin, PositionAdmin, org_unit_subtree_filter
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import ASSIGNMENT_TRANSITIONS, assignment_create, assignment_update
from apps.fsm.admin import (
    ServiceModelForm,
    ServiceSaveAdminMixin,
    TransitionActionsAdminMixin,
    TransitionLogAdmin,
    TransitionLogInline,
)
from backend.admin import FileAdminMixin, ReadOnlyInline, add_file_inline

EDITABLE = ("employee", "position", "start_date", "end_date", "weekly_hours", "notes")


class AssignmentAdminForm(ServiceModelForm):
    """A proposal's form. The service's refusals (rules, state, scope) are form errors at the top of the page, with
    everything typed kept (``ServiceModelForm``: ``clean`` asks the service, in a savepoint it rolls back)."""

    acknowledge_warnings = forms.BooleanField(
        required=False, help_text="Save despite the failing warn rules named above (they are kept in the results)."
    )

    class Meta:
        model = Assignment
        fields = list(EDITABLE)

    def service_save(self, data: dict) -> Assignment:
        fields = self.service_fields(data)
        acknowledge = data.get("acknowledge_warnings", False)
        if self.instance.pk:
            saved, _ = assignment_update(
                assignment=self.instance, actor=self.actor, acknowledge_warnings=acknowledge, **fields
            )
        else:
            saved, _ = assignment_create(actor=self.actor, acknowledge_warnings=acknowledge, **fields)
        return saved


@admin.register(Assignment)
class AssignmentAdmin(ServiceSaveAdminMixin, TransitionActionsAdminMixin, FileAdminMixin, admin.ModelAdmin):
    list_display = ("employee", "position", "state", "start_date", "end_date", "weekly_hours")
    list_filter = (
        "state",
        org_unit_subtree_filter("position__org_unit", "position's org unit (with sub-units)"),
        ("start_date", DateRangeFilter),
        ("end_date", DateRangeFilter),
    )
    list_select_related = ("employee", "position")
    search_fields = ("employee__employee_number", "employee__last_name", "position__code", "position__title", "notes")
    autocomplete_fields = ("employee", "position")
    readonly_fields = ("state", "created_by", "created_at", "updated_at")
    date_hierarchy = "start_date"
    transition_kind = ASSIGNMENT_TRANSITIONS

    def get_readonly_fields(self, request, obj=None):
        # Only proposals are edited; later changes are transitions (the actions on the list).
        if obj is not None and obj.state != "proposed":
            return (*EDITABLE, *self.readonly_fields)
        return self.readonly_fields

    form = AssignmentAdminForm

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # assignments end by cancel, reject or complete


@admin.register(AssignmentTransitionLog)
class AssignmentTransitionLogAdmin(TransitionLogAdmin):
    list_display = tuple(name if name != "subject" else "assignment" for name in TransitionLogAdmin.list_display)
    list_select_related = ("assignment__employee", "assignment__position")
    search_fields = ("assignment__employee__employee_number", *TransitionLogAdmin.search_fields)


class AssignmentTransitionLogInline(TransitionLogInline):
    model = AssignmentTransitionLog


AssignmentAdmin.inlines = [AssignmentTransitionLogInline]


class EmployeeAssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ("position", "start_date", "end_date", "weekly_hours", "state")
    ordering = ("-start_date", "-id")
    select_related = ("position", "employee")
    verbose_name_plural = "Assignments (latest start first)"


class PositionAssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ("employee", "start_date", "end_date", "weekly_hours", "state")
    ordering = ("-start_date", "-id")
    select_related = ("position", "employee")
    verbose_name_plural = "Assigned people (latest start first)"


add_file_inline(EmployeeAdmin, EmployeeAssignmentInline)
add_file_inline(PositionAdmin, PositionAssignmentInline)
