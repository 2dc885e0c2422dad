# ruff: noqa: S608 -- every SQL string here is built from constants (table, column and kind names)
"""Per employee, upper bounds of their free hours a week over any period and over any period of a week or more
(``demand_candidatebound``, ADRs 0036 and 0042).

Candidates (apps/demand/candidate_sql.py) visit the qualified in descending order of this bound and stop computing
keys once the page is decided, so it must never be below the free hours the ranking computes for anyone:

- **contract source** (no ledger entry): free hours are contracted minus assigned hours a week over the period, at
  most ``contracted_weekly_hours`` (assignment hours are positive, days employed at most the period's days);
- **ledger source**: free hours over a period P are ``(contracted − leave − assigned) × 7 / |P|`` of the entries'
  shares, which is the *average over P's days* of the employee's daily rate r(t) = Σ over the entries covering day t
  of sign × weekly rate (a weekly-rate entry: its hours; a total: hours × 7 / its own days; sign +1 for contracted,
  −1 for leave and assigned, 0 for worked; an adjustment counts in the column it names). An average is at most the
  maximum, so max_t r(t) bounds them for every period. r is a step function: its maximum is read from a running sum
  over the entries' start and end+1 days. Each entry's rate is rounded *up* to the cent, so the sum is never below
  the exact one, and free hours rounded to the cent stay at or below it.

The bound is the contract's cents for an employee without ledger entries and ``GREATEST(0, max r)`` for one with
some (the ledgerless list, kept by the same horizon rule, says which source the ranking uses), whatever the state:
free hours do not depend on it, and the holders' visit (ADR 0045) orders pending, on-leave and suspended holders by it
too (before ADR 0045 it was −1 for anyone not active). **Floor and window**: while the
horizon row's ``bounds_from`` is set (``rollup_rebuild`` sets it to the day it runs), max r is taken over
[bounds_from, bounds_from + WINDOW_DAYS − 1] only — assignments and contract changes in force then tighten it — and
the query visits only for periods inside that window; NULL (as the migration leaves it) means over all time.

**The week bound** (``week_bound``, ADR 0042), for periods of ``WEEK_MIN_DAYS`` (7) days or more: any such period
splits into consecutive pieces of 7 to 13 days, so its average of r is at most the largest average of r over a window
of 7 to 13 days inside the floor's window (rounded up to the cent). A few free days between two assignments lift max r
to the whole contract, but a window's average only by their share of its days. It is computed day by day, for the
employees whose r changes inside the window and holds its largest value there for less than 7 days in a row (for the
others the week bound is the day's one: r is constant there, or a window of 7 days inside that stretch averages its
largest value); without a floor it is the day's maximum. Never above ``bound``; the contract's cents as it.

**The committed-hours lower bounds** (ADR 0049), with a floor only (0 otherwise): with c(d) the committed (approved,
active) assignments' weekly hours covering day d (cents, rounded down), ``week_committed`` is the least over the
7-day windows inside the window of the largest c(d) there (a period of 7 days or more inside the window has a day
with at least that much: ``max_weekly_hours`` surely fails when it plus the request exceeds the limit), and
``least_committed`` the least c(d) of the window (the contract source's free hours are at most the contract minus it).

**Whether the person is active** (``active``, ADR 0050): the employee's state is ``active``, so the first visit walks
partial indexes over the active people's rows only (only they can be qualified); the employee trigger already
recomputes the row when the state changes.

Triggers keep the rows in the same transaction: an employee inserted, updated (contract hours, employee number or
state changed), a ledger entry inserted (the ledger is append-only, ADR 0004), an assignment inserted, updated (state,
dates, hours or employee changed: both employees) or deleted. Like the ledgerless list, they do
nothing while the rollups hold no horizon (a bulk load, ``rollups_suspended_for_load``), and ``rollup_rebuild``
writes every row again at the end; the candidates query trusts the table only while a horizon exists. A load that
bypasses triggers altogether (``session_replication_role = replica``) must run ``rebuild_sql``. Rows of deleted
employees are harmless (the query joins the pool) and are dropped by the next rebuild. PostgreSQL only.
"""

