"""Hours on the supply side over a period, per employee, for candidates and KPIs: one SQL aggregate for all.

Source per employee (docs/coverage.md, "Free hours"):

- **ledger** — the employee has at least one hours-ledger entry (``apps.offer.LedgerEntry``): contracted,
  leave, assigned and worked come from the ledger. Weekly-rate entries count ``hours × days / 7`` for the days
  of the period they cover; total entries spread their hours evenly over their own days and count the share
  that falls in the period; an adjustment counts in the column it names; reversals carry the opposite sign.
- **contract** — no ledger entry at all (the ledger is not populated for them yet): contracted is
  ``contracted_weekly_hours × days employed in the period / 7``; assigned is the approved, active and
  completed assignments pro-rated the same way; leave and worked are 0.

This module computes the numbers itself rather than calling apps.offer's balances, so it depends only on the
ledger's table, not on that app's services.
"""

import datetime

from django.db import connection
from django.db.models import QuerySet

from apps.api.models import Employee
from apps.assignments.models import Assignment
from apps.demand.choices import COVERING_STATES
from apps.demand.sql import DateSQL, in_list, queryset_sql
from apps.offer.choices import EntryBasis, EntryKind
from apps.offer.models import LedgerEntry

LEDGER = LedgerEntry._meta.db_table
ASG = Assignment._meta.db_table
EMP = Employee._meta.db_table

COLUMNS = ("contracted", "leave_h", "assigned", "worked")


def _ledger_share_sql(d) -> tuple[str, str]:
    """SQL for a ledger entry ``l``: the balance column it counts in, and its hours falling in the week ``b``
    (``b.lo``..``b.hi``) — a weekly rate pro rata per day, a total spread evenly over its own period."""
    adjustment, weekly = EntryKind.ADJUSTMENT.value, EntryBasis.WEEKLY_RATE.value
    column = f"(CASE WHEN l.kind = '{adjustment}' THEN l.adjusts ELSE l.kind END)"
    days = d.overlap_days("l.period_start", "l.period_end", "b.lo", "b.hi")
    # Total entries always have an end (a database constraint), so their own length is known.
    own_days = f"({d.days_between('l.period_start', 'l.period_end')} + 1.0)"
    share = f"(CASE WHEN l.basis = '{weekly}' THEN l.hours * {days} / 7.0 ELSE l.hours * {days} / {own_days} END)"
    return column, share


def ledger_sums_sql(d) -> str:
    """The four balance columns (``COLUMNS``) summed over ledger entries ``l`` falling in ``b``: SQL select items."""
    column, share = _ledger_share_sql(d)
    return ",\n".join(
        f"SUM(CASE WHEN {column} = '{kind.value}' THEN {share} ELSE 0 END) AS {name}"
        for kind, name in zip(
            (EntryKind.CONTRACTED, EntryKind.LEAVE, EntryKind.ASSIGNED, EntryKind.WORKED), COLUMNS, strict=True
        )
    )


POOL_COLUMNS = ("id", "employee_number", "state", "contracted_weekly_hours", "hire_date", "termination_date")


