"""Admin for the org tree, positions and employees; writes go through the same services as the API.

Employee transitions are admin actions calling ``apps.fsm.services.employee_transition`` (actor recorded,
rules checked, log row written); a refusal becomes an error message on the changelist, never a 500.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException

from apps.api.models import Employee, OrgUnit, Position
from apps.api.services import (
    employee_create,
    employee_update,
    org_unit_create,
    org_unit_move_refusal,
    org_unit_update,
    position_create,
    position_update,
)
from apps.fsm.choices import EmployeeTransition
from apps.fsm.services import employee_transition
from backend.exceptions import CoverisAPIError

# At most this many refusals are listed one by one; the rest are counted.
MAX_REFUSAL_MESSAGES = 10


def _adopt(obj, saved) -> None:
    """Make the admin's in-memory ``obj`` the row the service saved (it logs, redirects and messages with it)."""
    for field in obj._meta.concrete_fields:
        if getattr(field, "protected", False):  # an FSM-protected field cannot be set twice; services never change it
            continue
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def _model_fields(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


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


class OrgUnitAdminForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["code", "name", "parent", "is_active"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        refusal = org_unit_move_refusal(unit=self.instance, new_parent=parent)
        if refusal:
            raise forms.ValidationError(refusal)
        return parent


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    form = OrgUnitAdminForm
    list_display = ("code", "name", "parent", "depth", "path", "is_active")
    list_filter = ("is_active", "depth", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        # Through the services: they keep the materialized paths of the unit and its subtree right.
        data = _model_fields(form, ("code", "name", "parent", "is_active"))
        saved = org_unit_update(unit=obj, **data) if change else org_unit_create(**data)
        _adopt(obj, saved)


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "org_unit", "standard_weekly_hours", "is_active")
    list_filter = ("is_active", ("org_unit", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("org_unit",)
    search_fields = ("code", "title", "org_unit__code", "org_unit__name")
    autocomplete_fields = ("org_unit",)
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        data = _model_fields(form, ("code", "title", "org_unit", "standard_weekly_hours", "is_active"))
        saved = position_update(position=obj, **data) if change else position_create(**data)
        _adopt(obj, saved)


class EmployeeAdminForm(forms.ModelForm):
    class Meta:
        model = Employee
        fields = [
            "employee_number",
            "first_name",
            "last_name",
            "email",
            "user",
            "org_unit",
            "contracted_weekly_hours",
            "hire_date",
        ]

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if Employee.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Employee with this email already exists.")
        return email

    def clean_hire_date(self):
        hire_date = self.cleaned_data.get("hire_date")
        # termination_date is read-only here, so the model's own constraint check would skip it.
        termination_date = self.instance.termination_date if self.instance.pk else None
        if hire_date and termination_date and hire_date > termination_date:
            raise forms.ValidationError(f"Must not be after the termination date ({termination_date.isoformat()}).")
        return hire_date


def _transition_action(transition: EmployeeTransition):
    def action(modeladmin, request, queryset):
        modeladmin.perform_transition(request, queryset, transition)

    action.__name__ = transition.value
    return admin.action(description=f"{transition.label} selected employees", permissions=["change"])(action)


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    form = EmployeeAdminForm
    list_display = ("employee_number", "last_name", "first_name", "email", "org_unit", "state", "hire_date")
    list_filter = ("state", ("org_unit", admin.RelatedOnlyFieldListFilter), "hire_date")
    list_select_related = ("org_unit",)
    search_fields = ("employee_number", "first_name", "last_name", "email")
    autocomplete_fields = ("org_unit", "user")
    # The lifecycle writes these; HR changes them with the transition actions below.
    readonly_fields = ("state", "termination_date", "created_at", "updated_at")
    actions = [_transition_action(transition) for transition in EmployeeTransition]

    def save_model(self, request, obj, form, change):
        data = _model_fields(form, EmployeeAdminForm.Meta.fields)
        saved = employee_update(employee=obj, **data) if change else employee_create(**data)
        _adopt(obj, saved)

    def perform_transition(self, request, queryset, transition: EmployeeTransition) -> None:
        """Run one transition per selected employee through the service; each succeeds or is refused alone."""
        done, refusals = 0, []
        for employee in queryset.order_by("pk"):
            try:
                employee_transition(
                    employee_id=employee.pk, name=transition.value, actor=request.user, reason="admin action"
                )
            except (APIException, DjangoValidationError, DjangoPermissionDenied) as exc:
                refusals.append(f"{employee}: {refusal_text(exc)}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{transition.label}: done for {done} employee(s).", messages.SUCCESS)
        for text in refusals[:MAX_REFUSAL_MESSAGES]:
            self.message_user(request, f"{transition.label} refused for {text}", messages.ERROR)
        if len(refusals) > MAX_REFUSAL_MESSAGES:
            self.message_user(request, f"…and {len(refusals) - MAX_REFUSAL_MESSAGES} more refused.", messages.ERROR)
