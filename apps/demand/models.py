from django.db import models
from django.db.models import Q

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
        return f"{self.position_id}: {self.required_headcount} × {self.required_weekly_hours} h from {self.valid_from}"
