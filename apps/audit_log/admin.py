"""Admin for the audit trail's own records (the full walks of every chain, read-only), and the audit lists' CSV
export: the API's own export (``AuditLogViewSet.csv_rows``: its serializer and the human identifiers — employee
number and name, position code, the actor's email) added as an action to the log admins of the apps this one reads
(they do not import the audit read side)."""

from django.contrib import admin, messages
from django.http import HttpResponse

from apps.assignments.admin import AssignmentTransitionLogAdmin
from apps.audit_log.api.views import (
    CSV_MAX_ROWS,
    AssignmentTransitionLogViewSet,
    EmployeeTransitionLogViewSet,
    TagChangeLogViewSet,
)
from apps.audit_log.models import ChainVerification
from apps.fsm.admin import EmployeeTransitionLogAdmin
from apps.tags.admin import TagChangeLogAdmin
from backend.admin import ReadOnlyAdmin
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