from apps.api.choices import EmployeeState
from apps.assignments.choices import COMMITTED_STATES
from apps.demand.rollups import ASG, EMP, HORIZON, LEDGER

BOUNDS = "demand_candidatebound"
# With a floor day F (``demand_rolluphorizon.bounds_from``), the bounds hold for periods inside [F, F + WINDOW_DAYS − 1]
# only: a quarter, so assignments ending later than that do not loosen them.
WINDOW_DAYS = 91
# The week bound's window lengths: any period of 7 days or more splits into consecutive pieces of 7 to 13 days, so its
# average is at most the largest average over a window of one of these lengths (ADR 0042).
WEEK_LENGTHS = range(7, 14)
WEEK_MIN_DAYS = WEEK_LENGTHS[0]

ACTIVE = EmployeeState.ACTIVE.value
_COMMITTED = "(" + ", ".join(f"'{s.value}'" for s in COMMITTED_STATES) + ")"

_COLUMN = "(CASE WHEN l.kind = 'adjustment' THEN l.adjusts ELSE l.kind END)"
_SIGN = f"(CASE {_COLUMN} WHEN 'contracted' THEN 1 WHEN 'leave' THEN -1 WHEN 'assigned' THEN -1 ELSE 0 END)"
# A total's weekly rate × 100 = hours × 700 / its own days (a total always has an end: a database constraint).
_RATE_CENTS = (
    "(CASE WHEN l.basis = 'weekly_rate' THEN l.hours * 100 "
    "ELSE l.hours * 700 / ((l.period_end - l.period_start) + 1) END)"
)


