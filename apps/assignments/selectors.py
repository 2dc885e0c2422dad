"""Reads for assignments, scoped to what the caller's role may see.

- admin, hr, auditor: everything.
- manager: assignments whose position or employee sits in the subtree of their own org unit.
- employee: their own assignments.
- anyone else: nothing.
"""

from django.db.models import QuerySet

from apps.assignments.models import Assignment
from backend.permissions import scope_for


def assignment_list(*, user, page_only: bool = False) -> QuerySet[Assignment]:
    """Assignments ``user`` may read, with what the serializer shows already joined, and the position's org unit
    that the services read (``position.org_unit.path``). ``page_only``: a list page, which shows the org unit's id
    only, so no org-unit rows are joined, loaded and built per assignment (ADR 0031)."""
    joined = ("employee", "position") if page_only else ("employee", "position__org_unit")
    return scope_for(
        user,
        Assignment.objects.select_related(*joined),
        unit_paths=("position__org_unit__path", "employee__org_unit__path"),
        own="employee__user",
    )
