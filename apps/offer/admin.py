"""Admin for the hours ledger and clock events: read-only. Entries are posted by the services (transitions, clock-outs,
POST /api/hours-ledger/entries/ for manual adjustments); corrections are reversing entries, never edits."""

from django.contrib import admin

from apps.offer.models import ClockEvent, LedgerEntry
from backend.admin import ReadOnlyAdmin


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "employee", "kind", "adjusts", "basis", "hours", "period_start", "period_end", "source")
    list_filter = ("kind", "adjusts", "basis", "source")
    search_fields = ("employee__employee_number", "employee__last_name", "reason", "actor_email", "request_id")
    list_select_related = ("employee",)
    raw_id_fields = ("employee", "assignment", "clock_event", "reverses", "actor")
    date_hierarchy = "period_start"


@admin.register(ClockEvent)
class ClockEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "employee", "day", "clock_in_at", "clock_out_at")
    list_filter = ("day",)
    search_fields = ("employee__employee_number", "employee__last_name", "request_id")
    list_select_related = ("employee",)
    raw_id_fields = ("employee", "clocked_in_by", "clocked_out_by")
    date_hierarchy = "day"
