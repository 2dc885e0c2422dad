"""Reads of tags scoped to the caller's role (SPEC §3): out-of-scope rows simply are not there (404)."""

from django.db.models import QuerySet

from apps.tags.models import EmployeeTag, PositionTag, TagCatalog
from backend.permissions import scope_for


def tag_catalog_list() -> QuerySet[TagCatalog]:
    """The whole catalogue: every role with a role reads it."""
    return TagCatalog.objects.all()


def employee_tag_list(*, user) -> QuerySet[EmployeeTag]:
    """Employee tags the user may read: all, their subtree's (manager), their own (employee), or none."""
    queryset = EmployeeTag.objects.select_related("tag")
    return scope_for(user, queryset, unit_paths="employee__org_unit__path", own="employee__user")


def position_tag_list(*, user) -> QuerySet[PositionTag]:
    """Position tags the user may read: all, their subtree's positions' (manager), or none."""
    return scope_for(user, PositionTag.objects.select_related("tag"), unit_paths="position__org_unit__path")
