"""Reads of tags scoped to the caller's role (SPEC §3): out-of-scope rows simply are not there (404)."""

from django.db.models import QuerySet

from apps.tags.models import EmployeeTag, PositionTag, TagCatalog
from apps.users.choices import Role
from backend.permissions import user_role

# Roles that read every employee and position tag.
_READ_EVERYTHING = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


def _subtree_path(user) -> str | None:
    """The materialized path of a manager's org unit, or None when they have none (and so see nothing)."""
    unit = getattr(user, "org_unit", None)
    return unit.path if unit is not None and unit.path else None


def tag_catalog_list() -> QuerySet[TagCatalog]:
    """The whole catalogue: every role with a role reads it."""
    return TagCatalog.objects.all()


def employee_tag_list(*, user) -> QuerySet[EmployeeTag]:
    """Employee tags the user may read: all, their subtree's (manager), their own (employee), or none."""
    queryset = EmployeeTag.objects.select_related("tag")
    role = user_role(user)
    if role in _READ_EVERYTHING:
        return queryset
    if role == Role.MANAGER and (path := _subtree_path(user)):
        return queryset.filter(employee__org_unit__path__startswith=path)
    if role == Role.EMPLOYEE:
        return queryset.filter(employee__user=user)
    return queryset.none()


def position_tag_list(*, user) -> QuerySet[PositionTag]:
    """Position tags the user may read: all, their subtree's positions' (manager), or none."""
    queryset = PositionTag.objects.select_related("tag")
    role = user_role(user)
    if role in _READ_EVERYTHING:
        return queryset
    if role == Role.MANAGER and (path := _subtree_path(user)):
        return queryset.filter(position__org_unit__path__startswith=path)
    return queryset.none()
