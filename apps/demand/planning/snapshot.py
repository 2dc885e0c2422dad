"""What a plan read, reduced to digests, so applying it later can say exactly what changed since.

Per planned employee: state, termination date, their open assignments, their hours-ledger entries and their tags.
Per planned position: its gap per week. The rules: every active rule's code and version for the events the plan
creates and approves under. Fixed number of queries whatever the plan's size.
"""

import hashlib
import json
from collections import defaultdict

from django.db.models import Max, Q

from apps.api.models import Employee, Position
from apps.assignments.choices import OPEN_STATES
from apps.assignments.models import Assignment
from apps.business_rules.models import BusinessRule
from apps.demand.coverage import coverage_by_position_week
from apps.demand.periods import Period
from apps.offer.models import LedgerEntry
from apps.tags.models import EmployeeTag

EVENTS = ("assignment.create", "assignment.approve")


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_snapshot(*, period: Period, employee_ids: list[int], position_ids: list[int]) -> dict:
    """Digests of everything a plan's proposals depend on (JSON-ready)."""
    rules = {
        r.code: r.version
        for r in BusinessRule.objects.filter(is_active=True).only("code", "version", "events")
        if set(EVENTS) & set(r.events or [])
    }
    parts: dict[int, dict] = defaultdict(lambda: {"assignments": [], "tags": [], "ledger": None})
    for e in Employee.objects.filter(pk__in=employee_ids).values("pk", "state", "termination_date"):
        parts[e["pk"]]["employee"] = [e["state"], e["termination_date"]]
    overlapping = Q(end_date__isnull=True) | Q(end_date__gte=period.start)
    for a in (
        Assignment.objects.filter(overlapping, employee_id__in=employee_ids, state__in=OPEN_STATES)
        .filter(start_date__lte=period.end)
        .order_by("id")
        .values_list("employee_id", "id", "state", "start_date", "end_date", "weekly_hours")
    ):
        parts[a[0]]["assignments"].append(a[1:])
    for t in (
        EmployeeTag.objects.filter(employee_id__in=employee_ids)
        .order_by("id")
        .values_list("employee_id", "id", "tag_id", "level", "valid_from", "valid_until")
    ):
        parts[t[0]]["tags"].append(t[1:])
    for row in LedgerEntry.objects.filter(employee_id__in=employee_ids).values("employee_id").annotate(last=Max("id")):
        parts[row["employee_id"]]["ledger"] = row["last"]
    employees = {str(pk): _digest(parts[pk]) for pk in employee_ids}
    positions = list(Position.objects.filter(pk__in=position_ids).order_by("pk"))
    gaps: dict[str, list] = defaultdict(list)
    for row in coverage_by_position_week(positions=positions, period=period):
        gaps[str(row["position"])].append(row["gap_hours"])
    return {"rules": rules, "employees": employees, "positions": {k: _digest(v) for k, v in gaps.items()}}


def snapshot_changes(before: dict, now: dict, *, employee_ids: list[int], position_ids: list[int]) -> list[dict]:
    """What differs between two snapshots for these employees and positions, one entry per change."""
    changes = []
    old_rules, new_rules = before.get("rules", {}), now.get("rules", {})
    for code in sorted(set(old_rules) | set(new_rules)):
        if old_rules.get(code) != new_rules.get(code):
            what = "added" if code not in old_rules else "removed" if code not in new_rules else "edited"
            changes.append({"kind": "rule", "rule": code, "change": what, "message": f"rule {code} was {what}"})
    for pk in sorted(set(employee_ids)):
        if before.get("employees", {}).get(str(pk)) != now.get("employees", {}).get(str(pk)):
            changes.append(
                {
                    "kind": "employee",
                    "employee": pk,
                    "message": f"employee {pk}: state, assignments, hours ledger or tags changed",
                }
            )
    for pk in sorted(set(position_ids)):
        if before.get("positions", {}).get(str(pk)) != now.get("positions", {}).get(str(pk)):
            changes.append({"kind": "position", "position": pk, "message": f"position {pk}: its coverage gap changed"})
    return changes
