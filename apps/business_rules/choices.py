from django.db import models

from apps.api.choices import EmployeeTransition


class Severity(models.TextChoices):
    BLOCK = "block", "Block"
    WARN = "warn", "Warn"


class Outcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


ASSIGNMENT_TRANSITIONS = ("approve", "reject", "activate", "complete", "cancel")

# Every event a rule may apply to. A rule naming anything else is refused with a 400.
KNOWN_EVENTS: tuple[str, ...] = (
    *(f"employee.{name}" for name in EmployeeTransition.values),
    "assignment.create",
    *(f"assignment.{name}" for name in ASSIGNMENT_TRANSITIONS),
    "clock.in",
    "clock.out",
)
