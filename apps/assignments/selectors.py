"""Reads for assignments, scoped to what the caller's role may see.

- admin, hr, auditor: everything.
- manager: assignments whose position or employee sits in the subtree of their own org unit.
- employee: their own assignments.
- anyone else: nothing.
"""

from django.db.models import QuerySet

from apps.assignments.models import Assignment
from backend.permissions import scope_for


def assignment_list(*, user) -> QuerySet[Assignment]:
    """Assignments ``user`` may read, with what the serializer shows already joined."""
    return scope_for(
        user,
        Assignment.objects.select_related("employee", "position__org_unit"),
        unit_paths=("position__org_unit__path", "employee__org_unit__path"),
        own="employee__user",
    )
