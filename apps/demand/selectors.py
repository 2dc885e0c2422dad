"""Reads of demand data scoped to the caller's role (SPEC §3).

- admin, hr, auditor: everything.
- manager: the subtree of their own org unit (``path LIKE '/1/5/%'``); a manager without a unit sees nothing.
- employee, no or unknown role: nothing (the views refuse them with 403 before this is reached).

The coverage report, candidates and KPIs live in their own modules (``coverage``, ``candidates``, ``kpis``);
they take the querysets built here as their scope, so every read shares one definition of "in scope".
"""

from django.db.models import Q, QuerySet

from apps.api.choices import EmployeeState
from apps.api.models import Employee, OrgUnit, Position
from apps.demand.models import CoverageRequirement
from backend.permissions import scope_for


def org_units_in_scope(*, user) -> QuerySet[OrgUnit]:
    """Org units ``user`` may report on."""
    return scope_for(user, OrgUnit.objects.all(), unit_paths="path")


def positions_in_scope(*, user) -> QuerySet[Position]:
    """Positions ``user`` may report on."""
    return scope_for(user, Position.objects.select_related("org_unit"), unit_paths="org_unit__path")


def employees_in_scope(*, user) -> QuerySet[Employee]:
    """Employees ``user`` may report on (every state)."""
    return scope_for(user, Employee.objects.all(), unit_paths="org_unit__path")


def candidate_pool(*, user, org_unit: OrgUnit | None = None) -> QuerySet[Employee]:
    """Employees who may be proposed for a position: everyone not terminated, in scope (and in ``org_unit``)."""
    pool = employees_in_scope(user=user).exclude(state=EmployeeState.TERMINATED)
    if org_unit is not None:
        pool = pool.filter(org_unit__path__startswith=org_unit.path)
    return pool


def coverage_requirement_list(*, user) -> QuerySet[CoverageRequirement]:
    """Requirements ``user`` may read, with the position and its unit joined (one query per page)."""
    requirements = CoverageRequirement.objects.select_related("position__org_unit")
    return scope_for(user, requirements, unit_paths="position__org_unit__path")


def requirement_active_on(day) -> Q:
    """Requirements valid on ``day`` (open-ended when valid_to is blank)."""
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))
