"""Admin for the org tree, positions and employees; writes go through the same services as the API.

Employee transitions are admin actions through the shared service (``apps.fsm.admin``): actor recorded,
rules checked, log row written; a refusal becomes an error message on the changelist, never a 500.
"""

from django import forms
from django.apps import apps
from django.contrib import admin
from import_export.admin import ImportExportMixin
from rangefilter.filters import DateRangeFilter

from apps.api.api.serializers import ImportJobSerializer
from apps.api.imports import EmployeeResource, PositionResource, RowProblem
from apps.api.models import Employee, ImportJob, OrgUnit, Position
from apps.api.services import (
    employee_create,
    employee_update,
    org_unit_create,
    org_unit_move_refusal,
    org_unit_update,
    position_create,
    position_update,
)
from apps.fsm.admin import (
    EmployeeTransitionLogInline,
    ServiceModelForm,
    ServiceSaveAdminMixin,
    TransitionActionsAdminMixin,
)
from apps.fsm.services import EMPLOYEE_TRANSITIONS
from backend import timezones
from backend.admin import ChangeReasonAdminMixin, FileAdminMixin, ReadOnlyAdmin, adopt_saved


def _model_fields(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def org_unit_subtree_filter(field_path: str, title: str = "org unit (with sub-units)"):
    """A list filter by org unit that includes its whole subtree (one ``path`` prefix test, no recursion)."""

    class OrgUnitSubtreeFilter(admin.SimpleListFilter):
        parameter_name = "org_unit_subtree"

        def lookups(self, request, model_admin):
            units = OrgUnit.objects.order_by("path").only("pk", "code", "name", "depth")
            return [(str(unit.pk), f"{'· ' * unit.depth}{unit.code} — {unit.name}") for unit in units]

        def queryset(self, request, queryset):
            if not (self.value() or "").isascii() or not (self.value() or "").isdigit():
                return queryset
            unit = OrgUnit.objects.filter(pk=int(self.value())).only("path").first()
            if unit is None:
                return queryset.none()
            return queryset.filter(**{f"{field_path}__path__startswith": unit.path})

    OrgUnitSubtreeFilter.title = title
    return OrgUnitSubtreeFilter


class HoldsTagFilter(admin.SimpleListFilter):
    """Employees holding a tag today (valid_from ≤ today ≤ valid_until or open-ended)."""

    title = "holds tag (today)"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        catalogue = apps.get_model("tags", "TagCatalog").objects.order_by("code")  # tags build on this app
        return [(str(pk), f"{code} — {name}") for pk, code, name in catalogue.values_list("pk", "code", "name")]

    def queryset(self, request, queryset):
        value = self.value() or ""
        if not (value.isascii() and value.isdigit()):
            return queryset
        today = timezones.today()  # the organisation's day
        held = apps.get_model("tags", "EmployeeTag").objects.filter(tag_id=int(value), valid_from__lte=today)
        held = held.exclude(valid_until__lt=today)
        return queryset.filter(pk__in=held.values("employee_id"))


class OrgUnitAdminForm(ServiceModelForm):
    """Saved through the services (they keep the materialized paths of the unit and its subtree right); a refusal is
    an error at the top of the form, with what was typed kept."""

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "parent", "is_active", "time_zone"]

    def service_save(self, data: dict) -> OrgUnit:
        fields = self.service_fields(data)
        return org_unit_update(unit=self.instance, **fields) if self.instance.pk else org_unit_create(**fields)

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        refusal = org_unit_move_refusal(unit=self.instance, new_parent=parent)
        if refusal:
            raise forms.ValidationError(refusal)
        return parent


@admin.register(OrgUnit)
class OrgUnitAdmin(ChangeReasonAdminMixin, ServiceSaveAdminMixin, admin.ModelAdmin):
    form = OrgUnitAdminForm
    list_display = ("code", "name", "parent", "depth", "path", "time_zone", "is_active")
    list_filter = ("is_active", "depth", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "depth", "created_at", "updated_at")


@admin.register(Position)
class PositionAdmin(ChangeReasonAdminMixin, ImportExportMixin, FileAdminMixin, admin.ModelAdmin):
    """A position's page is its file: requirements, coverage of the coming weeks, assigned people (other apps add
    them with ``backend.admin.add_file_inline``/``add_file_panel``)."""

    list_display = ("code", "title", "org_unit", "standard_weekly_hours", "is_active")
    list_filter = ("is_active", org_unit_subtree_filter("org_unit"))
    list_select_related = ("org_unit",)
    search_fields = ("code", "title", "org_unit__code", "org_unit__name")
    autocomplete_fields = ("org_unit",)
    readonly_fields = ("created_at", "updated_at")
    resource_classes = [PositionResource]  # import/export by code, org units by code: apps/api/imports.py

    def save_model(self, request, obj, form, change):
        data = _model_fields(form, ("code", "title", "org_unit", "standard_weekly_hours", "is_active"))
        saved = position_update(position=obj, **data) if change else position_create(**data)
        adopt_saved(obj, saved)


class EmployeeAdminForm(ServiceModelForm):
    """Saved through the services (actor recorded, the hours ledger re-rated); a refusal is an error at the top of
    the form, with what was typed kept."""

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

    def service_save(self, data: dict) -> Employee:
        fields = self.service_fields(data)
        if self.instance.pk:
            return employee_update(employee=self.instance, actor=self.actor, **fields)
        return employee_create(**fields)


@admin.register(Employee)
class EmployeeAdmin(
    ChangeReasonAdminMixin,
    ImportExportMixin,
    ServiceSaveAdminMixin,
    TransitionActionsAdminMixin,
    FileAdminMixin,
    admin.ModelAdmin,
):
    """An employee's page is their file: state and transition buttons, transitions (newest first), and what other
    apps add — assignments, tags with validity and their changes, the weekly hours balance."""

    form = EmployeeAdminForm
    # Fits 1280 px with the filter sidebar: the state stays visible (the email is on the page and searchable).
    list_display = ("employee_number", "last_name", "first_name", "state", "org_unit", "hire_date")
    list_filter = ("state", org_unit_subtree_filter("org_unit"), HoldsTagFilter, ("hire_date", DateRangeFilter))
    list_select_related = ("org_unit",)
    search_fields = ("employee_number", "first_name", "last_name", "email")
    autocomplete_fields = ("org_unit", "user")
    # The lifecycle writes these; HR changes them with the transition actions below.
    readonly_fields = ("state", "termination_date", "created_at", "updated_at")
    transition_kind = EMPLOYEE_TRANSITIONS
    inlines = [EmployeeTransitionLogInline]
    # Import (CSV/XLSX, preview with per-row errors, all or nothing) and export: apps/api/imports.py.
    resource_classes = [EmployeeResource]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Large imports sent to the API run on the job queue (apps/api/jobs.py): their status and report, read-only."""

    list_display = ("id", "file_name", "kind", "rows", "dry_run", "status", "committed", "created_by", "created_at")
    list_filter = ("status", "dry_run", "committed")
    list_select_related = ("created_by",)
    search_fields = ("file_name", "created_by__email")
    exclude = ("content",)
    readonly_fields = ("kind", "row_errors")

    @admin.display(description="imports")
    def kind(self, job) -> str:
        return ImportJobSerializer().get_kind(job)

    @admin.display(description="errors per row")
    def row_errors(self, job) -> str:
        problems = [RowProblem(row=e["row"], errors=e["errors"]) for e in job.errors or []]
        return "\n".join(f"row {p.row}: {'; '.join(p.messages())}" for p in problems) or "—"
