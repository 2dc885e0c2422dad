"""Admin for the hours ledger and clock events: read-only. Entries are posted by the services (transitions, clock-outs,
POST /api/hours-ledger/entries/ for manual adjustments); corrections are reversing entries, never edits."""

import datetime

from django.contrib import admin

from apps.api.admin import EmployeeAdmin
from apps.api.timezones import employee_today
from apps.offer.models import ClockEvent, LedgerEntry
from apps.offer.selectors import balance_rows
from backend.admin import Panel, ReadOnlyAdmin, ReadOnlyInline, add_file_inline, add_file_panel


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


# --- on the employee's page ---------------------------------------------------------------------------------------

BALANCE_WEEKS_BACK, BALANCE_WEEKS_AHEAD = 2, 6


def _weekly_balance(request, employee):
    """The employee's balance for the last two and the next six ISO weeks (one query, ``balance_rows``)."""
    today = employee_today(employee)
    start = today - datetime.timedelta(weeks=BALANCE_WEEKS_BACK)
    end = today + datetime.timedelta(weeks=BALANCE_WEEKS_AHEAD)
    rows = balance_rows(employee_ids=[employee.pk], start=start, end=end)
    columns = ["Week (Monday)", "Contracted", "Assigned", "Leave", "Worked", "Available"]
    cells = [
        [row["week"].isoformat(), row["contracted"], row["assigned"], row["leave"], row["worked"], row["available"]]
        for row in rows
    ]
    note = "Hours per ISO week from the ledger (docs/ledger.md); negative available hours mean over-assigned."
    return columns, cells, note


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fk_name = "employee"
    fields = ("created_at", "kind", "hours", "period_start", "period_end", "source", "reason", "actor_email")
    ordering = ("-created_at", "-id")
    max_rows = 20
    verbose_name_plural = "Hours ledger (latest 20 entries)"


add_file_panel(EmployeeAdmin, Panel("Weekly hours balance", _weekly_balance))
add_file_inline(EmployeeAdmin, LedgerEntryInline)