def supply_ctes(
    *, employees: QuerySet[Employee], start, end, prefix: str = "", unique: bool = False
) -> tuple[str, list]:
    """CTEs (without ``WITH``) ending in ``supply(id, from_ledger, contracted, leave_h, assigned, worked)`` (plus
    the employee's other ``POOL_COLUMNS``).

    Also defines ``bounds(lo, hi)`` and ``pool`` (the employees, with the ``POOL_COLUMNS`` of their row), which a
    caller may read too: candidate ranking builds on them (apps/demand/candidate_sql.py), so it joins neither the
    employee table nor the pool again. Every CTE name starts with ``prefix``, so one query can hold the supply of
    two sets of employees. ``unique``: the caller knows ``employees`` has no duplicate rows (no DISTINCT pass).
    """
    d = DateSQL.current()
    pool_sql, pool_params = queryset_sql(employees.order_by().values(*POOL_COLUMNS))
    pool_columns = ", ".join(f"p.{c}" for c in POOL_COLUMNS)
    states_sql, states = in_list([s.value for s in COVERING_STATES])
    sums = ledger_sums_sql(d)
    asg_days = d.overlap_days("a.start_date", "a.end_date", "b.lo", "b.hi")
    employed = d.overlap_days("e.hire_date", "e.termination_date", "b.lo", "b.hi")
    materialized = "MATERIALIZED " if d.pg else ""  # PostgreSQL would inline a CTE read once; SQLite < 3.35 lacks it
    sql = f"""
    {prefix}bounds AS (SELECT {d.param()} AS lo, {d.param()} AS hi),
    {prefix}pool AS {materialized}(SELECT {"" if unique else "DISTINCT "}{pool_columns} FROM ({pool_sql}) p),
    {prefix}led AS (
        SELECT l.employee_id AS employee_id, {sums}
        FROM {LEDGER} l JOIN {prefix}pool pool ON pool.id = l.employee_id CROSS JOIN {prefix}bounds b
        WHERE {d.overlaps("l.period_start", "l.period_end", "b.lo", "b.hi")}
        GROUP BY l.employee_id
    ),
    {prefix}asg AS (
        SELECT a.employee_id AS employee_id, SUM(a.weekly_hours * {asg_days} / 7.0) AS hours
        FROM {ASG} a JOIN {prefix}pool pool ON pool.id = a.employee_id CROSS JOIN {prefix}bounds b
        WHERE a.state IN {states_sql} AND {d.overlaps("a.start_date", "a.end_date", "b.lo", "b.hi")}
        GROUP BY a.employee_id
    ),
    -- Materialized: its from_ledger is read four times below, and PostgreSQL would otherwise repeat the EXISTS.
    {prefix}raw AS {materialized}(
        SELECT {", ".join(f"e.{c}" for c in POOL_COLUMNS)},
               CASE WHEN EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = e.id) THEN 1 ELSE 0 END AS from_ledger,
               COALESCE(led.contracted, 0) AS l_contracted, COALESCE(led.leave_h, 0) AS l_leave,
               COALESCE(led.assigned, 0) AS l_assigned, COALESCE(led.worked, 0) AS l_worked,
               CASE WHEN {d.overlaps("e.hire_date", "e.termination_date", "b.lo", "b.hi")}
                    THEN e.contracted_weekly_hours * {employed} / 7.0 ELSE 0 END AS c_contracted,
               COALESCE(asg.hours, 0) AS c_assigned
        FROM {prefix}pool e CROSS JOIN {prefix}bounds b
        LEFT JOIN {prefix}led led ON led.employee_id = e.id
        LEFT JOIN {prefix}asg asg ON asg.employee_id = e.id
    ),
    {prefix}supply AS (
        SELECT {", ".join(POOL_COLUMNS)}, from_ledger,
               CASE WHEN from_ledger = 1 THEN l_contracted ELSE c_contracted END AS contracted,
               CASE WHEN from_ledger = 1 THEN l_leave ELSE 0 END AS leave_h,
               CASE WHEN from_ledger = 1 THEN l_assigned ELSE c_assigned END AS assigned,
               l_worked AS worked
        FROM {prefix}raw
    )"""  # noqa: S608 -- fragments, table names and choice values are constants; values are parameters
    return sql, [start, end, *pool_params, *states]


def supply_sql(*, employees: QuerySet[Employee], start, end) -> tuple[str, list]:
    """SQL returning (employee id, from_ledger 1/0, contracted, leave_h, assigned, worked) over [start, end]."""
    ctes, params = supply_ctes(employees=employees, start=start, end=end)
    return f"WITH {ctes}\n    SELECT id, from_ledger, contracted, leave_h, assigned, worked FROM supply", params  # noqa: S608


def supply_by_employee(*, employees: QuerySet[Employee], start, end) -> dict[int, tuple]:
    """employee id → (from_ledger, contracted, leave, assigned, worked) over [start, end]: one query."""
    sql, params = supply_sql(employees=employees, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (bool(row[1]), *row[2:]) for row in cursor.fetchall()}


