"""Reads for the rule catalogue, and the objects a caller may name when evaluating a hypothetical event."""

from django.db.models import QuerySet

from apps.api.models import Employee, Position
from apps.assignments.models import Assignment
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from backend.permissions import scope_for


def business_rule_list() -> QuerySet[BusinessRule]:
    """The whole catalogue (every reader sees every rule), with the relations the serializer reads joined."""
    return BusinessRule.objects.select_related("org_unit", "position")


def business_rule_version_list(*, rule: BusinessRule) -> QuerySet[BusinessRuleVersion]:
    """A rule's snapshots, oldest first."""
    return BusinessRuleVersion.objects.filter(rule=rule).select_related("actor").order_by("version")


def evaluation_subjects(*, user) -> dict[str, QuerySet]:
    """Employees, positions and assignments ``user`` may evaluate rules against (a manager: their subtree).

    An id outside these answers 400 like an unknown one, so nothing leaks about objects out of scope.
    """
    return {
        "employee": scope_for(user, Employee.objects.select_related("org_unit"), unit_paths="org_unit__path"),
        "position": scope_for(user, Position.objects.select_related("org_unit"), unit_paths="org_unit__path"),
        "assignment": scope_for(
            user,
            Assignment.objects.select_related("employee__org_unit", "position__org_unit"),
            unit_paths="position__org_unit__path",
        ),
    }
