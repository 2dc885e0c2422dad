from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.demand.choices import PlanStatus
from backend.bounds import TEXT_MAX_LENGTH, validate_date_in_range


class CoverageRequirement(models.Model):
    """Demand: a position needs this many people and weekly hours over a validity period."""

    position = models.ForeignKey("api.Position", on_delete=models.PROTECT, related_name="coverage_requirements")
    valid_from = models.DateField(validators=[validate_date_in_range])
    valid_to = models.DateField(
        null=True, blank=True, validators=[validate_date_in_range], help_text="Blank: open-ended."
    )
    required_headcount = models.PositiveIntegerField(default=1)
    required_weekly_hours = models.DecimalField(max_digits=7, decimal_places=2)
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 (highest) to 5 (lowest).")
    notes = models.TextField(blank=True, default="", max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position_id", "valid_from"]
        indexes = [models.Index(fields=["position", "valid_from"], name="demand_req_position_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="demand_req_validity_range",
            ),
            models.CheckConstraint(condition=Q(required_weekly_hours__gte=0), name="demand_req_hours_non_negative"),
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=5), name="demand_req_priority_range"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.position.code}: {self.required_headcount} × {self.required_weekly_hours} h from {self.valid_from}"
        )


class CoverageWeek(models.Model):
    """Rollup: one position's requirements and covering assignments in one ISO week (PostgreSQL triggers keep it).

    Hour-days are weekly hours × days of the week covered (hours = hour-days / 7). Written only by the triggers
    and the rebuild of apps/demand/rollups.py; read by the coverage report and the KPIs.
    """

    position = models.ForeignKey("api.Position", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the ISO week.")
    required_headcount = models.IntegerField(default=0)
    required_hour_days = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    assigned_headcount = models.IntegerField(default=0)
    assigned_hour_days = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["position", "week"], name="demand_coverage_week_key")]

    def __str__(self) -> str:
        return f"{self.position_id} {self.week}"


class SupplyWeek(models.Model):
    """Rollup: the hours ledger's columns summed per org unit (the employees' current one) and ISO week.

    Kept by PostgreSQL triggers on ledger inserts and employee moves (apps/demand/rollups.py); read by the KPIs.
    """

    org_unit = models.ForeignKey("api.OrgUnit", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the ISO week.")
    contracted = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    leave_h = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    assigned = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    worked = models.DecimalField(max_digits=30, decimal_places=12, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org_unit", "week"], name="demand_supply_week_key")]

    def __str__(self) -> str:
        return f"{self.org_unit_id} {self.week}"


class TransitionWeek(models.Model):
    """Rollup: transition log rows per kind (employee, assignment), org unit, ISO week (UTC) and transition name.

    An employee log counts in the employee's current unit, an assignment log in its position's current unit. Kept by
    PostgreSQL triggers (apps/demand/rollups.py); read by the KPIs.
    """

    kind = models.CharField(max_length=16)
    org_unit = models.ForeignKey("api.OrgUnit", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="Monday of the ISO week (UTC).")
    transition = models.CharField(max_length=64)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "org_unit", "week", "transition"], name="demand_transition_week_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.org_unit_id} {self.week} {self.transition}: {self.count}"


class LedgerlessEmployee(models.Model):
    """The employees without any hours-ledger entry (the ``contract`` source of supply), kept by PostgreSQL triggers
    on employee and ledger inserts, so the KPIs find them without reading the whole ledger."""

    employee = models.OneToOneField(
        "api.Employee", on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return str(self.employee_id)


class CandidateBound(models.Model):
    """Per employee, an upper bound of their free hours a week over any period, in cents, kept by PostgreSQL triggers
    (apps/demand/candidate_bounds.py) while the rollups hold a horizon, for every state: candidates visit the qualified
    in descending order of it and stop once the page is decided (ADR 0036), and the holders by a best possible key built
    on it (ADR 0045). ``employee_number`` is the employee's, copied so one
    index serves the visit order (bound, then the ranking's tie-breaks)."""

    employee = models.OneToOneField(
        "api.Employee", on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    bound = models.BigIntegerField()
    employee_number = models.CharField(max_length=32)
    # The same for periods of 7 days or more only: the largest average over 7–13 days (ADR 0042), never above ``bound``.
    week_bound = models.BigIntegerField(default=-1)
    # A lower bound of the committed hours a week (cents) on some day of every 7 days inside the bounds' window: the
    # least, over those 7-day windows, of the most concurrent committed hours there (ADR 0049).
    week_committed = models.BigIntegerField(default=0)
    # The least committed hours a week (cents) of any day of that window (ADR 0049).
    least_committed = models.BigIntegerField(default=0)
    # The employee's state is ``active``: the first visit's partial indexes hold these rows only (ADR 0050).
    active = models.BooleanField(default=False)
    # Its indexes (bound or week_bound desc, then employee_number in the "C" collation, employee) are PostgreSQL's,
    # created with the triggers (candidate_bounds.install_sql): SQLite has no "C" collation.

    def __str__(self) -> str:
        return f"{self.employee_id}: {self.bound}"


class RollupHorizon(models.Model):
    """The ISO weeks the rollups hold (one row): reports inside them read the rollups, others compute live."""

    first_week = models.DateField()
    last_week = models.DateField()
    # COVERIS_TIME_ZONE when the rollups were built: the transition rollup counts in local weeks (ADR 0017).
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # The candidates' free-hours bounds (ADR 0036) hold for periods from this day on (null: any period).
    bounds_from = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.first_week}–{self.last_week}"


class Plan(models.Model):
    """An auto-plan: what was asked (period, scope, weights, seed), how solving went, and what it proposes.

    Solved on the job queue (apps.demand.tasks); ``results`` holds proposals, coverage before/after, open gaps
    with reasons and metrics (docs/planning.md). Only the planning services change ``status``.
    """

    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    period_start = models.DateField(validators=[validate_date_in_range])
    period_end = models.DateField(validators=[validate_date_in_range])
    org_unit = models.ForeignKey(
        "api.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
        help_text="Positions and people of this unit's subtree (blank: the planner's whole scope).",
    )
    positions = models.JSONField(default=list, blank=True, help_text="Position ids (empty: every position in scope).")
    objective = models.JSONField(default=dict, blank=True, help_text="Weights of the soft terms, over the defaults.")
    seed = models.PositiveIntegerField(default=0)
    time_limit = models.FloatField(default=10.0, help_text="Solver time limit (deterministic seconds).")
    results = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="What the plan read, to tell when it is stale.")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="demand_plan_status_valid"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="demand_plan_period"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="demand_plan_progress_range"),
        ]

    def __str__(self) -> str:
        return f"Plan #{self.pk} {self.period_start}–{self.period_end} ({self.status})"
