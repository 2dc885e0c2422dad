"""Admin for coverage requirements (saves and deletions through apps.demand.services) and auto-plans (read-only,
with proposals and open gaps on the plan's page, and "Apply" through a preview/confirm page)."""

import datetime

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from rest_framework.exceptions import APIException

from apps.api.admin import PositionAdmin
from apps.api.timezones import org_unit_zone
from apps.demand import services
from apps.demand.choices import PlanStatus
from apps.demand.coverage import coverage_by_position_week
from apps.demand.models import CoverageRequirement, Plan
from apps.demand.periods import Period
from apps.demand.planning.services import plan_apply
from apps.demand.planning.snapshot import plan_snapshot, snapshot_changes
from apps.fsm.admin import refusal_text
from backend import timezones
from backend.admin import Panel, ReadOnlyInline, add_file_inline, add_file_panel


@admin.register(CoverageRequirement)
class CoverageRequirementAdmin(admin.ModelAdmin):
    list_display = (
        "position",
        "valid_from",
        "valid_to",
        "required_headcount",
        "required_weekly_hours",
        "priority",
    )
    list_filter = ("priority", "position__org_unit", "valid_from")
    search_fields = ("position__code", "position__title", "notes")
    list_select_related = ("position",)
    autocomplete_fields = ("position",)
    date_hierarchy = "valid_from"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.coverage_requirement_update(requirement=obj, **fields)
        else:
            saved = services.coverage_requirement_create(**fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.coverage_requirement_delete(requirement=obj)

    def delete_queryset(self, request, queryset):
        for requirement in queryset:
            services.coverage_requirement_delete(requirement=requirement)


# --- on the position's page ---------------------------------------------------------------------------------------

COVERAGE_WEEKS = 8


def _coming_weeks(request, position):
    """Coverage of this position for the coming eight ISO weeks (one query, ``coverage_by_position_week``)."""
    today = timezones.today(org_unit_zone(position.org_unit_id))
    period = Period(today, today + datetime.timedelta(weeks=COVERAGE_WEEKS - 1))
    rows = coverage_by_position_week(positions=[position], period=period)
    columns = ["Week (Monday)", "Required people", "Assigned people", "Required h", "Assigned h", "Gap h", "Status"]
    cells = [
        [
            row["week"],
            row["required_headcount"],
            row["assigned_headcount"],
            row["required_hours"],
            row["assigned_hours"],
            row["gap_hours"],
            row["status"],
        ]
        for row in rows
    ]
    return columns, cells, "As GET /api/coverage/ computes it (docs/coverage.md)."


class CoverageRequirementInline(ReadOnlyInline):
    model = CoverageRequirement
    fields = ("valid_from", "valid_to", "required_headcount", "required_weekly_hours", "priority")
    ordering = ("-valid_from", "-id")
    select_related = ("position",)
    verbose_name_plural = "Coverage requirements (change them on their own page)"


add_file_inline(PositionAdmin, CoverageRequirementInline)
add_file_panel(PositionAdmin, Panel("Coverage of the coming weeks", _coming_weeks))


def _table(headers: list[str], rows: list[list]) -> str:
    if not rows:
        return "—"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans with their metrics; a plan's page shows its proposals and open gaps; "Apply" previews, then confirms."""

    list_display = (
        "id",
        "status",
        "period_start",
        "period_end",
        "org_unit",
        "gap_closed",
        "fill_rate",
        "proposal_count",
        "solver_status",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "period_start", ("org_unit", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("org_unit", "created_by")
    search_fields = ("id", "org_unit__code", "created_by__email", "error")
    date_hierarchy = "created_at"
    fields = (
        "status",
        "progress",
        "period_start",
        "period_end",
        "org_unit",
        "positions",
        "objective",
        "seed",
        "time_limit",
        "error",
        "attempts",
        "metrics_table",
        "proposals_table",
        "gaps_table",
        "apply_link",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "applied_at",
        "applied_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # plans are asked for through the API (they need a solve on the queue)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="gap closed (h)")
    def gap_closed(self, plan):
        return plan.metrics.get("gap_hours_closed", "—")

    @admin.display(description="fill rate")
    def fill_rate(self, plan):
        rate = plan.metrics.get("fill_rate")
        return "—" if rate is None else f"{rate:.0%}"

    @admin.display(description="proposals")
    def proposal_count(self, plan):
        return plan.metrics.get("proposals", "—")

    @admin.display(description="solver")
    def solver_status(self, plan):
        status = plan.metrics.get("solver_status")
        gap = plan.metrics.get("optimality_gap")
        return "—" if status is None else f"{status} (gap {gap})"

    @admin.display(description="metrics")
    def metrics_table(self, plan):
        return _table(["metric", "value"], [[k, v] for k, v in sorted(plan.metrics.items())])

    @admin.display(description="proposals")
    def proposals_table(self, plan):
        rows = [
            [
                i,
                p["employee_number"],
                p["employee_name"],
                p["position_code"],
                p["weekly_hours"],
                p["gap_hours_filled"],
                "; ".join(p["reasons"]),
                "; ".join(w["message"] for w in p["warnings"]) or "—",
            ]
            for i, p in enumerate(plan.results.get("proposals", []))
        ]
        headers = ["#", "employee", "name", "position", "h/week", "gap filled (h)", "why", "warnings"]
        return _table(headers, rows)

    @admin.display(description="open gaps")
    def gaps_table(self, plan):
        rows = [
            [g["position_code"], g["week"], g["gap_hours"], "; ".join(g["reasons"])]
            for g in plan.results.get("gaps", [])
        ]
        return _table(["position", "week", "gap (h)", "why it stays open"], rows)

    @admin.display(description="apply")
    def apply_link(self, plan):
        if plan.status not in (PlanStatus.SOLVED, PlanStatus.STALE):
            return "—"
        return format_html('<a class="button" href="{}">Apply…</a>', reverse("admin:demand_plan_apply", args=[plan.pk]))

    def get_urls(self):
        extra = [path("<int:plan_id>/apply/", self.admin_site.admin_view(self.apply_view), name="demand_plan_apply")]
        return extra + super().get_urls()

    def apply_view(self, request, plan_id: int):
        """Preview (what would be created, what changed since solving), then confirm: the API's plan_apply."""
        plan = self.get_object(request, str(plan_id))
        if plan is None or request.user.role not in ("admin", "hr"):
            return HttpResponseRedirect(reverse("admin:demand_plan_changelist"))
        back = reverse("admin:demand_plan_change", args=[plan.pk])
        if request.method == "POST" and request.POST.get("confirm"):
            chosen = [int(i) for i in request.POST.getlist("proposal") if i.isdecimal()]
            try:
                outcome = plan_apply(
                    plan_id=plan.pk,
                    actor=request.user,
                    proposals=chosen,
                    approve=bool(request.POST.get("approve")),
                    force_revalidate=bool(request.POST.get("force_revalidate")),
                    acknowledge_warnings=bool(request.POST.get("acknowledge_warnings")),
                )
            except APIException as exc:
                self.message_user(request, f"Not applied: {refusal_text(exc)}", messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            self.message_user(request, f"Plan #{plan.pk} applied: {len(outcome['assignments'])} assignment(s) made.")
            return HttpResponseRedirect(back)
        proposals = plan.results.get("proposals", [])
        period = Period(plan.period_start, plan.period_end)
        employees = sorted({p["employee"] for p in proposals})
        positions = sorted({p["position"] for p in proposals})
        now = plan_snapshot(period=period, employee_ids=employees, position_ids=positions)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Apply plan #{plan.pk}?",
            "plan": plan,
            "proposals": list(enumerate(proposals)),
            "stale": snapshot_changes(plan.snapshot, now, employee_ids=employees, position_ids=positions),
            "back": back,
        }
        return TemplateResponse(request, "admin/demand/plan/apply_confirm.html", context)
