"""Admin for the audit trail's own records: the full walks of every chain (read-only)."""

from django.contrib import admin

from apps.audit_log.models import ChainVerification
from backend.admin import ReadOnlyAdmin


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
