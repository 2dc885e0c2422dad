# ruff: noqa: S608 -- every SQL string here is built from constants (table, column and state names); values are parameters
"""Weekly coverage rollups (PostgreSQL): per position and ISO week, what the coverage report would sum.

``demand_coverageweek`` holds, per position and Monday, the requirements' headcount and *hour-days* (weekly hours ×
days of the week they cover) and the covering assignments' distinct employees and hour-days; hours are hour-days / 7,
as in the live SQL (apps/demand/coverage.py), so the rounded figures are identical (hour-days have two decimals, so
hour-days / 7 is never a half-cent tie). Statement-level triggers on the requirement and assignment tables apply the
difference each INSERT, UPDATE or DELETE makes, in the same transaction, whatever wrote it (services, admin, bulk
loads, raw SQL); ``rollup_rebuild`` (and ``manage.py rollups_rebuild``) recompute everything from scratch.

Only the weeks of the **horizon** (``demand_rolluphorizon``: one row, first and last Monday) are held: an open-ended
row would otherwise reach every future week. Reports whose weeks lie inside it read the rollup; others compute live.
The migration sets it to three years back and two years ahead of the day it runs; ``rollups_rebuild`` moves it
(run it from a monthly job so "two years ahead" stays ahead). Assigned headcount counts distinct employees: for each
(employee, position, week) a statement touches, it compares how many of that employee's covering assignments to the
position overlap the week after the statement with how many did before (after − the statement's own signed rows),
so two assignments of one person in one week count once, however many rows one statement changes.

SQLite (local development) has no triggers: reports always compute live there. docs/coverage.md, "How it is
computed", says what reads what.
"""

import contextlib
import datetime

from django.conf import settings
from django.db import connection, transaction

from apps.demand.choices import COVERING_STATES
from backend import timezones

WEEK = "demand_coverageweek"
HORIZON = "demand_rolluphorizon"
REQ = "demand_coveragerequirement"
ASG = "assignments_assignment"
COVERING_SQL = "(" + ", ".join(f"'{s.value}'" for s in COVERING_STATES) + ")"
YEARS_BACK, YEARS_AHEAD = 3, 2


def _weeks(start: str, end: str) -> str:
    """LATERAL generate_series of the Mondays of [start, end] (end NULL: open-ended) inside the horizon h0..h1."""
    return (
        f"generate_series(GREATEST(date_trunc('week', {start})::date, h0), "
        f"LEAST(date_trunc('week', COALESCE({end}, h1))::date, h1), interval '7 days')"
    )


def _days(start: str, end: str) -> str:
    """Days of [start, end] inside the week starting at ``w.week``."""
    return f"(LEAST(COALESCE({end}, w.week::date + 6), w.week::date + 6) - GREATEST({start}, w.week::date) + 1)"


def _signed_rows(op: str, columns: str) -> str:
    """The rows a statement changed, +1 as they are now and −1 as they were (UPDATEs that changed ``columns``)."""
    if op == "INSERT":
        return "SELECT n.*, 1 AS sign FROM new_rows n"
    if op == "DELETE":
        return "SELECT o.*, -1 AS sign FROM old_rows o"
    now, before = (", ".join(f"{alias}.{c}" for c in columns.split()) for alias in ("n", "o"))
    changed = f"({now}) IS DISTINCT FROM ({before})"
    return (
        f"SELECT n.*, 1 AS sign FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {changed} "
        f"UNION ALL SELECT o.*, -1 AS sign FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}"
    )


_UPSERT = f"""
    INSERT INTO {WEEK} AS r (position_id, week, required_headcount, required_hour_days, assigned_headcount,
                             assigned_hour_days)
    SELECT position_id, week, rh, rhd, ah, ahd FROM delta WHERE rh <> 0 OR rhd <> 0 OR ah <> 0 OR ahd <> 0
    ON CONFLICT (position_id, week) DO UPDATE SET
        required_headcount = r.required_headcount + EXCLUDED.required_headcount,
        required_hour_days = r.required_hour_days + EXCLUDED.required_hour_days,
        assigned_headcount = r.assigned_headcount + EXCLUDED.assigned_headcount,
        assigned_hour_days = r.assigned_hour_days + EXCLUDED.assigned_hour_days"""


