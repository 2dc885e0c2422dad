"""Reads for the rule catalogue, and the objects a caller may name when evaluating a hypothetical event."""

from django.db.models import QuerySet

from apps.api.models import Employee, Position
from apps.assignments.models import Assignment
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.users.choices import Role
from backend.permissions import user_role

SEE_EVERYTHING = frozenset({Role.ADMIN, Role.HR, Role.AUDITOR})


def business_rule_list() -> QuerySet[BusinessRule]:
    """The whole catalogue (every reader sees every rule), with the relations the serializer reads joined."""
    return BusinessRule.objects.select_related("org_unit", "position")


def business_rule_version_list(*, rule: BusinessRule) -> QuerySet[BusinessRuleVersion]:
    """A rule's snapshots, oldest first."""
    return BusinessRuleVersion.objects.filter(rule=rule).select_related("actor").order_by("version")


def _subtree_path(user) -> str | None:
    unit = user.org_unit if getattr(user, "org_unit_id", None) else None
    return unit.path if unit is not None and unit.path else None


def evaluation_subjects(*, user) -> dict[str, QuerySet]:
    """Employees, positions and assignments ``user`` may evaluate rules against (a manager: their subtree).

    An id outside these answers 400 like an unknown one, so nothing leaks about objects out of scope.
    """
    subjects = {
        "employee": Employee.objects.select_related("org_unit"),
        "position": Position.objects.select_related("org_unit"),
        "assignment": Assignment.objects.select_related("employee__org_unit", "position__org_unit"),
    }
    role = user_role(user)
    if role in SEE_EVERYTHING:
        return subjects
    path = _subtree_path(user) if role == Role.MANAGER else None
    if path is None:
        return {name: qs.none() for name, qs in subjects.items()}
    return {
        "employee": subjects["employee"].filter(org_unit__path__startswith=path),
        "position": subjects["position"].filter(org_unit__path__startswith=path),
        "assignment": subjects["assignment"].filter(position__org_unit__path__startswith=path),
    }
