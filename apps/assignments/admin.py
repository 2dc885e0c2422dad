"""Admin for assignments: proposals saved through the services, transitions as actions, the log read-only."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from rest_framework.exceptions import APIException

from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import ASSIGNMENT_TRANSITIONS, assignment_create, assignment_update
from apps.fsm.admin import TransitionActionsAdminMixin, TransitionLogAdmin, refusal_text

EDITABLE = ("employee", "position", "start_date", "end_date", "weekly_hours", "notes")


@admin.register(Assignment)
class AssignmentAdmin(TransitionActionsAdminMixin, admin.ModelAdmin):
    list_display = ("id", "employee", "position", "start_date", "end_date", "weekly_hours", "state")
    list_filter = ("state", ("position__org_unit", admin.RelatedOnlyFieldListFilter), "start_date")
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

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            saved, _ = assignment_update(assignment=obj, actor=request.user, acknowledge_warnings=True, **data)
        else:
            saved, _ = assignment_create(actor=request.user, acknowledge_warnings=True, **data)
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The services refuse (rules, scope, state) after the form validated: the admin's transaction rolls
        # back and the refusal is shown as a message instead of a 500.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except APIException as exc:
            self.message_user(request, f"Not saved: {refusal_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # assignments end by cancel, reject or complete


@admin.register(AssignmentTransitionLog)
class AssignmentTransitionLogAdmin(TransitionLogAdmin):
    list_display = ("id", "created_at", "assignment", *TransitionLogAdmin.list_display[2:])
    list_select_related = ("assignment__employee", "assignment__position")
    search_fields = ("assignment__employee__employee_number", *TransitionLogAdmin.search_fields)
    raw_id_fields = ("assignment", "actor")
