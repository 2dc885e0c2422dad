"""The employee's vocabulary: its states and the names of its transitions.

They live with the ``Employee`` model, not in the state-machine app, so the rules engine can name them (a rule
applies to ``employee.<transition>``; a rule type filters on states) without importing the transition machinery
that asks it: ``apps/fsm`` may import ``apps/business_rules``, never the reverse (``backend/tests/test_import_graph``).
"""

from django.db import models


class EmployeeState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    ON_LEAVE = "on_leave", "On leave"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class EmployeeTransition(models.TextChoices):
    ACTIVATE = "activate", "Activate"
    START_LEAVE = "start_leave", "Start leave"
    RETURN_FROM_LEAVE = "return_from_leave", "Return from leave"
    SUSPEND = "suspend", "Suspend"
    REINSTATE = "reinstate", "Reinstate"
    TERMINATE = "terminate", "Terminate"
    REHIRE = "rehire", "Rehire"
