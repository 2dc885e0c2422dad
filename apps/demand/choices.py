from django.db import models

from apps.assignments.choices import AssignmentState


class PlanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SOLVING = "solving", "Solving"
    SOLVED = "solved", "Solved"
    FAILED = "failed", "Failed"
    APPLIED = "applied", "Applied"
    STALE = "stale", "Stale"


class CoverageStatus(models.TextChoices):
    UNDER = "under", "Under-covered"
    MET = "met", "Met"
    OVER = "over", "Over-covered"


# Assignments that cover a position for the dates they run. Completed ones count for the dates they ran
# (completing sets the end date), so past weeks keep their coverage; proposed, rejected and cancelled never do.
COVERING_STATES = (AssignmentState.APPROVED, AssignmentState.ACTIVE, AssignmentState.COMPLETED)

MAX_WEEKS = 104