def bounds_sql(employees: str) -> str:
    """SELECT of (employee_id, bound, employee_number, week_bound, week_committed, least_committed, active) for the
    employees whose ids ``employees`` (SQL) returns."""
    return f"""
    WITH ids AS (SELECT DISTINCT id FROM ({employees}) i(id)),
    rated AS (
        SELECT l.employee_id, l.period_start, l.period_end, CEIL({_SIGN} * {_RATE_CENTS})::bigint AS cents
        FROM {LEDGER} l JOIN ids ON ids.id = l.employee_id
    ),
    steps AS (
        SELECT employee_id, day, SUM(cents)::bigint AS cents FROM (
            SELECT employee_id, period_start AS day, cents FROM rated WHERE cents <> 0
            UNION ALL
            SELECT employee_id, period_end + 1, -cents FROM rated WHERE cents <> 0 AND period_end IS NOT NULL
        ) s
        GROUP BY employee_id, day
    ),
    floor AS (SELECT (SELECT bounds_from FROM {HORIZON} LIMIT 1) AS day),
    -- r on the first day (the steps up to it) and after each later step up to the last; without a floor, all time.
    peaks AS (
        SELECT r.employee_id,
               GREATEST(COALESCE(SUM(r.cents) FILTER (WHERE r.day <= f.day), 0),
                        COALESCE(MAX(r.rate) FILTER (WHERE f.day IS NULL
                                                        OR (r.day > f.day AND r.day <= f.day + {WINDOW_DAYS - 1})), 0))
               AS peak
        FROM (SELECT employee_id, day, cents, SUM(cents) OVER (PARTITION BY employee_id ORDER BY day) AS rate
              FROM steps) r CROSS JOIN floor f
        GROUP BY r.employee_id
    ),
    -- The week bound (periods of 7 days or more, with a floor only): r day by day over the window, for the employees
    -- whose r changes inside it (for the others r is constant there and the peak is every window's average); then the
    -- largest average over the windows of 7 to 13 days inside it, rounded up to the cent.
    moving AS (
        SELECT DISTINCT s.employee_id FROM steps s CROSS JOIN floor f
        WHERE s.day > f.day AND s.day <= f.day + {WINDOW_DAYS - 1}
    ),
    segments AS (
        SELECT s.employee_id, s.day, s.rate,
               COALESCE(LEAD(s.day) OVER (PARTITION BY s.employee_id ORDER BY s.day), f.day + {WINDOW_DAYS}) AS next
        FROM (
            SELECT s.employee_id, s.day,
                   (SUM(s.cents) OVER (PARTITION BY s.employee_id ORDER BY s.day))::bigint AS rate,
                   LEAD(s.day) OVER (PARTITION BY s.employee_id ORDER BY s.day) AS later
            FROM (
                SELECT s.employee_id, s.day, s.cents FROM steps s JOIN moving m ON m.employee_id = s.employee_id
                UNION ALL  -- a step of nothing on the floor day: every day of the window lies in a segment
                SELECT m.employee_id, f.day, 0 FROM moving m CROSS JOIN floor f
            ) s CROSS JOIN floor f
            WHERE s.day <= f.day + {WINDOW_DAYS - 1}
        ) s CROSS JOIN floor f
        -- of the steps up to the floor day only the last one starts a segment, on that day
        WHERE s.later IS NULL OR s.later > f.day
    ),
    -- Where r holds its largest value for a week or more, that value is the week bound: day by day only the others.
    unsettled AS (
        SELECT employee_id FROM (
            SELECT employee_id, rate, next - day AS days, MAX(rate) OVER (PARTITION BY employee_id) AS top
            FROM segments
        ) s
        GROUP BY employee_id
        HAVING NOT BOOL_OR(rate = top AND days >= {WEEK_LENGTHS[0]})
    ),
    daily AS (
        SELECT g.employee_id, g.day, g.rate,
               (SUM(g.rate) OVER (PARTITION BY g.employee_id ORDER BY g.day))::bigint AS upto
        FROM (
            SELECT s.employee_id, d::date AS day, s.rate
            FROM segments s JOIN unsettled u ON u.employee_id = s.employee_id
            CROSS JOIN LATERAL generate_series(s.day, s.next - 1, interval '1 day') d
        ) g
    ),
    weeks AS (
        SELECT w.employee_id, MAX(GREATEST({", ".join(_window_averages())})) AS peak
        FROM (
            SELECT employee_id, upto - rate AS before,
                   {", ".join(f"LEAD(upto, {k - 1}) OVER w AS upto{k}" for k in WEEK_LENGTHS)}
            FROM daily WINDOW w AS (PARTITION BY employee_id ORDER BY day)
        ) w
        GROUP BY w.employee_id
    ),
    -- The committed-hours lower bound (ADR 0049), with a floor only: c(d) = Σ weekly hours (cents, rounded down) of
    -- the committed assignments covering day d of the window, a step function in segments; the bound is
    -- min over the 7-day windows inside the window of max c there, i.e. the largest segment rate x such that no run of
    -- consecutive days with c < x lasts 7 days or more.
    committed_rows AS (
        SELECT a.employee_id, GREATEST(a.start_date, f.day) AS lo,
               LEAST(COALESCE(a.end_date, f.day + {WINDOW_DAYS - 1}), f.day + {WINDOW_DAYS - 1}) AS hi,
               FLOOR(a.weekly_hours * 100)::bigint AS cents
        FROM {ASG} a JOIN ids ON ids.id = a.employee_id CROSS JOIN floor f
        WHERE a.state IN {_COMMITTED} AND a.start_date <= f.day + {WINDOW_DAYS - 1}
          AND (a.end_date IS NULL OR a.end_date >= f.day)
    ),
    csegments AS (
        SELECT s.employee_id, s.day,
               (SUM(SUM(s.cents)) OVER (PARTITION BY s.employee_id ORDER BY s.day))::bigint AS rate,
               COALESCE(LEAD(s.day) OVER (PARTITION BY s.employee_id ORDER BY s.day), f.day + {WINDOW_DAYS}) AS next
        FROM (
            SELECT employee_id, lo AS day, cents FROM committed_rows
            UNION ALL
            SELECT c.employee_id, c.hi + 1, -c.cents FROM committed_rows c CROSS JOIN floor f
            WHERE c.hi < f.day + {WINDOW_DAYS - 1}
            UNION ALL  -- a step of nothing on the floor day: every day of the window lies in a segment
            SELECT DISTINCT c.employee_id, f.day, 0 FROM committed_rows c CROSS JOIN floor f
        ) s CROSS JOIN floor f
        GROUP BY s.employee_id, s.day, f.day
    ),
    thresholds AS (SELECT DISTINCT employee_id, rate AS x FROM csegments WHERE rate > 0),
    -- each threshold's runs of days below it (islands between segments at or above it) and their lengths
    low_runs AS (
        SELECT r.employee_id, r.x, SUM(r.next - r.day) AS days
        FROM (
            SELECT t.employee_id, t.x, s.day, s.next, s.rate < t.x AS low,
                   COUNT(*) FILTER (WHERE s.rate >= t.x)
                       OVER (PARTITION BY t.employee_id, t.x ORDER BY s.day) AS island
            FROM thresholds t JOIN csegments s ON s.employee_id = t.employee_id
        ) r
        WHERE r.low
        GROUP BY r.employee_id, r.x, r.island
    ),
    -- the least committed hours of any day of the window (the contract source's free hours are at most the contract
    -- minus it, ADR 0049)
    committed_least AS (SELECT employee_id, MIN(rate) AS cents FROM csegments GROUP BY employee_id),
    committed_week AS (
        SELECT t.employee_id, MAX(t.x) AS cents FROM thresholds t
        WHERE NOT EXISTS (SELECT 1 FROM low_runs r WHERE r.employee_id = t.employee_id AND r.x = t.x
                                                      AND r.days >= {WEEK_MIN_DAYS})
        GROUP BY t.employee_id
    )
    SELECT e.id,
           CASE WHEN EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = e.id) THEN GREATEST(0, COALESCE(p.peak, 0))
                ELSE GREATEST(0, CEIL(e.contracted_weekly_hours * 100)::bigint) END,
           e.employee_number,
           CASE WHEN EXISTS (SELECT 1 FROM {LEDGER} x WHERE x.employee_id = e.id)
                    THEN GREATEST(0, COALESCE(w.peak, p.peak, 0))
                ELSE GREATEST(0, CEIL(e.contracted_weekly_hours * 100)::bigint) END,
           COALESCE(c.cents, 0), COALESCE(cl.cents, 0), e.state = '{ACTIVE}'
    FROM {EMP} e JOIN ids ON ids.id = e.id LEFT JOIN peaks p ON p.employee_id = e.id
    LEFT JOIN weeks w ON w.employee_id = e.id LEFT JOIN committed_week c ON c.employee_id = e.id
    LEFT JOIN committed_least cl ON cl.employee_id = e.id"""


