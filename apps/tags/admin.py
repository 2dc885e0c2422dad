"""Admin for the tag catalogue and tags. Saves and deletions go through apps.tags.services, so HR's edits
here write the same TagChangeLog rows as the API; the log itself is read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from import_export.admin import ImportExportMixin

from apps.api.admin import EmployeeAdmin, PositionAdmin
from apps.tags import services
from apps.tags.imports import EmployeeTagResource, TagCatalogResource
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from backend.admin import ChangeReasonAdminMixin, ReadOnlyAdmin, ReadOnlyInline, add_file_inline, adopt_saved


def _raise_service_errors(form: forms.ModelForm, errors: dict[str, list[str]]) -> None:
    """Show a service's validation errors on the form (fields the form lacks go to the top of the page)."""
    if errors:
        raise ValidationError({key if key in form.fields else None: value for key, value in errors.items()})


class TagCatalogForm(forms.ModelForm):
    class Meta:
        model = TagCatalog
        fields = ["code", "name", "category", "is_active"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            _raise_service_errors(
                self,
                services.tag_catalog_errors(
                    code=data["code"].strip(),
                    name=data["name"].strip(),
                    category=data["category"],
                    instance_id=self.instance.pk,
                ),
            )
        return data

    def validate_unique(self):
        pass  # clean() already checked the constraints, with the service's messages


class EmployeeTagForm(forms.ModelForm):
    class Meta:
        model = EmployeeTag
        fields = ["employee", "tag", "level", "valid_from", "valid_until"]

    def clean(self):
        data = super().clean()
        employee = data.get("employee") or getattr(self.instance, "employee", None)
        tag = data.get("tag") or getattr(self.instance, "tag", None)
        if not self.errors and employee and tag:
            _raise_service_errors(
                self,
                services.employee_tag_errors(
                    employee_id=employee.pk,
                    tag=tag,
                    level=data["level"],
                    valid_from=data["valid_from"],
                    valid_until=data.get("valid_until"),
                    instance_id=self.instance.pk,
                ),
            )
        return data

    def validate_unique(self):
        pass  # clean() already checked the constraints, with the service's messages


class PositionTagForm(forms.ModelForm):
    class Meta:
        model = PositionTag
        fields = ["position", "tag", "min_level", "required"]

    def clean(self):
        data = super().clean()
        position = data.get("position") or getattr(self.instance, "position", None)
        tag = data.get("tag") or getattr(self.instance, "tag", None)
        if not self.errors and position and tag:
            _raise_service_errors(
                self,
                services.position_tag_errors(
                    position_id=position.pk, tag=tag, min_level=data["min_level"], instance_id=self.instance.pk
                ),
            )
        return data

    def validate_unique(self):
        pass  # clean() already checked the constraints, with the service's messages


@admin.register(TagCatalog)
class TagCatalogAdmin(ImportExportMixin, admin.ModelAdmin):
    form = TagCatalogForm
    resource_classes = [TagCatalogResource]  # by code: apps/tags/imports.py
    list_display = ("code", "name", "category", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name")

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ("code", "name", "category", "is_active")}
        saved = services.tag_catalog_update(tag=obj, **fields) if change else services.tag_catalog_create(**fields)
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        services.tag_catalog_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for tag in queryset:
                services.tag_catalog_delete(tag=tag)


@admin.register(EmployeeTag)
class EmployeeTagAdmin(ChangeReasonAdminMixin, ImportExportMixin, admin.ModelAdmin):
    form = EmployeeTagForm
    # By (employee number, tag code, valid_from), through the services (each row logged): apps/tags/imports.py.
    resource_classes = [EmployeeTagResource]
    list_display = ("employee", "tag", "level", "valid_from", "valid_until")
    list_filter = ("tag__category", "tag", "level", "valid_from", "valid_until")
    list_select_related = ("employee", "tag")
    search_fields = ("employee__employee_number", "employee__last_name", "employee__email", "tag__code", "tag__name")
    autocomplete_fields = ("employee", "tag")
    date_hierarchy = "valid_from"

    def get_readonly_fields(self, request, obj=None):
        # The employee and tag are the row's identity: change them by removing the tag and adding another.
        return ("employee", "tag") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.employee_tag_change(
                employee_tag=obj,
                actor=request.user,
                level=data["level"],
                valid_from=data["valid_from"],
                valid_until=data.get("valid_until"),
            )
        else:
            saved = services.employee_tag_add(
                employee=data["employee"],
                tag=data["tag"],
                actor=request.user,
                level=data["level"],
                valid_from=data["valid_from"],
                valid_until=data.get("valid_until"),
            )
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        services.employee_tag_remove(employee_tag=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for employee_tag in queryset:
                services.employee_tag_remove(employee_tag=employee_tag, actor=request.user)


@admin.register(PositionTag)
class PositionTagAdmin(ChangeReasonAdminMixin, admin.ModelAdmin):
    form = PositionTagForm
    list_display = ("position", "tag", "min_level", "required")
    list_filter = ("required", "tag__category", "tag", "min_level")
    list_select_related = ("position", "tag")
    search_fields = ("position__code", "position__title", "tag__code", "tag__name")
    autocomplete_fields = ("position", "tag")

    def get_readonly_fields(self, request, obj=None):
        return ("position", "tag") if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.position_tag_change(
                position_tag=obj, actor=request.user, min_level=data["min_level"], required=data["required"]
            )
        else:
            saved = services.position_tag_add(
                position=data["position"],
                tag=data["tag"],
                actor=request.user,
                min_level=data["min_level"],
                required=data["required"],
            )
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        services.position_tag_remove(position_tag=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for position_tag in queryset:
                services.position_tag_remove(position_tag=position_tag, actor=request.user)


@admin.register(TagChangeLog)
class TagChangeLogAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only (the database refuses changes on PostgreSQL)."""

    list_display = ("created_at", "action", "target_type", "target_id", "employee", "position", "tag", "actor_email")
    list_filter = ("action", "target_type", "tag__category", "tag", "created_at")
    list_select_related = ("employee", "position", "tag")
    search_fields = ("actor_email", "request_id", "tag__code", "employee__employee_number", "position__code")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


# --- on the employee's and the position's pages ------------------------------------------------------------------


class EmployeeTagInline(ReadOnlyInline):
    model = EmployeeTag
    fields = ("tag", "level", "valid_from", "valid_until")
    ordering = ("tag__code", "-valid_from")
    select_related = ("tag", "employee")
    verbose_name_plural = "Tags with validity (change them on their own page)"


class EmployeeTagChangeInline(ReadOnlyInline):
    model = TagChangeLog
    fk_name = "employee"
    fields = ("created_at", "action", "tag", "before", "after", "actor_email")
    ordering = ("-created_at", "-id")
    select_related = ("tag", "employee")
    verbose_name_plural = "Tag changes (newest first)"


class PositionTagInline(ReadOnlyInline):
    model = PositionTag
    fields = ("tag", "min_level", "required")
    ordering = ("tag__code",)
    select_related = ("tag", "position")
    verbose_name_plural = "Required tags (change them on their own page)"


add_file_inline(EmployeeAdmin, EmployeeTagInline)
add_file_inline(EmployeeAdmin, EmployeeTagChangeInline)
add_file_inline(PositionAdmin, PositionTagInline)
