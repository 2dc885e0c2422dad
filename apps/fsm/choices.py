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
