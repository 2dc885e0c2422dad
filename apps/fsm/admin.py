"""Admin for state machines: transitions as admin actions through the shared service, logs read-only.

Any ModelAdmin whose model has a ``TransitionKind`` mixes in ``TransitionActionsAdminMixin``: one action per
transition, each calling ``transition_perform`` (actor recorded, rules checked, log row written); a refusal
becomes an error message on the changelist, never a 500. The changelist's action bar (``TransitionActionForm``)
carries what the API's POST body carries: a reason, acknowledge_warnings and override_reason — nothing is filled in
for the user, so a ``reason_required`` rule refuses an action sent without one.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException

from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import TransitionKind, TransitionRequest, transition_perform
from backend.admin import ReadOnlyAdmin
from backend.exceptions import CoverisAPIError

# At most this many refusals are listed one by one; the rest are counted.
MAX_REFUSAL_MESSAGES = 10


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [
            text if key in ("non_field_errors", "detail") else f"{key}: {text}"
            for key, value in detail.items()
            for text in _flatten(value)
        ]
    if isinstance(detail, list | tuple):
        return [text for item in detail for text in _flatten(item)]
    return [str(detail)]


def refusal_text(exc: Exception) -> str:
    """A one-line, human reason for a refused transition (the API's error message, plus rule violations)."""
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, DjangoPermissionDenied):
        return str(exc) or "Permission denied."
    text = "; ".join(_flatten(exc.detail))
    details = getattr(exc, "details", None) if isinstance(exc, CoverisAPIError) else None
    if isinstance(details, dict):
        violations = [v.get("message") or v.get("rule") for v in details.get("violations", []) if isinstance(v, dict)]
        if violations:
            text += " (" + "; ".join(str(v) for v in violations) + ")"
        if "current_state" in details:
            text += f" Current state: {details['current_state']}."
    return text


def _transition_fields(max_length: int | None) -> dict[str, forms.Field]:
    return {
        "reason": forms.CharField(
            required=False, max_length=max_length, help_text="Why (kept in the log; rules may require one)."
        ),
        "acknowledge_warnings": forms.BooleanField(required=False, help_text="Proceed despite failing warn rules."),
        "override_reason": forms.CharField(
            required=False,
            max_length=max_length,
            help_text="Admins only: override failing block rules, for this reason (kept in the log).",
        ),
    }


# What the action receives, checked as the API's POST body is (an empty reason is "", never a default).
TransitionFieldsForm = type("TransitionFieldsForm", (forms.Form,), _transition_fields(max_length=2000))


# The changelist action bar, with the options beside the action select. No length limits there: a form error
# would make Django drop the action ("No action selected"); the action checks them itself and says what is wrong.
TransitionActionForm = type("TransitionActionForm", (ActionForm,), _transition_fields(max_length=None))


def _transition_action(name: str, label: str, plural: str):
    def action(modeladmin, request, queryset):
        modeladmin.perform_transition(request, queryset, name, label)

    action.__name__ = name
    return admin.action(description=f"{label} selected {plural}", permissions=["change"])(action)


class TransitionActionsAdminMixin:
    """Adds one admin action per transition of ``transition_kind``; each selected object succeeds or fails alone."""

    transition_kind: TransitionKind
    action_form = TransitionActionForm

    def get_actions(self, request):
        actions = super().get_actions(request)
        plural = str(self.model._meta.verbose_name_plural)
        for name in self.transition_kind.names:
            label = name.replace("_", " ").capitalize()
            func = _transition_action(name, label, plural)
            if self.has_change_permission(request):
                actions[name] = (func, name, func.short_description)
        return actions

    def perform_transition(self, request, queryset, name: str, label: str) -> None:
        fields = TransitionFieldsForm(request.POST)
        if not fields.is_valid():
            for field, errors in fields.errors.items():
                self.message_user(request, f"{label} not performed: {field}: {'; '.join(errors)}", messages.ERROR)
            return
        options = fields.cleaned_data
        done, refusals = 0, []
        for obj in queryset.order_by("pk"):
            try:
                transition_perform(
                    kind=self.transition_kind,
                    pk=obj.pk,
                    request=TransitionRequest(
                        name=name,
                        actor=request.user,
                        reason=options["reason"],
                        acknowledge_warnings=options["acknowledge_warnings"],
                        override_reason=options["override_reason"],
                    ),
                )
            except (APIException, DjangoValidationError, DjangoPermissionDenied) as exc:
                refusals.append(f"{obj}: {refusal_text(exc)}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{label}: done for {done} of {queryset.count()}.", messages.SUCCESS)
        for text in refusals[:MAX_REFUSAL_MESSAGES]:
            self.message_user(request, f"{label} refused for {text}", messages.ERROR)
        if len(refusals) > MAX_REFUSAL_MESSAGES:
            self.message_user(request, f"…and {len(refusals) - MAX_REFUSAL_MESSAGES} more refused.", messages.ERROR)


class TransitionLogAdmin(ReadOnlyAdmin):
    """A transition log table: searchable and filterable, never editable."""

    list_display = ("id", "created_at", "transition", "source_state", "target_state", "actor_email", "request_id")
    list_filter = ("transition", "source_state", "target_state")
    search_fields = ("actor_email", "reason", "request_id", "hash")
    date_hierarchy = "created_at"


@admin.register(EmployeeTransitionLog)
class EmployeeTransitionLogAdmin(TransitionLogAdmin):
    list_display = ("id", "created_at", "employee", *TransitionLogAdmin.list_display[2:])
    list_select_related = ("employee",)
    search_fields = ("employee__employee_number", "employee__last_name", *TransitionLogAdmin.search_fields)
    raw_id_fields = ("employee", "actor")
