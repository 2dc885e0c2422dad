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
from apps.users.choices import Role
from backend.permissions import user_role

SEE_EVERYTHING = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


def _manager_root_path(user) -> str | None:
    """The path of the manager's own unit, or None when they have none."""
    unit = user.org_unit if user.org_unit_id else None
    return unit.path if unit is not None and unit.path else None


def org_unit_list(*, user) -> QuerySet[OrgUnit]:
    """Org units ``user`` may read."""
    units = OrgUnit.objects.select_related("parent")
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return units
    if role == Role.MANAGER:
        root = _manager_root_path(user)
        return units.filter(path__startswith=root) if root else units.none()
    if role == Role.EMPLOYEE:
        return units.filter(employees__user=user)
    return units.none()


def position_list(*, user) -> QuerySet[Position]:
    """Positions ``user`` may read."""
    positions = Position.objects.select_related("org_unit")
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return positions
    if role == Role.MANAGER:
        root = _manager_root_path(user)
        return positions.filter(org_unit__path__startswith=root) if root else positions.none()
    if role == Role.EMPLOYEE:
        return positions.filter(org_unit__employees__user=user)
    return positions.none()


def employee_list(*, user) -> QuerySet[Employee]:
    """Employees ``user`` may read."""
    employees = Employee.objects.select_related("org_unit")
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return employees
    if role == Role.MANAGER:
        root = _manager_root_path(user)
        return employees.filter(org_unit__path__startswith=root) if root else employees.none()
    if role == Role.EMPLOYEE:
        return employees.filter(user=user)
    return employees.none()