def supply_totals(*, employees: QuerySet[Employee], start, end) -> tuple:
    """Sums over ``employees``: (contracted, leave, assigned, worked, overtime) over [start, end]: one query.

    Overtime is each employee's worked hours beyond their contracted hours over the period (0 when they
    worked no more than contracted, or clocked nothing), summed.
    """
    sql, params = supply_sql(employees=employees, start=start, end=end)
    total = f"""SELECT SUM(contracted), SUM(leave_h), SUM(assigned), SUM(worked),
        SUM(CASE WHEN worked > contracted THEN worked - contracted ELSE 0 END) FROM ({sql}) s"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(total, params)
        return cursor.fetchone()


def supply_totals_rolled(*, units: QuerySet, start, end) -> tuple | None:
    """``supply_totals`` of the employees of ``units`` from the weekly supply rollup (apps/demand/rollups.py), or None
    when the rollup does not hold [start, end] (whole ISO weeks) or the database is not PostgreSQL: one query.

    Scope is by org unit (the employees in scope are exactly those of the units in scope: both are a unit-path
    prefix). Ledger employees' columns come from the rollup. Employees without any ledger entry (the ``contract``
    source, listed by ``demand_ledgerlessemployee``) are computed live, as in ``supply_sql``. Overtime is per
    employee over the whole period, so it is computed live for the only employees who can have any: those with a
    worked entry, or a contracted adjustment (the one way contracted hours go negative), overlapping the period.
    """
    if connection.vendor != "postgresql":
        return None
    from apps.demand.rollups import LEDGERLESS, SUPPLY, horizon_covers_sql

    d = DateSQL.current()
    units_sql, units_params = queryset_sql(units.order_by().values("id"))
    states_sql, states = in_list([s.value for s in COVERING_STATES])
    column, share = _ledger_share_sql(d)
    overlapping = d.overlaps("l.period_start", "l.period_end", "b.lo", "b.hi")
    asg_days = d.overlap_days("a.start_date", "a.end_date", "b.lo", "b.hi")
    employed = d.overlap_days("e.hire_date", "e.termination_date", "b.lo", "b.hi")
    worked, contracted, adjustment = EntryKind.WORKED.value, EntryKind.CONTRACTED.value, EntryKind.ADJUSTMENT.value
    counts_overtime = (
        f"l.kind IN ('{worked}', '{adjustment}') AND (l.kind = '{worked}' OR l.adjusts IN ('{worked}', '{contracted}'))"
    )
    sql = f"""
    WITH bounds AS (SELECT {d.param()} AS lo, {d.param()} AS hi),
    scope(id) AS MATERIALIZED ({units_sql}),
    rolled AS (
        SELECT SUM(contracted) AS contracted, SUM(leave_h) AS leave_h, SUM(assigned) AS assigned, SUM(worked) AS worked
        FROM {SUPPLY} r CROSS JOIN bounds b
        WHERE r.week BETWEEN b.lo AND b.hi AND r.org_unit_id IN (SELECT id FROM scope)
    ),
    contract AS (
        SELECT SUM(CASE WHEN {d.overlaps("e.hire_date", "e.termination_date", "b.lo", "b.hi")}
                        THEN e.contracted_weekly_hours * {employed} / 7.0 ELSE 0 END) AS contracted,
               SUM(COALESCE(asg.hours, 0)) AS assigned
        FROM {LEDGERLESS} c JOIN {EMP} e ON e.id = c.employee_id CROSS JOIN bounds b
        LEFT JOIN LATERAL (
            SELECT SUM(a.weekly_hours * {asg_days} / 7.0) AS hours FROM {ASG} a
            WHERE a.employee_id = e.id AND a.state IN {states_sql}
              AND {d.overlaps("a.start_date", "a.end_date", "b.lo", "b.hi")}
        ) asg ON TRUE
        WHERE e.org_unit_id IN (SELECT id FROM scope)
    ),
    touched AS (
        SELECT l.employee_id AS id FROM {LEDGER} l CROSS JOIN bounds b
        WHERE {counts_overtime} AND l.period_end >= b.lo AND l.period_start <= b.hi
        UNION
        SELECT l.employee_id FROM {LEDGER} l CROSS JOIN bounds b
        WHERE {counts_overtime} AND l.period_end IS NULL AND l.period_start <= b.hi
    ),
    overtime AS (
        SELECT SUM(CASE WHEN o.worked > o.contracted THEN o.worked - o.contracted ELSE 0 END) AS hours
        FROM (
            SELECT l.employee_id,
                   SUM(CASE WHEN {column} = '{worked}' THEN {share} ELSE 0 END) AS worked,
                   SUM(CASE WHEN {column} = '{contracted}' THEN {share} ELSE 0 END) AS contracted
            FROM touched t JOIN {EMP} e ON e.id = t.id JOIN {LEDGER} l ON l.employee_id = t.id
            CROSS JOIN bounds b
            WHERE e.org_unit_id IN (SELECT id FROM scope) AND {overlapping}
            GROUP BY l.employee_id
        ) o
    )
    SELECT {horizon_covers_sql()},
           COALESCE(rolled.contracted, 0) + COALESCE(contract.contracted, 0), COALESCE(rolled.leave_h, 0),
           COALESCE(rolled.assigned, 0) + COALESCE(contract.assigned, 0), COALESCE(rolled.worked, 0),
           COALESCE(overtime.hours, 0)
    FROM rolled, contract, overtime"""  # noqa: S608 -- fragments, table names and choice values are constants
    monday_lo, monday_hi = (
        start - datetime.timedelta(days=start.weekday()),
        end - datetime.timedelta(days=end.weekday()),
    )
    params = [start, end, *units_params, *states, monday_lo, monday_hi]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if not row[0]:
        return None
    return tuple(row[1:])