def _window_averages() -> list[str]:
    """Each window length's average from ``before`` (the running sum before the window's first day) and ``upto<k>``
    (through its last day; NULL past the window's end, which GREATEST skips), rounded up to the cent in integers; a
    negative sum counts as 0 (the bound is ``GREATEST(0, …)`` anyway)."""
    return [f"(GREATEST(upto{k} - before, 0) + {k - 1}) / {k}" for k in WEEK_LENGTHS]


_UPSERT = f"""INSERT INTO {BOUNDS} AS b (employee_id, bound, employee_number, week_bound, week_committed,
                                       least_committed, active) {{select}}
    ON CONFLICT (employee_id) DO UPDATE SET bound = EXCLUDED.bound, employee_number = EXCLUDED.employee_number,
                                           week_bound = EXCLUDED.week_bound, week_committed = EXCLUDED.week_committed,
                                           least_committed = EXCLUDED.least_committed, active = EXCLUDED.active"""


def rebuild_sql() -> list[str]:
    """Every employee's row written again from scratch (``rollup_rebuild``; loads that bypassed the triggers)."""
    return [f"DELETE FROM {BOUNDS}", _UPSERT.format(select=bounds_sql(f"SELECT id FROM {EMP}"))]


def _function(name: str, touched: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {HORIZON}) THEN RETURN NULL; END IF;
    {_UPSERT.format(select=bounds_sql(touched))};
    RETURN NULL;
