"""Admin for coverage requirements (saves and deletions through apps.demand.services) and auto-plans (read-only,
with proposals and open gaps on the plan's page, and "Apply" through a preview/confirm page)."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportMixin

from apps.api.admin import PositionAdmin
from apps.api.models import Employee
from apps.api.timezones import org_unit_zone, todays_by_unit
from apps.assignments.models import Assignment
from apps.demand import services
from apps.demand.choices import PlanStatus
from apps.demand.coverage import coverage_by_position_week
from apps.demand.imports import CoverageRequirementResource
from apps.demand.models import CoverageRequirement, Plan
from apps.demand.periods import Period
from apps.demand.planning.preview import ApplyChoice, plan_apply_confirm, plan_apply_preview
from apps.fsm.admin import (
    MAX_NAMED_DONE,
    TransitionFlowForm,
    default_effective_date,
    refusal_text,
    render_preview_confirm,
)
from apps.fsm.preview import REFUSALS
from apps.users.choices import Role
from backend import timezones
from backend.admin import ChangeReasonAdminMixin, Panel, ReadOnlyInline, add_file_inline, add_file_panel


@admin.register(CoverageRequirement)
class CoverageRequirementAdmin(ChangeReasonAdminMixin, ImportExportMixin, admin.ModelAdmin):
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
    resource_classes = [CoverageRequirementResource]  # by (position code, valid_from): apps/demand/imports.py

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


def _proposal_todays(proposals: list[dict]) -> list[datetime.date]:
    """Today where each proposal's employee works (two queries for the plan)."""
    units = dict(Employee.objects.filter(pk__in={p["employee"] for p in proposals}).values_list("pk", "org_unit_id"))
    today = todays_by_unit(units.values())
    return [today(units.get(p["employee"])) for p in proposals]


class PlanApplyForm(TransitionFlowForm):
    """The transitions' form (effective date, reason, acknowledgement, an admin's override) plus what applying a
    plan asks: which proposals, approve them too, re-check a stale plan against today's data."""

    proposals = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="A plan is applied all or nothing: these, together."
    )
    approve = forms.BooleanField(
        required=False, label="Approve them too", help_text="Approve each new assignment (on the effective date)."
    )
    force_revalidate = forms.BooleanField(
        required=False,
        label="Re-check against today's data",
        help_text="When the data changed since solving: judge each proposal by the rules on today's data instead.",
    )
    field_order = ["proposals", "approve", "effective_date", "reason", "acknowledge_warnings", "force_revalidate"]

    def __init__(self, *args, proposals: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].choices = proposals
        self.fields["effective_date"].help_text = (
            "The day the approvals take effect (default: today where the employees work; blank: each one's own "
            "today). The assignments run over the plan's period."
        )
        self.fields["reason"].help_text = "Why (kept in the approvals' log after “Auto-plan #N”; rules may need one)."

    def apply_choice(self) -> ApplyChoice:
        data = self.cleaned_data
        return ApplyChoice(
            proposals=sorted(int(i) for i in data["proposals"]),
            approve=data["approve"],
            force_revalidate=data["force_revalidate"],
            acknowledge_warnings=data["acknowledge_warnings"],
            reason=data.get("reason", ""),
            override_reason=data.get("override_reason", ""),
            effective_date=data["effective_date"],
        )


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
        """The shared preview/confirm page (``render_preview_confirm``): every chosen proposal with its rule results,
        what changed since solving, then Confirm → ``plan_apply``, as ``POST /api/coverage/plans/{id}/apply/``."""
        plan = self.get_object(request, str(plan_id))
        if plan is None or request.user.role not in (Role.ADMIN, Role.HR):
            return HttpResponseRedirect(reverse("admin:demand_plan_changelist"))
        back = reverse("admin:demand_plan_change", args=[plan.pk])
        proposals = plan.results.get("proposals", [])
        choices = [
            (str(i), f"#{i} {p['employee_number']} {p['employee_name']} → {p['position_code']}, {p['weekly_hours']} h")
            for i, p in enumerate(proposals)
        ]
        submitted = request.method == "POST" and "fingerprint" in request.POST
        notes, preview = [], None
        if submitted:
            form = PlanApplyForm(request.POST, user=request.user, proposals=choices)
        else:  # the first preview: every proposal, proposed only, today where they work, nothing acknowledged
            default, note = default_effective_date(_proposal_todays(proposals))
            initial = {"effective_date": default, "proposals": [c for c, _label in choices]}
            form = PlanApplyForm(initial, user=request.user, proposals=choices)
            notes += [note] if note else []
        if form.is_valid():
            choice = form.apply_choice()
            try:
                if submitted and "_confirm" in request.POST:
                    confirmation = plan_apply_confirm(
                        plan_id=plan.pk, actor=request.user, choice=choice, fingerprint=request.POST["fingerprint"]
                    )
                    if confirmation.applied is not None:
                        self._report_applied(request, plan, confirmation.applied)
                        return HttpResponseRedirect(back)
                    notes.append("Something changed since the preview you saw: nothing was done. Review it again.")
                    preview = confirmation.preview
                else:
                    preview = plan_apply_preview(plan_id=plan.pk, actor=request.user, choice=choice)
            except REFUSALS as exc:
                notes.append(f"Not applied: {refusal_text(exc)}")
                preview = plan_apply_preview(plan_id=plan.pk, actor=request.user, choice=choice)
        else:
            notes.append("Correct the form below to see the preview.")
        rows = []
        if preview is not None:
            rows = preview.rows
            notes += [preview.refusal] if preview.refusal else []
            if preview.stale:
                head = "The data changed since the plan was solved"
                tail = (
                    "Each proposal is judged on today's data below."
                    if choice.force_revalidate
                    else "Nothing can be applied as solved: tick “Re-check against today's data” to apply on today's "
                    "data, or create a new plan."
                )
                notes.append(f"{head}: {' '.join(preview.stale)} {tail}")
            if preview.batch_refusal:
                notes.append(f"Together these cannot all go ahead: {preview.batch_refusal}")
            if rows and not all(row.allowed for row in rows):
                notes.append("A plan is applied all or nothing: untick the proposals that will not go ahead.")
            for row in rows:
                if row.instance is not None:
                    row.url = reverse("admin:api_employee_change", args=[row.instance.employee_id])
        going = sum(1 for row in rows if row.allowed)
        approving = preview is not None and preview.choice.approve
        return render_preview_confirm(
            request,
            self,
            title=f"Apply plan #{plan.pk} ({plan.period_start} – {plan.period_end}): preview",
            rows=rows,
            form=form,
            context={
                "action_url": reverse("admin:demand_plan_apply", args=[plan.pk]),
                "fingerprint": preview.fingerprint if preview is not None else "",
                "confirm_label": f"Confirm: {'create and approve' if approving else 'create'} {going} assignment(s)",
                "can_confirm": preview is not None and preview.can_confirm,
                "notes": notes,
                "cancel_url": back,
            },
        )

    def _report_applied(self, request, plan, applied: dict) -> None:
        made = Assignment.objects.select_related("employee", "position").filter(pk__in=applied["assignments"])
        names = ", ".join(str(a) for a in made) if len(made) <= MAX_NAMED_DONE else ""
        text = f"Plan #{plan.pk} applied: {len(made)} assignment(s) {'approved' if applied['approved'] else 'proposed'}"
        self.message_user(request, f"{text}: {names}" if names else f"{text}.", messages.SUCCESS)
