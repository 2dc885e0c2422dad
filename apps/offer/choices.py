from django.db import models


class EntryKind(models.TextChoices):
    CONTRACTED = "contracted", "Contracted"
    ASSIGNED = "assigned", "Assigned"
    LEAVE = "leave", "Leave"
    WORKED = "worked", "Worked"
    ADJUSTMENT = "adjustment", "Adjustment"


# The balance column an entry counts in; an adjustment names the column it corrects.
BALANCE_KINDS = (EntryKind.CONTRACTED, EntryKind.ASSIGNED, EntryKind.LEAVE, EntryKind.WORKED)


class EntryBasis(models.TextChoices):
    WEEKLY_RATE = "weekly_rate", "Weekly rate over the period"
    TOTAL = "total", "Total hours spread evenly over the period"


class EntrySource(models.TextChoices):
    EMPLOYEE = "employee", "Employee lifecycle or contract"
    ASSIGNMENT = "assignment", "Assignment"
    CLOCK_EVENT = "clock_event", "Clock event"
    MANUAL = "manual", "Manual (HR)"
