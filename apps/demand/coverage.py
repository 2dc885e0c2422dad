"""The coverage report: required against assigned headcount and hours per position (or org unit) per ISO week.

Computed by SQL aggregation, one query per report whatever the number of positions and weeks: a recursive CTE
lists the weeks, requirements and assignments are joined to the weeks they overlap and summed, pro-rated by
the days of each week they cover. The rules are in docs/coverage.md.
"""

from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.api.models import OrgUnit, Position
from apps.assignments.models import Assignment
from apps.demand.choices import COVERING_STATES, CoverageStatus
from apps.demand.models import CoverageRequirement
from apps.demand.periods import Period, as_date, hours, hours_text, ratio
from apps.demand.rollups import WEEK, horizon_covers_sql
from apps.demand.sql import DateSQL, in_list, queryset_sql

REQ = CoverageRequirement._meta.db_table
ASG = Assignment._meta.db_table
POS = Position._meta.db_table
UNIT = OrgUnit._meta.db_table


def coverage_status(*, required_headcount: int, assigned_headcount: int, required_hours, assigned_hours) -> str:
    """under when hours or headcount fall short; over when neither does and one exceeds; met when both equal."""
    if assigned_hours < required_hours or assigned_headcount < required_headcount:
        return CoverageStatus.UNDER.value
    if assigned_hours > required_hours or assigned_headcount > required_headcount:
        return CoverageStatus.OVER.value
    return CoverageStatus.MET.value


def _measures(required_headcount, required_hours, assigned_headcount, assigned_hours) -> dict:
    """The shared numbers of a coverage row; hours to the cent, gap = required − assigned (positive: shortfall)."""
    required_h, assigned_h = hours(required_hours), hours(assigned_hours)
    required_hc, assigned_hc = int(required_headcount or 0), int(assigned_headcount or 0)
    return {
        "required_headcount": required_hc,
        "assigned_headcount": assigned_hc,
        "required_hours": hours_text(required_h),
        "assigned_hours": hours_text(assigned_h),
        "gap_hours": hours_text(required_h - assigned_h),
        "coverage_ratio": ratio(assigned_h, required_h),
        "status": coverage_status(
            required_headcount=required_hc,
            assigned_headcount=assigned_hc,
            required_hours=required_h,
            assigned_hours=assigned_h,
        ),
    }


# --- which rows -------------------------------------------------------------------------------------------


def coverage_positions(
    *, positions: QuerySet[Position], period: Period, org_unit: OrgUnit | None = None, position: Position | None = None
) -> QuerySet[Position]:
    """The positions a report lists: active ones, and inactive ones that still have demand or people that period."""
    if org_unit is not None:
        positions = positions.filter(org_unit__path__startswith=org_unit.path)
    if position is not None:
        return positions.filter(pk=position.pk)
    lo, hi = period.weeks_start, period.weeks_end
    demand = CoverageRequirement.objects.filter(position=OuterRef("pk"), valid_from__lte=hi).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=lo)
    )
    people = Assignment.objects.filter(position=OuterRef("pk"), state__in=COVERING_STATES, start_date__lte=hi).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=lo)
    )
    return positions.filter(Q(is_active=True) | Exists(demand) | Exists(people)).order_by("code", "pk")


