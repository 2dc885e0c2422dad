"""Admin for the audit trail's own records (the full walks of every chain, read-only), and the audit lists' CSV
export: the API's own export (``AuditLogViewSet.csv_rows``: its serializer and the human identifiers — employee
number and name, position code, the actor's email) added as an action to the log admins of the apps this one reads
(they do not import the audit read side).

An employee's "History" page, and a section of their page, show what ``record_history`` merges — field changes
with before/after, transitions and tag changes — newest first, each with its actor and reason."""

import datetime

from django.contrib import admin, messages
from django.http import HttpResponse

from apps.api.admin import EmployeeAdmin
from apps.assignments.admin import AssignmentTransitionLogAdmin
from apps.audit_log.api.views import (
    CSV_MAX_ROWS,
    AssignmentTransitionLogViewSet,
    EmployeeTransitionLogViewSet,
    TagChangeLogViewSet,
)
from apps.audit_log.models import ChainVerification
from apps.audit_log.selectors import record_history
from apps.fsm.admin import EmployeeTransitionLogAdmin
from apps.tags.admin import TagChangeLogAdmin
from backend.admin import Panel, ReadOnlyAdmin, add_file_panel, set_history_panel
from backend.renderers import CSVRenderer


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    """Every full walk of the audit trail, newest first: broken ones name the first broken row per table."""

    list_display = ("created_at", "status", "source", "rows_checked", "broken_tables", "error")
    list_filter = ("status", "source")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    @admin.display(description="broken")
    def broken_tables(self, verification) -> str:
        broken = [
            f"{t['table']} (first broken id {t['first_broken_id']})" if t.get("first_broken_id") else t["table"]
            for t in verification.tables
            if not t.get("ok")
        ]
        return "; ".join(broken) or "—"


def csv_export_action(viewset):
    """An admin action exporting the selected log rows exactly as ``GET <the list>?format=csv`` would."""

    @admin.action(description="Export selected rows as CSV (with employee numbers, names and position codes)")
    def export_csv(modeladmin, request, queryset):
        rows = list(queryset.select_related(*viewset.csv_related()).order_by("created_at", "id")[: CSV_MAX_ROWS + 1])
        if len(rows) > CSV_MAX_ROWS:
            modeladmin.message_user(
                request,
                f"More than {CSV_MAX_ROWS} rows are selected: narrow the list with its filters and export again.",
                messages.ERROR,
            )
            return None
        body = CSVRenderer().render(viewset.csv_rows(rows, {"request": request}))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{viewset.log_model._meta.db_table}.csv"'
        return response

    return export_csv


for _admin, _viewset in (
    (EmployeeTransitionLogAdmin, EmployeeTransitionLogViewSet),
    (AssignmentTransitionLogAdmin, AssignmentTransitionLogViewSet),
    (TagChangeLogAdmin, TagChangeLogViewSet),
):
    _admin.actions = [*(_admin.actions or ()), csv_export_action(_viewset)]


COLUMNS = ("When (UTC)", "Who", "What", "Before → after", "Reason", "Request")
# The employee's page shows the latest rows; the History page shows them all.
PAGE_ROWS = 20


def _value(value) -> str:
    return "—" if value in (None, "") else str(value)


def _describe(item: dict) -> tuple[str, str]:
    """(what happened, before → after) of one trail item, in words."""
    if item["kind"] == "transition":
        what = f"transition {item['transition']}"
        if item.get("effective_date"):
            what += f" (effective {item['effective_date'].isoformat()})"
        return what, f"state: {item['source']} → {item['target']}"
    if item["kind"] == "tag_change":
        return f"tag {item['tag_code']} {item['action']}", f"{_value(item['before'])} → {_value(item['after'])}"
    changes = "\n".join(
        f"{field}: {_value(change['before'])} → {_value(change['after'])}" for field, change in item["changes"].items()
    )
    return f"{item['action']}d" if item["action"] != "update" else "changed", changes


def _who(item: dict) -> str:
    return item.get("actor_label") or item.get("actor_email") or "system"


def trail_rows(obj, *, limit: int | None = None) -> tuple[tuple, list[tuple], str]:
    """The merged trail of ``obj`` (an employee), newest first, as table rows; a constant number of queries."""
    items = record_history(model="employee", object_id=obj.pk)
    items.reverse()
    shown = items[:limit] if limit else items
    rows = []
    for item in shown:
        what, changes = _describe(item)
        when = item["created_at"].astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append((when, _who(item), what, changes, item.get("reason") or "", item.get("request_id") or ""))
    note = ""
    if len(items) > len(shown):
        note = f"The latest {len(shown)} of {len(items)}: the History page (top right) has them all."
    elif not items:
        note = "Nothing recorded yet."
    return COLUMNS, rows, note


def _page_section(request, obj):
    return trail_rows(obj, limit=PAGE_ROWS)


def _history_page(request, obj):
    return trail_rows(obj)


add_file_panel(EmployeeAdmin, Panel("Audit trail (newest first)", _page_section))
set_history_panel(EmployeeAdmin, Panel("Audit trail", _history_page))
