"""KPIs over the ISO weeks touching [from, to], for the caller's scope (optionally one org unit's subtree).

A fixed number of queries whatever the size of the organisation: coverage totals (one), supply totals (one),
headcount by state (one), transitions by name (one per log table).
"""

import datetime

from django.db.models import Count, QuerySet

from apps.api.models import Employee, OrgUnit, Position
from apps.assignments.models import AssignmentTransitionLog
from apps.demand.coverage import coverage_totals
from apps.demand.periods import Period, hours, hours_text, ratio
from apps.demand.supply import supply_totals
from apps.fsm.choices import EmployeeState
from apps.fsm.models import EmployeeTransitionLog


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def _transition_counts(queryset) -> dict[str, int]:
    rows = queryset.order_by().values("transition").annotate(n=Count("id")).values_list("transition", "n")
    return dict(sorted(rows))


def kpi_summary(
    *, positions: QuerySet[Position], employees: QuerySet[Employee], period: Period, org_unit: OrgUnit | None = None
) -> dict:
    """Coverage ratio, open gap hours, utilisation, overtime, headcount by state and transitions in the period.

    ``positions`` and ``employees`` are the caller's scope; ``org_unit`` narrows both to its subtree.
    """
    if org_unit is not None:
        positions = positions.filter(org_unit__path__startswith=org_unit.path)
        employees = employees.filter(org_unit__path__startswith=org_unit.path)
    lo, hi = period.weeks_start, period.weeks_end

    coverage = coverage_totals(positions=positions, period=period)
    contracted, leave, assigned, worked, overtime = supply_totals(employees=employees, start=lo, end=hi)
    contracted, leave, assigned, worked = hours(contracted), hours(leave), hours(assigned), hours(worked)

    headcount = dict.fromkeys(EmployeeState.values, 0)
    for state, n in employees.order_by().values("state").annotate(n=Count("id")).values_list("state", "n"):
        headcount[state] = n

    since, until = _day_start(lo), _day_start(hi + datetime.timedelta(days=1))
    employee_logs = EmployeeTransitionLog.objects.filter(
        created_at__gte=since, created_at__lt=until, employee__in=employees.order_by().values("pk")
    )
    assignment_logs = AssignmentTransitionLog.objects.filter(
        created_at__gte=since, created_at__lt=until, assignment__position__in=positions.order_by().values("pk")
    )
    employee_transitions = _transition_counts(employee_logs)
    assignment_transitions = _transition_counts(assignment_logs)

    return {
        "period": {"from": lo.isoformat(), "to": hi.isoformat(), "weeks": period.week_count},
        "org_unit": org_unit.pk if org_unit is not None else None,
        "coverage_ratio": ratio(coverage["assigned_hours"], coverage["required_hours"]),
        "required_hours": hours_text(coverage["required_hours"]),
        "assigned_hours": hours_text(coverage["assigned_hours"]),
        "open_gap_hours": hours_text(coverage["open_gap_hours"]),
        "utilisation": ratio(assigned, contracted),
        "contracted_hours": hours_text(contracted),
        "employee_assigned_hours": hours_text(assigned),
        "leave_hours": hours_text(leave),
        "worked_hours": hours_text(worked),
        "overtime_hours": hours_text(overtime),
        "headcount_by_state": headcount,
        "headcount": sum(headcount.values()),
        "transitions": {
            "employee": employee_transitions,
            "assignment": assignment_transitions,
            "total": sum(employee_transitions.values()) + sum(assignment_transitions.values()),
        },
    }