def coverage_org_units(*, units: QuerySet[OrgUnit], org_unit: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    """The org units a roll-up lists: ``org_unit`` and everything below it (else the whole scope), tree order."""
    if org_unit is not None:
        units = units.filter(path__startswith=org_unit.path)
    return units.order_by("path", "pk")


# --- the SQL ----------------------------------------------------------------------------------------------


def _base_ctes(d: DateSQL, period: Period, pos_sql: str, pos_params: list) -> tuple[str, list]:
    """weeks, pos (the positions), req and asg (per position and week), and pw (keys that have either).

    Each requirement and assignment is joined to every week it overlaps; its weekly hours count in proportion
    to the days of that week it covers (days / 7). Headcount: requirements add theirs; assignments count
    distinct employees.
    """
    week_end = d.add_days("w.week_start", 6)
    states_sql, states = in_list([s.value for s in COVERING_STATES])
    req_days = d.overlap_days("r.valid_from", "r.valid_to", "w.week_start", week_end)
    asg_days = d.overlap_days("a.start_date", "a.end_date", "w.week_start", week_end)
    sql = f"""
    WITH RECURSIVE {d.weeks_cte()},
    pos(id) AS ({pos_sql}),
    req AS (
        SELECT r.position_id AS position_id, w.week_start AS week_start,
               SUM(r.required_headcount) AS headcount,
               SUM(r.required_weekly_hours * {req_days} / 7.0) AS hours
        FROM weeks w
        JOIN {REQ} r ON {d.overlaps("r.valid_from", "r.valid_to", "w.week_start", week_end)}
        WHERE r.position_id IN (SELECT id FROM pos)
        GROUP BY r.position_id, w.week_start
    ),
    asg AS (
        SELECT a.position_id AS position_id, w.week_start AS week_start,
               COUNT(DISTINCT a.employee_id) AS headcount,
               SUM(a.weekly_hours * {asg_days} / 7.0) AS hours
        FROM weeks w
        JOIN {ASG} a ON {d.overlaps("a.start_date", "a.end_date", "w.week_start", week_end)}
        WHERE a.state IN {states_sql} AND a.position_id IN (SELECT id FROM pos)
        GROUP BY a.position_id, w.week_start
    ),
    pw AS (
        SELECT k.position_id AS position_id, k.week_start AS week_start,
               COALESCE(req.headcount, 0) AS req_hc, COALESCE(req.hours, 0) AS req_h,
               COALESCE(asg.headcount, 0) AS asg_hc, COALESCE(asg.hours, 0) AS asg_h
        FROM (SELECT position_id, week_start FROM req UNION SELECT position_id, week_start FROM asg) k
        LEFT JOIN req ON req.position_id = k.position_id AND req.week_start = k.week_start
        LEFT JOIN asg ON asg.position_id = k.position_id AND asg.week_start = k.week_start
    )"""  # noqa: S608 -- fragments and table names are constants; values are parameters
    return sql, [period.first_week, period.last_week, *pos_params, *states]


# A position-week's shortfall as the report shows it (hours rounded to the cent, positive part of the gap).
_OPEN_GAP = "CASE WHEN ROUND(req_h, 2) > ROUND(asg_h, 2) THEN ROUND(req_h, 2) - ROUND(asg_h, 2) ELSE 0 END"
_UNDER = "CASE WHEN ROUND(asg_h, 2) < ROUND(req_h, 2) OR asg_hc < req_hc THEN 1 ELSE 0 END"


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _from_rollup(sql: str, params: list, period: Period) -> list[tuple] | None:
    """Rows of ``sql`` over the rollup (apps/demand/rollups.py), or None when the rollup does not hold every week
    of ``period`` (or the database is not PostgreSQL): one query either way.

    ``sql`` selects from the CTE ``rollup`` (the rollup's rows for the period's weeks); its first column is never
    NULL in a real row.
    """
    if connection.vendor != "postgresql":
        return None
    lo, hi = period.first_week, period.last_week
    rows = _fetch(
        f"""WITH rollup AS (SELECT * FROM {WEEK} WHERE week BETWEEN %s AND %s),
        covered AS (SELECT {horizon_covers_sql()} AS ok)
        SELECT covered.ok, q.* FROM covered LEFT JOIN ({sql}) q ON covered.ok""",  # noqa: S608
        [lo, hi, lo, hi, *params],
    )
    if not rows or not rows[0][0]:
        return None
    return [row[1:] for row in rows if row[1] is not None]


def coverage_by_position_week(*, positions: list[Position], period: Period) -> list[dict]:
    """One row per position (in the given order) per week of ``period``: one query (the rollup when it holds
    the weeks, else the live SQL)."""
    if not positions:
        return []
    d = DateSQL.current()
    ids_sql, ids = in_list([p.pk for p in positions])
    rolled = _from_rollup(
        f"""SELECT position_id, week, required_headcount, required_hour_days / 7.0, assigned_headcount,
                   assigned_hour_days / 7.0
            FROM rollup WHERE position_id IN {ids_sql}""",  # noqa: S608
        ids,
        period,
    )
    if rolled is not None:
        found = {(row[0], as_date(row[1])): row[2:] for row in rolled}
    else:
        ctes, params = _base_ctes(d, period, f"SELECT id FROM {POS} WHERE id IN {ids_sql}", ids)  # noqa: S608
        sql = f"""{ctes}
        SELECT p.id, w.week_start, COALESCE(req.headcount, 0), COALESCE(req.hours, 0),
               COALESCE(asg.headcount, 0), COALESCE(asg.hours, 0)
        FROM pos p CROSS JOIN weeks w
        LEFT JOIN req ON req.position_id = p.id AND req.week_start = w.week_start
        LEFT JOIN asg ON asg.position_id = p.id AND asg.week_start = w.week_start"""  # noqa: S608
        found = {(row[0], as_date(row[1])): row[2:] for row in _fetch(sql, params)}
    rows = []
    for position in positions:
        for week in period.weeks:
            req_hc, req_h, asg_hc, asg_h = found.get((position.pk, week), (0, 0, 0, 0))
            rows.append(
                {
                    "position": position.pk,
                    "position_code": position.code,
                    "week": week.isoformat(),
                    **_measures(req_hc, req_h, asg_hc, asg_h),
                }
            )
    return rows


def coverage_by_org_unit_week(*, units: list[OrgUnit], positions: QuerySet[Position], period: Period) -> list[dict]:
    """One row per org unit (in the given order) per week, summing every position of the unit's subtree.

    ``positions`` is the caller's scope; a unit's subtree is its materialized-path prefix. Assigned headcount
    counts distinct employees over the whole subtree (someone on two of its positions counts once).
    """
    if not units:
        return []
    d = DateSQL.current()
    pos_sql, pos_params = queryset_sql(positions.order_by().values("id"))
    ctes, params = _base_ctes(d, period, pos_sql, pos_params)
    ids_sql, ids = in_list([u.pk for u in units])
    week_end = d.add_days("w.week_start", 6)
    states_sql, states = in_list([s.value for s in COVERING_STATES])
    sql = f"""{ctes},
    units AS (SELECT id, path FROM {UNIT} WHERE id IN {ids_sql}),
    pwu AS (
        SELECT pw.*, ou.path AS path FROM pw
        JOIN {POS} p ON p.id = pw.position_id JOIN {UNIT} ou ON ou.id = p.org_unit_id
    ),
    emp AS (
        SELECT DISTINCT a.employee_id AS employee_id, w.week_start AS week_start, ou.path AS path
        FROM weeks w
        JOIN {ASG} a ON {d.overlaps("a.start_date", "a.end_date", "w.week_start", week_end)}
        JOIN {POS} p ON p.id = a.position_id JOIN {UNIT} ou ON ou.id = p.org_unit_id
        WHERE a.state IN {states_sql} AND a.position_id IN (SELECT id FROM pos)
    ),
    unit_pw AS (
        SELECT u.id AS unit_id, pwu.week_start AS week_start, SUM(req_hc) AS req_hc, SUM(req_h) AS req_h,
               SUM(asg_h) AS asg_h, SUM({_OPEN_GAP}) AS open_gap, SUM({_UNDER}) AS positions_under
        FROM units u JOIN pwu ON pwu.path LIKE u.path || '%%'
        GROUP BY u.id, pwu.week_start
    ),
    unit_emp AS (
        SELECT u.id AS unit_id, emp.week_start AS week_start, COUNT(DISTINCT emp.employee_id) AS asg_hc
        FROM units u JOIN emp ON emp.path LIKE u.path || '%%'
        GROUP BY u.id, emp.week_start
    )
    SELECT u.id, w.week_start, unit_pw.req_hc, unit_pw.req_h, unit_emp.asg_hc, unit_pw.asg_h,
           unit_pw.open_gap, unit_pw.positions_under
    FROM units u CROSS JOIN weeks w
    LEFT JOIN unit_pw ON unit_pw.unit_id = u.id AND unit_pw.week_start = w.week_start
    LEFT JOIN unit_emp ON unit_emp.unit_id = u.id AND unit_emp.week_start = w.week_start"""  # noqa: S608
    found = {(row[0], as_date(row[1])): row[2:] for row in _fetch(sql, [*params, *ids, *states])}
    rows = []
    for unit in units:
        for week in period.weeks:
            req_hc, req_h, asg_hc, asg_h, open_gap, under = found.get((unit.pk, week), (0, 0, 0, 0, 0, 0))
            rows.append(
                {
                    "org_unit": unit.pk,
                    "org_unit_code": unit.code,
                    "week": week.isoformat(),
                    **_measures(req_hc, req_h, asg_hc, asg_h),
                    "open_gap_hours": hours_text(open_gap),
                    "positions_under": int(under or 0),
                }
            )
    return rows


def coverage_totals(*, positions: QuerySet[Position], period: Period) -> dict[str, Decimal]:
    """Required, assigned and open-gap hours over every position-week of ``period`` for ``positions``: one query
    (the rollup when it holds the weeks, else the live SQL)."""
    d = DateSQL.current()
    pos_sql, pos_params = queryset_sql(positions.order_by().values("id"))
    rolled = _from_rollup(
        f"""SELECT 1, SUM(ROUND(req_h, 2)), SUM(ROUND(asg_h, 2)), SUM({_OPEN_GAP}) FROM (
                SELECT required_hour_days / 7.0 AS req_h, assigned_hour_days / 7.0 AS asg_h,
                       required_headcount AS req_hc, assigned_headcount AS asg_hc
                FROM rollup WHERE position_id IN ({pos_sql})
            ) pw""",  # noqa: S608
        pos_params,
        period,
    )
    if rolled is not None:
        required, assigned, open_gap = rolled[0][1:]
    else:
        ctes, params = _base_ctes(d, period, pos_sql, pos_params)
        sql = f"""{ctes}
        SELECT SUM(ROUND(req_h, 2)), SUM(ROUND(asg_h, 2)), SUM({_OPEN_GAP}) FROM pw"""  # noqa: S608
        required, assigned, open_gap = _fetch(sql, params)[0]
    return {"required_hours": hours(required), "assigned_hours": hours(assigned), "open_gap_hours": hours(open_gap)}
