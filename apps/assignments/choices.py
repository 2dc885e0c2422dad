from django.db import models


class AssignmentState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class AssignmentTransition(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    ACTIVATE = "activate", "Activate"
    COMPLETE = "complete", "Complete"
    CANCEL = "cancel", "Cancel"


# Assignments that still hold the employee's time (count for overlaps, hours and concurrency).
OPEN_STATES = (AssignmentState.PROPOSED, AssignmentState.APPROVED, AssignmentState.ACTIVE)
# Assignments that commit hours (approved or running).
COMMITTED_STATES = (AssignmentState.APPROVED, AssignmentState.ACTIVE)
