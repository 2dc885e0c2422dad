from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.fsm.models import EmployeeFSMMixin
from backend.bounds import validate_date_in_range
from backend.instances import FastLoading
from backend.rows import reads
from backend.timezones import validate_time_zone


class OrgUnit(FastLoading, models.Model):
    """A node of the organisation tree; ``path`` (materialized) makes subtree queries one LIKE."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # "/<root id>/.../<own id>/": maintained by apps.api.services, never edited by hand.
    path = models.CharField(max_length=1000, editable=False, default="", db_index=True)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    is_active = models.BooleanField(default=True)
    # Blank: the parent's zone (up to COVERIS_TIME_ZONE). Decides the day of the unit's employees (docs/time-zones.md).
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="IANA time zone name (e.g. Pacific/Auckland) of this unit and its subtree; blank inherits.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="api_orgunit_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Position(FastLoading, models.Model):
    """A post in an org unit that needs people for a standard number of weekly hours."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="positions")
    standard_weekly_hours = models.DecimalField(max_digits=5, decimal_places=2, default=40)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(standard_weekly_hours__gt=0, standard_weekly_hours__lte=168),
                name="api_position_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Employee(FastLoading, EmployeeFSMMixin, models.Model):
    """A person who offers hours; ``state`` changes only through the transition service."""

    employee_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="employee"
    )
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="employees")
    contracted_weekly_hours = models.DecimalField(max_digits=5, decimal_places=2, default=40)
    hire_date = models.DateField(validators=[validate_date_in_range])
    termination_date = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(EmployeeFSMMixin.Meta):
        ordering = ["last_name", "first_name", "id"]
        # The default order (lists, balances) read straight off an index: page 1 is 25 index entries, not a sort.
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="api_employee_name_order"),
            models.Index(fields=["hire_date"], name="api_employee_hire_date"),  # ?hire_date_after/_before
        ]
        constraints = [
            *EmployeeFSMMixin.Meta.constraints,
            models.CheckConstraint(
                condition=Q(contracted_weekly_hours__gte=0, contracted_weekly_hours__lte=168),
                name="api_employee_contract_hours_range",
            ),
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True) | Q(termination_date__gte=models.F("hire_date")),
                name="api_employee_termination_after_hire",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_number} {self.first_name} {self.last_name}"

    @property
    @reads("first_name", "last_name")
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A large spreadsheet import run on the job queue: the file and who sent it, then its report (apps.api.jobs)."""

    resource = models.CharField(max_length=200, help_text="The import resource's dotted path.")
    file_name = models.CharField(max_length=255)
    content = models.BinaryField(editable=False, help_text="The file, kept until the job has run.")
    dry_run = models.BooleanField(default=False)
    rows = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED)
    committed = models.BooleanField(default=False)
    totals = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text='Per bad row: {"row": N, "errors": {column: [...]}}.')
    error = models.TextField(blank=True, default="", help_text="Why the job failed as a whole.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportJobStatus.values), name="api_importjob_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.file_name} ({self.status})"
