"""Admin building blocks shared by every app: read-only admins and inlines, and a record page ("file") that other
apps add inlines and panels to without the owning app importing them."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from backend.audit.context import REASON_MAX_LENGTH, audit_context


def adopt_saved(obj, saved) -> None:
    """Make the admin's in-memory ``obj`` the row a service saved (the admin logs, redirects and messages with it)."""
    for field in obj._meta.concrete_fields:
        if getattr(field, "protected", False):  # an FSM-protected field cannot be set twice; services never change it
            continue
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: no add, change or delete (log tables, the ledger, snapshots)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ChangeReasonAdminMixin:
    """A "Reason for this change" box on the record's form: what is typed there reaches the change-history rows
    the save writes (``pgh_context.reason``), as ``X-Change-Reason`` does for the API. Optional, like the API's."""

    change_reason_field = "change_reason"

    def get_form(self, request, obj=None, **kwargs):
        base = kwargs.get("form", self.form)
        field = forms.CharField(
            label="Reason for this change",
            required=False,
            max_length=REASON_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Recorded with the change in the audit trail.",
        )
        kwargs["form"] = type(f"{base.__name__}WithReason", (base,), {self.change_reason_field: field})
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self.change_reason_field not in flatten_fieldsets(fieldsets):
            fieldsets.append(("Audit", {"fields": [self.change_reason_field]}))
        return fieldsets

    def save_form(self, request, form, change):
        # Called before ``save_model`` (which admins override to call their service) and ``save_related``: the
        # reason joins the request's change-history context (HistoryContextMiddleware) for every write after it.
        with audit_context(reason=form.cleaned_data.get(self.change_reason_field, "").strip()):
            return super().save_form(request, form, change)


class CappedInlineFormSet(BaseInlineFormSet):
    """The first ``max_rows`` rows of the record's related rows (a long log stays one page)."""

    max_rows = 50

    def get_queryset(self):
        if not hasattr(self, "_capped"):
            self._capped = super().get_queryset()[: self.max_rows]
        return self._capped


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on a record's page for reading (logs, related objects changed elsewhere), each linking to its own
    page; ``fields`` are all read-only; the first ``max_rows`` rows in ``ordering``, relations ``select_related``."""

    extra = 0
    can_delete = False
    show_change_link = True
    max_rows = 50
    select_related: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return self.fields or ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_formset(self, request, obj=None, **kwargs):
        formset = type("Capped", (CappedInlineFormSet,), {"max_rows": self.max_rows})
        return super().get_formset(request, obj, formset=formset, **kwargs)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@dataclass(frozen=True)
class Panel:
    """A table on a record's page computed from the record: ``rows(request, obj) -> (columns, rows, note)``."""

    title: str
    rows: Callable


class FileAdminMixin:
    """A record's page as its file: inlines and panels other apps register (``add_file_inline``/``add_file_panel``),
    so the app owning the model does not import the apps that hang things on it."""

    change_form_template = "admin/coveris/change_form_file.html"
    file_panels: tuple[Panel, ...] = ()
    # The record's "History" page shows this panel instead of Django's admin log, when an app sets one
    # (``set_history_panel``): the audit trail, which also has what was changed outside the admin.
    history_panel: Panel | None = None

    class Media:
        css = {"all": ("coveris/admin.css",)}  # the file page's panels, and lists whose long names wrap

    def get_inline_instances(self, request, obj=None):
        # Read-only inlines show a saved record's rows; an add page has none, and a POST has nothing of theirs to
        # save (a browser posts their management forms, a script need not).
        inlines = super().get_inline_instances(request, obj)
        if obj is None or request.method == "POST":
            inlines = [inline for inline in inlines if not isinstance(inline, ReadOnlyInline)]
        return inlines

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["file_panels"] = [self._panel(panel, request, obj) for panel in self.file_panels]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        if self.history_panel is None:
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            "trail": self._panel(self.history_panel, request, obj),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/coveris/object_history_trail.html", context)

    @staticmethod
    def _panel(panel: Panel, request, obj) -> dict:
        columns, rows, note = panel.rows(request, obj)
        return {"title": panel.title, "columns": columns, "rows": rows, "note": note}


def add_file_inline(model_admin: type, inline: type) -> None:
    """Show ``inline`` on ``model_admin``'s record pages (call from the inline's own app's admin module)."""
    if inline not in model_admin.inlines:
        model_admin.inlines = [*model_admin.inlines, inline]


def set_history_panel(model_admin: type, panel: Panel) -> None:
    """Show ``panel`` as ``model_admin``'s History page (call from the panel's own app's admin module)."""
    model_admin.history_panel = panel


def add_file_panel(model_admin: type, panel: Panel) -> None:
    """Show ``panel`` on ``model_admin``'s record pages, below the form."""
    if panel not in model_admin.file_panels:
        model_admin.file_panels = (*model_admin.file_panels, panel)
