"""Reads for assignments, scoped to what the caller's role may see.

- admin, hr, auditor: everything.
- manager: assignments whose position or employee sits in the subtree of their own org unit.
- employee: their own assignments.
- anyone else: nothing.
"""

from django.db.models import Q, QuerySet

from apps.assignments.models import Assignment
from apps.users.choices import Role
from backend.permissions import user_role

SEE_EVERYTHING = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


def assignment_list(*, user) -> QuerySet[Assignment]:
    """Assignments ``user`` may read, with what the serializer shows already joined."""
    assignments = Assignment.objects.select_related("employee", "position__org_unit")
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return assignments
    if role == Role.MANAGER:
        unit = user.org_unit if user.org_unit_id else None
        if unit is None:
            return assignments.none()
        return assignments.filter(
            Q(position__org_unit__path__startswith=unit.path) | Q(employee__org_unit__path__startswith=unit.path)
        )
    if role == Role.EMPLOYEE:
        return assignments.filter(employee__user=user)
    return assignments.none()