def _requirement_function(op: str) -> str:
    rows = _signed_rows(op, "position_id valid_from valid_to required_headcount required_weekly_hours")
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_requirement_{op.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date;
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    WITH ch AS ({rows}),
    delta AS (
        SELECT ch.position_id, w.week::date AS week, SUM(ch.sign * ch.required_headcount) AS rh,
               SUM(ch.sign * ch.required_weekly_hours * {_days("ch.valid_from", "ch.valid_to")}) AS rhd,
               0 AS ah, 0 AS ahd
        FROM ch CROSS JOIN LATERAL {_weeks("ch.valid_from", "ch.valid_to")} AS w(week)
        GROUP BY ch.position_id, w.week
    ){_UPSERT};
    RETURN NULL;
END $$"""


def _assignment_function(op: str) -> str:
    rows = _signed_rows(op, "employee_id position_id start_date end_date weekly_hours state")
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_assignment_{op.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date;
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    WITH ch AS (SELECT * FROM ({rows}) c WHERE c.state IN {COVERING_SQL}),
    chw AS (
        SELECT ch.employee_id, ch.position_id, w.week::date AS week, ch.sign,
               ch.sign * ch.weekly_hours * {_days("ch.start_date", "ch.end_date")} AS hd
        FROM ch CROSS JOIN LATERAL {_weeks("ch.start_date", "ch.end_date")} AS w(week)
    ),
    pairs AS (
        SELECT employee_id, position_id, week, SUM(sign) AS k_delta, SUM(hd) AS hd
        FROM chw GROUP BY employee_id, position_id, week
    ),
    counted AS (
        SELECT p.position_id, p.week, p.hd,
               (k.k_after > 0)::int - ((k.k_after - p.k_delta) > 0)::int AS heads
        FROM pairs p CROSS JOIN LATERAL (
            SELECT COUNT(*) AS k_after FROM {ASG} a
            WHERE a.employee_id = p.employee_id AND a.position_id = p.position_id AND a.state IN {COVERING_SQL}
              AND a.start_date <= p.week + 6 AND (a.end_date IS NULL OR a.end_date >= p.week)
        ) k
    ),
    delta AS (
        SELECT position_id, week, 0 AS rh, 0 AS rhd, SUM(heads) AS ah, SUM(hd) AS ahd
        FROM counted GROUP BY position_id, week
    ){_UPSERT};
    RETURN NULL;
END $$"""


# --- supply: the hours ledger per org unit and week ------------------------------------------------------------

SUPPLY = "demand_supplyweek"
LEDGERLESS = "demand_ledgerlessemployee"
LEDGER = "offer_ledgerentry"
EMP = "api_employee"
# The column an entry counts in, and its share of one week (apps/demand/supply.py computes the same per period).
_COLUMN = "(CASE WHEN l.kind = 'adjustment' THEN l.adjusts ELSE l.kind END)"
_SHARE = (
    "(CASE WHEN l.basis = 'weekly_rate' THEN l.hours * {days} / 7.0 "
    "ELSE l.hours * {days} / ((l.period_end - l.period_start) + 1.0) END)"
).format(days=_days("l.period_start", "l.period_end"))
_SUPPLY_SUMS = ", ".join(
    f"SUM(l.sign * CASE WHEN {_COLUMN} = '{kind}' THEN {_SHARE} ELSE 0 END) AS {name}"
    for kind, name in (
        ("contracted", "contracted"),
        ("leave", "leave_h"),
        ("assigned", "assigned"),
        ("worked", "worked"),
    )
)
_SUPPLY_UPSERT = f"""
    INSERT INTO {SUPPLY} AS r (org_unit_id, week, contracted, leave_h, assigned, worked)
    SELECT unit, week, contracted, leave_h, assigned, worked FROM delta
    ON CONFLICT (org_unit_id, week) DO UPDATE SET
        contracted = r.contracted + EXCLUDED.contracted, leave_h = r.leave_h + EXCLUDED.leave_h,
        assigned = r.assigned + EXCLUDED.assigned, worked = r.worked + EXCLUDED.worked"""


def _supply_delta(entries: str) -> str:
    """``delta(unit, week, contracted, leave_h, assigned, worked)`` of ``entries`` (ledger rows with ``unit`` and
    ``sign``) over the horizon's weeks."""
    return f"""delta AS (
        SELECT l.unit, w.week::date AS week, {_SUPPLY_SUMS}
        FROM ({entries}) l CROSS JOIN LATERAL {_weeks("l.period_start", "l.period_end")} AS w(week)
        GROUP BY l.unit, w.week
    )"""


def _ledger_function() -> str:
    """Ledger rows are only ever inserted (append-only, ADR 0004): each adds its shares to its employee's unit."""
    entries = f"SELECT n.*, e.org_unit_id AS unit, 1 AS sign FROM new_rows n JOIN {EMP} e ON e.id = n.employee_id"
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_ledger_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date;
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    WITH {_supply_delta(entries)}{_SUPPLY_UPSERT};
    DELETE FROM {LEDGERLESS} WHERE employee_id IN (SELECT employee_id FROM new_rows);
    RETURN NULL;
END $$"""


def _employee_insert_function() -> str:
    """A new employee has no ledger entry yet: the KPIs count them from their contract (the ``contract`` source)."""
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_employee_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {LEDGERLESS} (employee_id)
    SELECT n.id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = n.id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$"""


def _employee_move_function() -> str:
    """An employee moving to another unit takes their ledger shares along."""
    moved = (
        "SELECT n.id, o.org_unit_id AS old_unit, n.org_unit_id AS new_unit FROM new_rows n "
        "JOIN old_rows o ON o.id = n.id WHERE n.org_unit_id IS DISTINCT FROM o.org_unit_id"
    )
    entries = (
        f"SELECT x.*, m.old_unit AS unit, -1 AS sign FROM {LEDGER} x JOIN moved m ON m.id = x.employee_id "
        f"UNION ALL SELECT x.*, m.new_unit AS unit, 1 AS sign FROM {LEDGER} x JOIN moved m ON m.id = x.employee_id"
    )
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_employee_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date;
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    WITH moved AS ({moved}), {_supply_delta(entries)}{_SUPPLY_UPSERT};
    RETURN NULL;
END $$"""


def supply_from_scratch_sql() -> str:
    """SELECT of every supply rollup row from the ledger (two date parameters: the horizon's Mondays)."""
    entries = f"SELECT x.*, e.org_unit_id AS unit, 1 AS sign FROM {LEDGER} x JOIN {EMP} e ON e.id = x.employee_id"
    return f"""
    WITH h AS (SELECT CAST(%s AS date) AS h0, CAST(%s AS date) AS h1),
    {_supply_delta(entries).replace("CROSS JOIN LATERAL", "CROSS JOIN h CROSS JOIN LATERAL", 1)}
    SELECT unit, week, contracted, leave_h, assigned, worked FROM delta"""


_SUPPLY_COLUMNS = (("contracted", "contracted"), ("leave", "leave_h"), ("assigned", "assigned"), ("worked", "worked"))


def supply_rebuild_sql() -> str:
    """``supply_from_scratch_sql``'s rows with work that grows with the entries, not entries × weeks (the rebuild).

    An entry's share is the same in every full week of its period; only its first and last week inside the horizon
    can be partial. So each entry adds three terms, each computed by ``_SHARE`` as the per-week SQL computes it: its
    full-week share from its first week on and minus it after its last (a running sum per unit and column), and the
    difference of its first and last week's own share from the full one in those weeks. Sums of the very same numeric
    terms, in another order, so the rows are equal to the per-week SQL's exactly (numeric addition does not round);
    the tests compare the two. Two date parameters: the horizon's Mondays.
    """
    share = _SHARE.replace("w.week", "x.week")  # the share of the week ``x.week``
    full = _SHARE.replace(_days("l.period_start", "l.period_end"), "7")  # of a week it covers every day of
    pivot = ", ".join(
        f"SUM(CASE WHEN col = '{kind}' THEN {{v}} ELSE 0 END) AS {{p}}{name}" for kind, name in _SUPPLY_COLUMNS
    )
    running = ", ".join(
        f"COALESCE(SUM(a.s_{name}) OVER w, 0) + COALESCE(a.p_{name}, 0) AS {name}" for _, name in _SUPPLY_COLUMNS
    )
    names = ", ".join(name for _, name in _SUPPLY_COLUMNS)
    return f"""
    WITH h AS (SELECT CAST(%s AS date) AS h0, CAST(%s AS date) AS h1),
    l AS (
        SELECT x.*, e.org_unit_id AS unit, {_COLUMN.replace("l.", "x.")} AS col,
               GREATEST(date_trunc('week', x.period_start)::date, h.h0) AS w0,
               LEAST(date_trunc('week', COALESCE(x.period_end, h.h1))::date, h.h1) AS w1
        FROM {LEDGER} x JOIN {EMP} e ON e.id = x.employee_id CROSS JOIN h
    ),
    t AS (
        SELECT l.unit, l.col, l.w0, l.w1, {full} AS full_share,
               (SELECT {share} FROM (SELECT l.w0 AS week) x) AS first_share,
               (SELECT {share} FROM (SELECT l.w1 AS week) x) AS last_share
        FROM l WHERE l.w0 <= l.w1
    ),
    steps AS (
        SELECT unit, col, w0 AS week, full_share AS step, first_share - full_share AS point, 1 AS n FROM t
        UNION ALL SELECT unit, col, w1 + 7, -full_share, 0, -1 FROM t
        UNION ALL SELECT unit, col, w1, 0, last_share - full_share, 0 FROM t WHERE w1 <> w0
    ),
    agg AS (
        SELECT unit, week, {pivot.format(v="step", p="s_")}, {pivot.format(v="point", p="p_")}, SUM(n) AS n
        FROM steps GROUP BY unit, week
    ),
    grid AS (
        SELECT u.unit, g.week::date AS week
        FROM (SELECT unit, MIN(week) AS lo, MAX(week) AS hi FROM agg GROUP BY unit) u
        CROSS JOIN LATERAL generate_series(u.lo, u.hi, interval '7 days') AS g(week)
    ),
    summed AS (
        SELECT g.unit, g.week, {running}, COALESCE(SUM(a.n) OVER w, 0) AS covering
        FROM grid g LEFT JOIN agg a ON a.unit = g.unit AND a.week = g.week
        WINDOW w AS (PARTITION BY g.unit ORDER BY g.week)
    )
    SELECT unit, week, {names} FROM summed WHERE covering > 0"""


# --- transitions: log rows per kind, org unit, local week and transition name -----------------------------------

TRANSITIONS = "demand_transitionweek"
EMP_LOG = "fsm_employeetransitionlog"
ASG_LOG = "assignments_assignmenttransitionlog"
POS = "api_position"
UNIT = "api_orgunit"
# The zone that decides an org unit's day (docs/time-zones.md): its own time_zone, else its nearest ancestor's, else
# the organisation's, which the horizon row holds (``rollup_rebuild`` writes COVERIS_TIME_ZONE there; reports read
# the transition rollup only while the two agree). apps/api/timezones.py computes the same for Python. The ancestors
# are the ids of the unit's materialized path ("/1/7/12/"): primary-key probes, not a scan of every unit.
ZONE_FUNCTION = "demand_unit_time_zone"
_ZONE_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {ZONE_FUNCTION}(unit_id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT a.time_zone FROM {UNIT} u
         JOIN {UNIT} a ON a.id = ANY(string_to_array(btrim(u.path, '/'), '/')::bigint[])
         WHERE u.id = unit_id AND a.time_zone <> '' ORDER BY a.depth DESC LIMIT 1),
        (SELECT NULLIF(time_zone, '') FROM {HORIZON} LIMIT 1),
        'UTC')
$$"""
# A log row's week: the Monday of the local week its moment falls in, in the zone of its employee's unit (the KPIs
# count the same rows live, apps/demand/kpis.py). ``zone_unit`` is that unit's id column.
_LOG_WEEK = "date_trunc('week', {alias}.created_at AT TIME ZONE " + ZONE_FUNCTION + "({zone_unit}))::date"
_TRANSITIONS_UPSERT = f"""
    INSERT INTO {TRANSITIONS} AS r (kind, org_unit_id, week, transition, count)
    SELECT kind, unit, week, transition, SUM(sign) FROM counted
    WHERE week BETWEEN h0 AND h1
    GROUP BY kind, unit, week, transition
    ON CONFLICT (kind, org_unit_id, week, transition) DO UPDATE SET count = r.count + EXCLUDED.count"""


def _log_rows(kind: str, logs: str, unit: str, join: str, sign: str = "1", zone_unit: str | None = None) -> str:
    """``counted`` rows (kind, unit, week, transition, sign) of the log rows ``logs`` (aliased g), counted in
    ``unit`` and in the week of the zone of ``zone_unit`` (default: ``unit``, an employee log's own unit)."""
    week = _LOG_WEEK.format(alias="g", zone_unit=zone_unit or unit)
    return f"SELECT '{kind}' AS kind, {unit} AS unit, {week} AS week, g.transition, {sign} AS sign FROM {logs} g {join}"


# An assignment's log rows count in its position's unit, in the week of its employee's zone.
_BY_ASSIGNMENT = (
    f"JOIN {ASG} a ON a.id = g.assignment_id JOIN {POS} p ON p.id = a.position_id "
    f"JOIN {EMP} ae ON ae.id = a.employee_id"
)
# Counting every log of many units (a rebuild, a unit's zone changing), the zone is looked up once per unit, not
# once per row (the function per row costs about 50 times the week arithmetic itself): ``unit_zones`` is a CTE.
UNIT_ZONES = f"unit_zones AS (SELECT id, {ZONE_FUNCTION}(id) AS tz FROM {UNIT}), "
_BULK_WEEK = "date_trunc('week', g.created_at AT TIME ZONE COALESCE(z.tz, " + ZONE_FUNCTION + "(NULL)))::date"


def _employee_logs(unit_filter: str = "") -> str:
    """Every employee log row (of the units ``unit_filter`` keeps); needs ``UNIT_ZONES`` before it."""
    return (
        f"SELECT 'employee' AS kind, e.org_unit_id AS unit, {_BULK_WEEK} AS week, g.transition, 1 AS sign "
        f"FROM {EMP_LOG} g JOIN {EMP} e ON e.id = g.employee_id LEFT JOIN unit_zones z ON z.id = e.org_unit_id "
        f"{unit_filter}"
    )


def _assignment_logs(unit_filter: str = "") -> str:
    """Every assignment log row (of the units ``unit_filter`` keeps); needs ``UNIT_ZONES`` before it."""
    return (
        f"SELECT 'assignment' AS kind, p.org_unit_id AS unit, {_BULK_WEEK} AS week, g.transition, 1 AS sign "
        f"FROM {ASG_LOG} g {_BY_ASSIGNMENT} LEFT JOIN unit_zones z ON z.id = ae.org_unit_id {unit_filter}"
    )


def _transition_function(name: str, counted: str, prelude: str = "") -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date;
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    WITH {prelude}counted AS ({counted}){_TRANSITIONS_UPSERT};
    RETURN NULL;
END $$"""


def _zones_function() -> str:
    """An org unit's zone or place changing re-dates every log counted in that zone: the rows of the units concerned
    are counted again from the logs (rare: an admin changing a site's zone or moving a unit)."""
    return f"""
CREATE OR REPLACE FUNCTION demand_rollup_unit_zones() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h0 date; h1 date; zoned bigint[]; asg_units bigint[];
BEGIN
    SELECT first_week, last_week INTO h0, h1 FROM {HORIZON} LIMIT 1;
    IF h0 IS NULL THEN RETURN NULL; END IF;
    -- Every unit under one whose zone or path changed may now have another zone.
    SELECT array_agg(DISTINCT u.id) INTO zoned FROM {UNIT} u
    JOIN new_rows n ON starts_with(u.path, n.path) JOIN old_rows o ON o.id = n.id
    WHERE n.time_zone IS DISTINCT FROM o.time_zone OR n.path IS DISTINCT FROM o.path;
    IF zoned IS NULL THEN RETURN NULL; END IF;
    -- Employee logs count in their employee's unit; assignment logs of those employees in their positions' units.
    SELECT COALESCE(array_agg(DISTINCT p.org_unit_id), '{{}}') INTO asg_units FROM {ASG} a
    JOIN {EMP} e ON e.id = a.employee_id JOIN {POS} p ON p.id = a.position_id WHERE e.org_unit_id = ANY(zoned);
    DELETE FROM {TRANSITIONS}
    WHERE (kind = 'employee' AND org_unit_id = ANY(zoned)) OR (kind = 'assignment' AND org_unit_id = ANY(asg_units));
    WITH {UNIT_ZONES}counted AS (
        {_employee_logs("WHERE e.org_unit_id = ANY(zoned)")}
        UNION ALL {_assignment_logs("WHERE p.org_unit_id = ANY(asg_units)")}
    ){_TRANSITIONS_UPSERT};
    RETURN NULL;
END $$"""


def _transition_triggers() -> list[tuple[str, str, str, str, str, str]]:
    """(name, table, event, transition tables, counted rows, CTEs before them) of every transition-count trigger."""
    emp_new = _log_rows("employee", "new_rows", "e.org_unit_id", f"JOIN {EMP} e ON e.id = g.employee_id")
    asg_new = _log_rows("assignment", "new_rows", "p.org_unit_id", _BY_ASSIGNMENT, zone_unit="ae.org_unit_id")
    moved_employees = (
        "moved AS (SELECT n.id, o.org_unit_id AS old_unit, n.org_unit_id AS new_unit FROM new_rows n "
        "JOIN old_rows o ON o.id = n.id WHERE n.org_unit_id IS DISTINCT FROM o.org_unit_id), "
    )
    # An employee moving takes their logs to the new unit, and re-dates their assignments' logs in its zone.
    by_employee_assignment = (
        f"JOIN {ASG} a ON a.id = g.assignment_id JOIN moved m ON m.id = a.employee_id "
        f"JOIN {POS} p ON p.id = a.position_id"
    )
    emp_moved = (
        _log_rows("employee", EMP_LOG, "m.old_unit", "JOIN moved m ON m.id = g.employee_id", "-1")
        + " UNION ALL "
        + _log_rows("employee", EMP_LOG, "m.new_unit", "JOIN moved m ON m.id = g.employee_id")
        + " UNION ALL "
        + _log_rows("assignment", ASG_LOG, "p.org_unit_id", by_employee_assignment, "-1", zone_unit="m.old_unit")
        + " UNION ALL "
        + _log_rows("assignment", ASG_LOG, "p.org_unit_id", by_employee_assignment, zone_unit="m.new_unit")
    )
    moved_positions = (
        "moved AS (SELECT n.id, o.org_unit_id AS old_unit, n.org_unit_id AS new_unit FROM new_rows n "
        "JOIN old_rows o ON o.id = n.id WHERE n.org_unit_id IS DISTINCT FROM o.org_unit_id), "
    )
    by_position = (
        f"JOIN {ASG} a ON a.id = g.assignment_id JOIN moved m ON m.id = a.position_id "
        f"JOIN {EMP} ae ON ae.id = a.employee_id"
    )
    pos_moved = (
        _log_rows("assignment", ASG_LOG, "m.old_unit", by_position, "-1", zone_unit="ae.org_unit_id")
        + " UNION ALL "
        + _log_rows("assignment", ASG_LOG, "m.new_unit", by_position, zone_unit="ae.org_unit_id")
    )
    reassigned = (
        "moved AS (SELECT n.id, po.org_unit_id AS old_unit, pn.org_unit_id AS new_unit, "
        "eo.org_unit_id AS old_zone_unit, en.org_unit_id AS new_zone_unit FROM new_rows n "
        f"JOIN old_rows o ON o.id = n.id JOIN {POS} po ON po.id = o.position_id JOIN {POS} pn ON pn.id = n.position_id "
        f"JOIN {EMP} eo ON eo.id = o.employee_id JOIN {EMP} en ON en.id = n.employee_id "
        "WHERE po.org_unit_id IS DISTINCT FROM pn.org_unit_id OR eo.org_unit_id IS DISTINCT FROM en.org_unit_id), "
    )
    by_moved = "JOIN moved m ON m.id = g.assignment_id"
    asg_moved = (
        _log_rows("assignment", ASG_LOG, "m.old_unit", by_moved, "-1", zone_unit="m.old_zone_unit")
        + " UNION ALL "
        + _log_rows("assignment", ASG_LOG, "m.new_unit", by_moved, zone_unit="m.new_zone_unit")
    )
    new, both = "NEW TABLE AS new_rows", "OLD TABLE AS old_rows NEW TABLE AS new_rows"
    return [
        ("demand_rollup_emplog_insert", EMP_LOG, "INSERT", new, emp_new, ""),
        ("demand_rollup_asglog_insert", ASG_LOG, "INSERT", new, asg_new, ""),
        ("demand_rollup_employee_logs", EMP, "UPDATE", both, emp_moved, moved_employees),
        ("demand_rollup_position_logs", POS, "UPDATE", both, pos_moved, moved_positions),
        ("demand_rollup_assignment_logs", ASG, "UPDATE", both, asg_moved, reassigned),
    ]


def transitions_from_scratch_sql() -> str:
    """SELECT of every transition-count row from the logs (two date parameters: the horizon's Mondays)."""
    return f"""
    WITH h AS (SELECT CAST(%s AS date) AS h0, CAST(%s AS date) AS h1),
    {UNIT_ZONES}counted AS ({_employee_logs()} UNION ALL {_assignment_logs()})
    SELECT kind, unit, week, transition, SUM(sign) FROM counted, h WHERE week BETWEEN h0 AND h1
    GROUP BY kind, unit, week, transition"""


def install_sql() -> list[str]:
    """Functions and statement-level triggers (one per event: a trigger with transition tables has one event)."""
    statements = [_ZONE_FUNCTION_SQL]
    for table, kind, function in (
        ("REQ", "requirement", _requirement_function),
        ("ASG", "assignment", _assignment_function),
    ):
        name = {"REQ": REQ, "ASG": ASG}[table]
        for op in ("INSERT", "UPDATE", "DELETE"):
            statements.append(function(op))
            referencing = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows"}.get(
                op, "OLD TABLE AS old_rows NEW TABLE AS new_rows"
            )
            trigger = f"demand_rollup_{kind}_{op.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {trigger} ON {name}")
            statements.append(
                f"CREATE TRIGGER {trigger} AFTER {op} ON {name} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {trigger}()"
            )
    statements += [
        _ledger_function(),
        f"DROP TRIGGER IF EXISTS demand_rollup_ledger_insert ON {LEDGER}",
        f"CREATE TRIGGER demand_rollup_ledger_insert AFTER INSERT ON {LEDGER} REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION demand_rollup_ledger_insert()",
        _employee_insert_function(),
        f"DROP TRIGGER IF EXISTS demand_rollup_employee_insert ON {EMP}",
        f"CREATE TRIGGER demand_rollup_employee_insert AFTER INSERT ON {EMP} REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION demand_rollup_employee_insert()",
        _employee_move_function(),
        f"DROP TRIGGER IF EXISTS demand_rollup_employee_update ON {EMP}",
        f"CREATE TRIGGER demand_rollup_employee_update AFTER UPDATE ON {EMP} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION demand_rollup_employee_update()",
        *(
            statement
            for name, table, op, referencing, counted, prelude in _transition_triggers()
            for statement in (
                _transition_function(name, counted, prelude),
                f"DROP TRIGGER IF EXISTS {name} ON {table}",
                f"CREATE TRIGGER {name} AFTER {op} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            )
        ),
        _zones_function(),
        f"DROP TRIGGER IF EXISTS demand_rollup_unit_zones ON {UNIT}",
        f"CREATE TRIGGER demand_rollup_unit_zones AFTER UPDATE ON {UNIT} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION demand_rollup_unit_zones()",
        # Overtime reads the worked column's entries of the period: found from their end, not the whole history.
        f"CREATE INDEX IF NOT EXISTS demand_ledger_worked_end ON {LEDGER} (period_end) "
        "WHERE kind IN ('worked', 'adjustment')",
    ]
    return statements


def uninstall_sql() -> list[str]:
    statements = []
    for name, kind in ((REQ, "requirement"), (ASG, "assignment")):
        for op in ("insert", "update", "delete"):
            statements.append(f"DROP TRIGGER IF EXISTS demand_rollup_{kind}_{op} ON {name}")
            statements.append(f"DROP FUNCTION IF EXISTS demand_rollup_{kind}_{op}()")
    statements += [
        f"DROP TRIGGER IF EXISTS demand_rollup_ledger_insert ON {LEDGER}",
        "DROP FUNCTION IF EXISTS demand_rollup_ledger_insert()",
        f"DROP TRIGGER IF EXISTS demand_rollup_employee_update ON {EMP}",
        "DROP FUNCTION IF EXISTS demand_rollup_employee_update()",
        f"DROP TRIGGER IF EXISTS demand_rollup_employee_insert ON {EMP}",
        "DROP FUNCTION IF EXISTS demand_rollup_employee_insert()",
        "DROP INDEX IF EXISTS demand_ledger_worked_end",
    ]
    for name, table, *_ in _transition_triggers():
        statements += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    statements += [
        f"DROP TRIGGER IF EXISTS demand_rollup_unit_zones ON {UNIT}",
        "DROP FUNCTION IF EXISTS demand_rollup_unit_zones()",
        f"DROP FUNCTION IF EXISTS {ZONE_FUNCTION}(bigint)",
    ]
    return statements


def _horizon_and_requirement_weeks() -> str:
    """The CTEs ``h`` (the horizon's Mondays: two date parameters) and ``req`` (per position and week, the required
    headcount and hour-days), shared by the oracle and the rebuild: requirements are few, summed week by week."""
    return f"""h AS (SELECT CAST(%s AS date) AS h0, CAST(%s AS date) AS h1),
    req AS (
        SELECT r.position_id, w.week::date AS week, SUM(r.required_headcount) AS rh,
               SUM(r.required_weekly_hours * {_days("r.valid_from", "r.valid_to")}) AS rhd
        FROM {REQ} r CROSS JOIN h CROSS JOIN LATERAL {_weeks("r.valid_from", "r.valid_to")} AS w(week)
        GROUP BY r.position_id, w.week
    )"""  # noqa: S608


def from_scratch_sql() -> str:
    """SELECT of every non-zero rollup row, computed from the base tables (the rebuild, and the tests' oracle).

    Two date parameters: the horizon's first and last Monday.
    """
    return f"""
    WITH {_horizon_and_requirement_weeks()},
    asg AS (
        SELECT a.position_id, w.week::date AS week, COUNT(DISTINCT a.employee_id) AS ah,
               SUM(a.weekly_hours * {_days("a.start_date", "a.end_date")}) AS ahd
        FROM {ASG} a CROSS JOIN h CROSS JOIN LATERAL {_weeks("a.start_date", "a.end_date")} AS w(week)
        WHERE a.state IN {COVERING_SQL}
        GROUP BY a.position_id, w.week
    )
    SELECT COALESCE(req.position_id, asg.position_id) AS position_id, COALESCE(req.week, asg.week) AS week,
           COALESCE(req.rh, 0), COALESCE(req.rhd, 0), COALESCE(asg.ah, 0), COALESCE(asg.ahd, 0)
    FROM req FULL JOIN asg ON asg.position_id = req.position_id AND asg.week = req.week"""  # noqa: S608


def coverage_rebuild_sql() -> str:
    """``from_scratch_sql``'s rows with work that grows with the assignments, not assignments × weeks (the rebuild).

    Requirements are few and summed week by week as there. An assignment's hour-days are the same in every full week
    (``supply_rebuild_sql``'s running sum and first/last-week differences, exact: no division). Distinct headcount:
    each employee's covering assignments to a position are merged into runs of overlapping weeks, and a running sum
    counts +1 from a run's first week and -1 after its last, so a person counts once per week however many of their
    assignments overlap it. Two date parameters: the horizon's Mondays.
    """
    days = _days("a.start_date", "a.end_date")
    return f"""
    WITH {_horizon_and_requirement_weeks()},
    a AS (
        SELECT x.*, GREATEST(date_trunc('week', x.start_date)::date, h.h0) AS w0,
               LEAST(date_trunc('week', COALESCE(x.end_date, h.h1))::date, h.h1) AS w1
        FROM {ASG} x CROSS JOIN h WHERE x.state IN {COVERING_SQL}
    ),
    t AS (
        SELECT a.position_id, a.employee_id, a.w0, a.w1, a.weekly_hours * 7 AS full_hd,
               (SELECT a.weekly_hours * {days.replace("w.week", "w0.week")} FROM (SELECT a.w0 AS week) w0) AS first_hd,
               (SELECT a.weekly_hours * {days.replace("w.week", "w1.week")} FROM (SELECT a.w1 AS week) w1) AS last_hd
        FROM a WHERE a.w0 <= a.w1
    ),
    ordered AS (
        SELECT t.*, MAX(w1) OVER (PARTITION BY position_id, employee_id ORDER BY w0, w1
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_end
        FROM t
    ),
    runs AS (
        SELECT position_id, employee_id, w0, w1,
               SUM(CASE WHEN before_end IS NULL OR w0 > before_end THEN 1 ELSE 0 END)
                   OVER (PARTITION BY position_id, employee_id ORDER BY w0, w1) AS run
        FROM ordered
    ),
    steps AS (
        SELECT position_id, w0 AS week, full_hd AS hd_step, first_hd - full_hd AS hd_point, 0 AS heads FROM t
        UNION ALL SELECT position_id, w1 + 7, -full_hd, 0, 0 FROM t
        UNION ALL SELECT position_id, w1, 0, last_hd - full_hd, 0 FROM t WHERE w1 <> w0
        UNION ALL SELECT position_id, MIN(w0), 0, 0, 1 FROM runs GROUP BY position_id, employee_id, run
        UNION ALL SELECT position_id, MAX(w1) + 7, 0, 0, -1 FROM runs GROUP BY position_id, employee_id, run
    ),
    agg AS (
        SELECT position_id, week, SUM(hd_step) AS hd_step, SUM(hd_point) AS hd_point, SUM(heads) AS heads
        FROM steps GROUP BY position_id, week
    ),
    grid AS (
        SELECT p.position_id, g.week::date AS week
        FROM (SELECT position_id, MIN(week) AS lo, MAX(week) AS hi FROM agg GROUP BY position_id) p
        CROSS JOIN LATERAL generate_series(p.lo, p.hi, interval '7 days') AS g(week)
    ),
    asg AS (
        SELECT g.position_id, g.week, COALESCE(SUM(x.heads) OVER w, 0) AS ah,
               COALESCE(SUM(x.hd_step) OVER w, 0) + COALESCE(x.hd_point, 0) AS ahd
        FROM grid g LEFT JOIN agg x ON x.position_id = g.position_id AND x.week = g.week
        WINDOW w AS (PARTITION BY g.position_id ORDER BY g.week)
    )
    SELECT COALESCE(req.position_id, asg.position_id) AS position_id, COALESCE(req.week, asg.week) AS week,
           COALESCE(req.rh, 0), COALESCE(req.rhd, 0), COALESCE(asg.ah, 0), COALESCE(asg.ahd, 0)
    FROM req FULL JOIN (SELECT * FROM asg WHERE ah > 0) asg
        ON asg.position_id = req.position_id AND asg.week = req.week"""  # noqa: S608


def default_horizon(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return monday - datetime.timedelta(weeks=52 * YEARS_BACK), monday + datetime.timedelta(weeks=52 * YEARS_AHEAD)


def rollup_rebuild(
    *, first_week: datetime.date, last_week: datetime.date, bounds_from: datetime.date | None = None
) -> int:
    """Recompute every rollup row over a new horizon, from scratch; returns the rows written. PostgreSQL only.

    The candidates' free-hours bounds (apps/demand/candidate_bounds.py) are rebuilt to hold for periods from
    ``bounds_from`` on (default: today), so that assignments and contract changes already in force tighten them.

    The horizon also records ``COVERIS_TIME_ZONE``, the zone of units that set none: the transition rollup's weeks
    are local weeks, so after the setting changes the KPIs compute live until this runs again.

    Locks the rollup table first (writers' triggers wait, then add their difference on top), so it is safe to run
    while the API serves.
    """
    from apps.demand import candidate_bounds  # it reads this module's table names

    with transaction.atomic(), connection.cursor() as cursor:
        # Migration 0007 rebuilds before 0008 creates the candidates' bounds: those are rebuilt only where they exist.
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [candidate_bounds.BOUNDS])
        bounds = cursor.fetchone()[0]
        tables = [WEEK, SUPPLY, TRANSITIONS, LEDGERLESS, *([candidate_bounds.BOUNDS] if bounds else [])]
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {HORIZON}")
        cursor.execute(
            f"INSERT INTO {HORIZON} (id, first_week, last_week, time_zone) VALUES (1, %s, %s, %s)",
            [first_week, last_week, settings.COVERIS_TIME_ZONE],
        )
        cursor.execute(f"DELETE FROM {WEEK}")
        cursor.execute(
            f"""INSERT INTO {WEEK} (position_id, week, required_headcount, required_hour_days, assigned_headcount,
                                    assigned_hour_days) {coverage_rebuild_sql()}""",  # noqa: S608
            [first_week, last_week],
        )
        written = cursor.rowcount
        cursor.execute(f"DELETE FROM {SUPPLY}")
        columns = "org_unit_id, week, contracted, leave_h, assigned, worked"
        cursor.execute(f"INSERT INTO {SUPPLY} ({columns}) {supply_rebuild_sql()}", [first_week, last_week])
        written += cursor.rowcount
        cursor.execute(f"DELETE FROM {LEDGERLESS}")
        cursor.execute(
            f"INSERT INTO {LEDGERLESS} (employee_id) SELECT e.id FROM {EMP} e "
            f"WHERE NOT EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = e.id)"
        )
        if bounds:
            cursor.execute(f"UPDATE {HORIZON} SET bounds_from = %s", [bounds_from or timezones.today()])
            for statement in candidate_bounds.rebuild_sql():
                cursor.execute(statement)
        cursor.execute(f"DELETE FROM {TRANSITIONS}")
        columns = "kind, org_unit_id, week, transition, count"
        cursor.execute(
            f"INSERT INTO {TRANSITIONS} ({columns}) {transitions_from_scratch_sql()}", [first_week, last_week]
        )
        return written + cursor.rowcount


@contextlib.contextmanager
def rollups_suspended_for_load():
    """Around a bulk load (``seed_demo``): the rollups hold no horizon while it runs, then are rebuilt once.

    With the horizon row gone every rollup trigger returns at its first statement (no weekly upsert per row
    written) and every report computes live, so reports stay right throughout — also for other sessions, and also
    when the load stops half way. At the end (or on an error) ``rollup_rebuild`` recomputes everything from scratch
    over the horizon there was (none: the default one). The triggers themselves are untouched: every other writer,
    and this one once rebuilt, maintains the rollups as before. Yields the horizon it will rebuild. PostgreSQL only;
    elsewhere (no rollups) it does nothing.
    """
    if connection.vendor != "postgresql":
        yield None
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {HORIZON} RETURNING first_week, last_week")  # noqa: S608
        row = cursor.fetchone()
    first, last = row if row else default_horizon(timezones.today())
    try:
        yield first, last
    finally:
        rollup_rebuild(first_week=first, last_week=last)


def horizon_covers_sql() -> str:
    """SQL true when the rollup holds every week from the first to the second date parameter."""
    return f"EXISTS (SELECT 1 FROM {HORIZON} WHERE first_week <= %s AND last_week >= %s)"  # noqa: S608


def horizon_zone_sql() -> str:
    """SQL true when the rollup's local weeks are those of the zone given as parameter (``COVERIS_TIME_ZONE``)."""
    return f"EXISTS (SELECT 1 FROM {HORIZON} WHERE time_zone = %s)"  # noqa: S608
