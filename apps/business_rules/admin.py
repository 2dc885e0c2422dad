"""Admin for the rule catalogue. Saves go through ``rule_create``/``rule_update`` (validated against the type's
schema, versioned, actor kept); rules are never deleted, only deactivated; snapshots are read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.registry import REGISTRY
from apps.business_rules.services import rule_create, rule_errors, rule_update
from backend.admin import ChangeReasonAdminMixin, ReadOnlyAdmin

EDITABLE = (
    "code",
    "name",
    "description",
    "rule_type",
    "params",
    "severity",
    "events",
    "org_unit",
    "position",
    "is_active",
    "valid_from",
    "valid_to",
)


class BusinessRuleForm(forms.ModelForm):
    rule_type = forms.ChoiceField(choices=lambda: [(k, k) for k in sorted(REGISTRY)])

    class Meta:
        model = BusinessRule
        fields = list(EDITABLE)

    def clean(self):
        data = super().clean()
        if self.instance.pk and "code" in data and data["code"] != self.instance.code:
            self.add_error("code", "A rule's code cannot change: logs cite it. Create a new rule.")
        if not self.errors:
            errors = rule_errors(
                rule_type=data.get("rule_type"),
                params=data.get("params"),
                events=data.get("events"),
                valid_from=data.get("valid_from"),
                valid_to=data.get("valid_to"),
            )
            if errors:
                # "params.max_hours" belongs to the params field; the message keeps the path.
                by_field: dict[str, list[str]] = {}
                for key, messages in errors.items():
                    field = key.split(".", 1)[0]
                    by_field.setdefault(field, []).extend(f"{key}: {m}" if key != field else m for m in messages)
                raise ValidationError(by_field)
        return data


class BusinessRuleVersionInline(admin.TabularInline):
    model = BusinessRuleVersion
    fields = ["version", "snapshot", "actor", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BusinessRule)
class BusinessRuleAdmin(ChangeReasonAdminMixin, admin.ModelAdmin):
    form = BusinessRuleForm
    list_display = ["code", "name", "rule_type", "severity", "is_active", "version", "valid_from", "valid_to"]
    list_filter = ["rule_type", "severity", "is_active", "org_unit"]
    search_fields = ["code", "name", "description"]
    readonly_fields = ["version", "created_at", "updated_at"]
    list_select_related = ["org_unit", "position"]
    inlines = [BusinessRuleVersionInline]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "code"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # logs cite (code, version): deactivate instead

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            fields.pop("code", None)
            saved = rule_update(rule=obj, actor=request.user, **fields)
        else:
            saved = rule_create(actor=request.user, **fields)
        obj.pk, obj.version = saved.pk, saved.version
        obj._state.adding = False


@admin.register(BusinessRuleVersion)
class BusinessRuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "version", "actor", "created_at"]
    list_filter = ["rule__rule_type"]
    search_fields = ["rule__code"]
    list_select_related = ["rule", "actor"]
    readonly_fields = ["rule", "version", "snapshot", "actor", "created_at"]
