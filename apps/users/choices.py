from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    HR = "hr", "HR"
    MANAGER = "manager", "Manager"
    AUDITOR = "auditor", "Auditor"
    EMPLOYEE = "employee", "Employee"


# Roles that may sign in to the Django admin (staff status follows the role).
STAFF_ROLES = frozenset({Role.ADMIN, Role.HR})

# Apps whose models HR may manage in the admin (the permissions their role implies).
HR_ADMIN_APPS = frozenset({"api", "fsm", "tags", "assignments", "business_rules", "offer", "demand", "audit_log"})
