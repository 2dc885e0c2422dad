from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from apps.assignments.choices import AssignmentState
from apps.fsm.models import ProtectedFSMRefreshMixin, TransitionLogBase
from backend.audit.db import append_only_triggers
from backend.bounds import TEXT_MAX_LENGTH, validate_date_in_range
from backend.instances import FastLoading

S = AssignmentState


class Assignment(FastLoading, ProtectedFSMRefreshMixin, models.Model):
    """An employee working a position for a period at weekly hours; state changes only by transitions.

    On PostgreSQL an exclusion constraint (migration 0002, btree_gist) forbids two open assignments of
    one employee to one position over overlapping dates. It is not declared in ``Meta`` because SQLite
    cannot hold it and Django would copy it into SQLite's table rebuilds.
    """

    employee = models.ForeignKey("api.Employee", on_delete=models.PROTECT, related_name="assignments")
    position = models.ForeignKey("api.Position", on_delete=models.PROTECT, related_name="assignments")
    start_date = models.DateField(validators=[validate_date_in_range])
    end_date = models.DateField(
        null=True, blank=True, validators=[validate_date_in_range], help_text="Blank: open-ended."
    )
    weekly_hours = models.DecimalField(max_digits=5, decimal_places=2)
    notes = models.TextField(blank=True, default="", max_length=TEXT_MAX_LENGTH)
    state = FSMField(default=S.PROPOSED, choices=S.choices, protected=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "id"]
        indexes = [
            models.Index(fields=["employee", "state"], name="assign_employee_state"),
            models.Index(fields=["-start_date", "id"], name="assign_start_order"),  # the default order
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=S.values), name="assignments_state_valid"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignments_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(weekly_hours__gt=0, weekly_hours__lte=168), name="assignments_weekly_hours_range"
            ),
        ]

    def __str__(self) -> str:
        # Names, not ids (admin messages, previews, dropdowns); list pages select_related both.
        end = self.end_date.isoformat() if self.end_date else "open-ended"
        return f"{self.employee} at {self.position.code}, {self.start_date.isoformat()}–{end} ({self.state})"

    @transition(field=state, source=S.PROPOSED, target=S.APPROVED)
    def approve(self, *, effective_date=None) -> None:
        """Approve a proposal (proposed → approved)."""

    @transition(field=state, source=S.PROPOSED, target=S.REJECTED)
    def reject(self, *, effective_date=None) -> None:
        """Turn a proposal down (proposed → rejected)."""

    @transition(field=state, source=S.APPROVED, target=S.ACTIVE)
    def activate(self, *, effective_date=None) -> None:
        """Start the assignment (approved → active)."""

    @transition(field=state, source=S.ACTIVE, target=S.COMPLETED)
    def complete(self, *, effective_date=None) -> None:
        """Finish the assignment (active → completed); it ends on the effective date at the latest."""
        if effective_date and (self.end_date is None or effective_date < self.end_date):
            self.end_date = max(effective_date, self.start_date)

    @transition(field=state, source=[S.PROPOSED, S.APPROVED], target=S.CANCELLED)
    def cancel(self, *, effective_date=None) -> None:
        """Withdraw it before it starts (proposed/approved → cancelled)."""


class AssignmentTransitionLog(TransitionLogBase):
    """The audit row of one assignment transition (append-only, hash-chained like employee logs)."""

    subject_field = "assignment"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="transition_logs")

    class Meta(TransitionLogBase.Meta):
        triggers = append_only_triggers()
        indexes = [
            models.Index(fields=["assignment", "created_at"], name="assign_log_assignment_time"),
            models.Index(fields=["created_at", "id"], name="assign_log_time_order"),  # the audit list's order
        ]
