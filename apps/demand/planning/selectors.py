"""Reads of plans, scoped like the rest of demand: admin, hr and auditors see every plan; a manager the plans of
org units in their subtree (a plan without an org unit covers everything, so only admin/hr/auditors see it)."""

from django.db.models import QuerySet

from apps.demand.models import Plan
from backend.permissions import scope_for


def plan_list(*, user) -> QuerySet[Plan]:
    """Plans ``user`` may read, with what the list shows joined (one query per page)."""
    plans = Plan.objects.select_related("org_unit", "created_by")
    return scope_for(user, plans, unit_paths="org_unit__path")
