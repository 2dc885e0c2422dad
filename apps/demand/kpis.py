"""KPIs over the ISO weeks touching [from, to], for the caller's scope (optionally one org unit's subtree).

A fixed number of queries whatever the size of the organisation: coverage totals (one), supply totals (one),
headcount by state (one), transitions by name (one per log table, and one for the zones in use when they are
counted live). Transitions count in the local weeks of their employee's zone (docs/time-zones.md).
"""

import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet

from apps.api.choices import EmployeeState
from apps.api.models import Employee, OrgUnit, Position
from apps.api.timezones import effective_time_zone_expression
from apps.assignments.models import AssignmentTransitionLog
from apps.demand.coverage import coverage_totals
from apps.demand.periods import Period, hours, hours_text, ratio
from apps.demand.rollups import TRANSITIONS, horizon_covers_sql, horizon_zone_sql
from apps.demand.sql import queryset_sql
from apps.demand.supply import supply_totals, supply_totals_rolled
from apps.fsm.models import EmployeeTransitionLog
from backend import timezones


def _zones_in_use() -> list[str]:
    """The zones that decide some org unit's day, and the organisation's (one query)."""
    zoned_units = OrgUnit.objects.annotate(zone=effective_time_zone_expression())
    return sorted(set(zoned_units.order_by().values_list("zone", flat=True).distinct()) | {settings.COVERIS_TIME_ZONE})


def _in_local_days(first: datetime.date, last: datetime.date, unit_field: str, zones: list[str]) -> Q:
    """Rows created on [first, last] in the local dates of the zone of the org unit at ``unit_field`` (the employee's,
    docs/time-zones.md): one window per zone, each for the units it decides (employees without one: the org's)."""
    org_zone = settings.COVERIS_TIME_ZONE
    zoned_units = OrgUnit.objects.annotate(zone=effective_time_zone_expression())
    condition = Q()
    for name in zones:
        zone = timezones.zone(name)
        window = Q(created_at__gte=timezones.day_start(first, zone)) & Q(
            created_at__lt=timezones.day_start(last + datetime.timedelta(days=1), zone)
        )
        units = Q(**{f"{unit_field}__in": zoned_units.filter(zone=name).values("pk")})
        if name == org_zone:
            units |= Q(**{f"{unit_field}__isnull": True})
        condition |= window & units
    return condition


def _transition_counts(queryset) -> dict[str, int]:
    rows = queryset.order_by().values("transition").annotate(n=Count("id")).values_list("transition", "n")
    return dict(sorted(rows))


def _transitions_rolled(units: QuerySet[OrgUnit], period: Period) -> tuple[dict, dict] | None:
    """(employee, assignment) transition counts from the weekly rollup, or None when it does not hold the period's
    weeks (or the database is not PostgreSQL): one query for both."""
    if connection.vendor != "postgresql":
        return None
    units_sql, units_params = queryset_sql(units.order_by().values("id"))
    # The rollup's weeks are local weeks of the zone the horizon records: another COVERIS_TIME_ZONE → live.
    sql = f"""WITH covered AS (SELECT {horizon_covers_sql()} AND {horizon_zone_sql()} AS ok)
    SELECT covered.ok, t.kind, t.transition, t.n FROM covered LEFT JOIN (
        SELECT kind, transition, SUM(count) AS n FROM {TRANSITIONS}
        WHERE week BETWEEN %s AND %s AND org_unit_id IN ({units_sql})
        GROUP BY kind, transition HAVING SUM(count) <> 0
    ) t ON covered.ok"""  # noqa: S608 -- table names are constants; values are parameters
    params = [period.first_week, period.last_week, settings.COVERIS_TIME_ZONE, period.first_week, period.last_week]
    params += units_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows or not rows[0][0]:
        return None
    counts: dict[str, dict[str, int]] = {"employee": {}, "assignment": {}}
    for _ok, kind, transition, n in rows:
        if kind is not None:
            counts[kind][transition] = int(n)
    return dict(sorted(counts["employee"].items())), dict(sorted(counts["assignment"].items()))


def kpi_summary(
    *,
    positions: QuerySet[Position],
    employees: QuerySet[Employee],
    period: Period,
    org_unit: OrgUnit | None = None,
    units: QuerySet[OrgUnit] | None = None,
) -> dict:
    """Coverage ratio, open gap hours, utilisation, overtime, headcount by state and transitions in the period.

    ``positions`` and ``employees`` are the caller's scope; ``org_unit`` narrows both to its subtree. ``units``, the
    org units of exactly those employees (the same scope), lets supply come from the weekly rollup.
    """
    if org_unit is not None:
        positions = positions.filter(org_unit__path__startswith=org_unit.path)
        employees = employees.filter(org_unit__path__startswith=org_unit.path)
        units = units.filter(path__startswith=org_unit.path) if units is not None else None
    lo, hi = period.weeks_start, period.weeks_end

    coverage = coverage_totals(positions=positions, period=period)
    supply = supply_totals_rolled(units=units, start=lo, end=hi) if units is not None else None
    if supply is None:
        supply = supply_totals(employees=employees, start=lo, end=hi)
    contracted, leave, assigned, worked, overtime = supply
    contracted, leave, assigned, worked = hours(contracted), hours(leave), hours(assigned), hours(worked)

    headcount = dict.fromkeys(EmployeeState.values, 0)
    for state, n in employees.order_by().values("state").annotate(n=Count("id")).values_list("state", "n"):
        headcount[state] = n

    rolled = _transitions_rolled(units, period) if units is not None else None
    if rolled is not None:
        employee_transitions, assignment_transitions = rolled
    else:
        zones = _zones_in_use()
        employee_logs = EmployeeTransitionLog.objects.filter(
            _in_local_days(lo, hi, "employee__org_unit", zones), employee__in=employees.order_by().values("pk")
        )
        assignment_logs = AssignmentTransitionLog.objects.filter(
            _in_local_days(lo, hi, "assignment__employee__org_unit", zones),
            assignment__position__in=positions.order_by().values("pk"),
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