END $$"""


_ASSIGNMENT_CHANGED = (
    "(n.state, n.start_date, n.end_date, n.weekly_hours, n.employee_id) IS DISTINCT FROM "
    "(o.state, o.start_date, o.end_date, o.weekly_hours, o.employee_id)"
)

# (trigger and function name, table, event, transition tables, the employees whose bound it recomputes)
_TRIGGERS = (
    ("demand_bound_ledger_insert", LEDGER, "INSERT", "NEW TABLE AS new_rows", "SELECT employee_id FROM new_rows"),
    ("demand_bound_employee_insert", EMP, "INSERT", "NEW TABLE AS new_rows", "SELECT id FROM new_rows"),
    (
        "demand_bound_employee_update",
        EMP,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE (n.contracted_weekly_hours, n.employee_number, n.state) IS DISTINCT FROM "
        "(o.contracted_weekly_hours, o.employee_number, o.state)",
    ),
    # The committed-hours bound (ADR 0049) reads the committed assignments.
    ("demand_bound_assignment_insert", ASG, "INSERT", "NEW TABLE AS new_rows", "SELECT employee_id FROM new_rows"),
    (
        "demand_bound_assignment_update",
        ASG,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        f"SELECT x.employee_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"CROSS JOIN LATERAL (VALUES (n.employee_id), (o.employee_id)) x(employee_id) WHERE {_ASSIGNMENT_CHANGED}",
    ),
    ("demand_bound_assignment_delete", ASG, "DELETE", "OLD TABLE AS old_rows", "SELECT employee_id FROM old_rows"),
)


def install_sql() -> list[str]:
    statements = [
        # The visit's order (apps/demand/candidate_sql.py): bound, then the ranking's tie-breaks.
        f"CREATE INDEX IF NOT EXISTS demand_candidatebound_visit ON {BOUNDS} "
        '(bound DESC, employee_number COLLATE "C", employee_id)',
        # ... and for periods of a week or more (ADR 0042).
        f"CREATE INDEX IF NOT EXISTS demand_candidatebound_week_visit ON {BOUNDS} "
        '(week_bound DESC, employee_number COLLATE "C", employee_id)',
        # The same two orders over the active people's rows only (ADR 0050): the first visit walks the qualified, who
        # are active, without passing the others' rows (most of the highest bounds are people with no assignment).
        *(
            f"CREATE INDEX IF NOT EXISTS demand_candidatebound_active_{name} ON {BOUNDS} "
            f'({column} DESC, employee_number COLLATE "C", employee_id) WHERE active'
            for name, column in (("visit", "bound"), ("week_visit", "week_bound"))
        ),
    ]
    for name, table, op, referencing, touched in _TRIGGERS:
        statements += [
            _function(name, touched),
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {op} ON {table} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def uninstall_sql() -> list[str]:
    return [
        "DROP INDEX IF EXISTS demand_candidatebound_visit",
        "DROP INDEX IF EXISTS demand_candidatebound_week_visit",
        "DROP INDEX IF EXISTS demand_candidatebound_active_visit",
        "DROP INDEX IF EXISTS demand_candidatebound_active_week_visit",
        *(
            statement
            for name, table, *_ in _TRIGGERS
            for statement in (f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()")
        ),
    ]
