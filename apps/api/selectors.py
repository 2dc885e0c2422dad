"""Reads for org structure, positions and employees, scoped to what the caller's role may see (SPEC §3).

Scope by role:

- admin, hr, auditor: everything.
- manager: the subtree of their own org unit (``User.org_unit``), one ``path LIKE '/1/5/%'`` per query;
  a manager without an org unit sees nothing.
- employee: their own ``Employee`` record (``Employee.user``); of the org structure, only the unit that
  record sits in and that unit's positions (enough to show "where I work"; nothing of the rest of the tree).
- anonymous, inactive, no or unknown role: nothing (RolePermission refuses them first anyway).

Every selector returns a lazy queryset with the relations its serializer reads already joined, so a list
costs the same number of queries for 1 row and for 25.
"""

from django.db.models import QuerySet

from apps.api.models import Employee, OrgUnit, Position
from apps.api.timezones import effective_time_zone_expression
from backend.permissions import scope_for


def org_unit_list(*, user) -> QuerySet[OrgUnit]:
    """Org units ``user`` may read (an employee: the unit their record sits in)."""
    units = OrgUnit.objects.select_related("parent").annotate(effective_time_zone=effective_time_zone_expression())
    return scope_for(user, units, unit_paths="path", own="employees__user")


def position_list(*, user) -> QuerySet[Position]:
    """Positions ``user`` may read (an employee: their unit's positions)."""
    positions = Position.objects.select_related("org_unit")
    return scope_for(user, positions, unit_paths="org_unit__path", own="org_unit__employees__user")


def employee_list(*, user) -> QuerySet[Employee]:
    """Employees ``user`` may read (an employee: their own record)."""
    return scope_for(user, Employee.objects.select_related("org_unit"), unit_paths="org_unit__path", own="user")
