"""Reads for the hours ledger, scoped to what the caller's role may see, and the weekly balances in SQL.

Scope (SPEC §3): admin, hr and auditor see everyone; a manager the employees of their org unit's subtree; an
employee themself; anyone else nobody.

Balances (docs/ledger.md): one aggregate query for a page of employees × weeks and one for the totals, whatever
the number of employees, weeks or entries. A weekly-rate entry adds ``hours × days it covers in the week / 7``; a
total entry ``hours × its days in the week / its days``; an adjustment counts in the column it adjusts.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Expression, OuterRef, QuerySet

from apps.api.models import Employee
from apps.offer.choices import BALANCE_KINDS, EntryBasis, EntryKind
from apps.offer.models import ClockEvent, LedgerEntry
from backend.permissions import scope_for

COLUMNS = tuple(str(kind) for kind in BALANCE_KINDS)  # contracted, assigned, leave, worked
CENT = Decimal("0.01")
MAX_WEEKS = 104


def _scoped(queryset: QuerySet, user, prefix: str = "") -> QuerySet:
    return scope_for(user, queryset, unit_paths=f"{prefix}org_unit__path", own=f"{prefix}user")


def employee_scope(*, user) -> QuerySet[Employee]:
    """Employees whose ledger ``user`` may read."""
    return _scoped(Employee.objects.all(), user)


@cache
def _reversal_ids() -> QuerySet[LedgerEntry]:
    """The ids of an entry's reversals, for ``ArraySubquery``: built once (about a tenth of a ledger page's CPU, ADR
    0039), as the subquery works on its own copy of the query."""
    return LedgerEntry.objects.filter(reverses=OuterRef("pk")).order_by("id").values("id")


def reversal_ids_subquery() -> ArraySubquery:
    """Django's ``ArraySubquery`` of an entry's reversal ids, unresolved (what ``ReversalIds`` compiles)."""
    return ArraySubquery(_reversal_ids())


@cache
def _reversal_ids_field():
    return reversal_ids_subquery().output_field


class ReversalIds(Expression):
    """``reversal_ids_subquery()`` as an annotation, built and resolved against the query when the query is compiled
    instead of when it is annotated (ADR 0046): the same SQL, while the annotation holds no state of its own.

    Resolving an ``ArraySubquery`` when annotating clones and resolves its inner query, and ADR 0039's statement key
    then walks that inner query — on every ledger request, although the page's statement is compiled once. This
    annotation's SQL depends only on the query it is compiled in (which the key walks anyway) and on this class, so
    annotating costs next to nothing and the key sees a bare instance. Only what the ledger's queryset does with
    its annotation is carried over (selecting it, the empty-result value, no aggregate); it is not a general
    stand-in for a subquery (no ``GROUP BY`` or outer-reference handling of its own).
    """

    contains_aggregate = False
    contains_subquery = True
    empty_result_set_value = None
    subquery = True

    @property
    def output_field(self):
        return _reversal_ids_field()

    def as_sql(self, compiler, connection):
        return compiler.compile(reversal_ids_subquery().resolve_expression(compiler.query))


def ledger_entry_list(*, user) -> QuerySet[LedgerEntry]:
    """Ledger entries ``user`` may read, oldest first, with the ids of their reversals: on PostgreSQL an array
    subquery in the page's own query (``reversed_by_ids``, ``ReversalIds``), elsewhere one prefetch query."""
    entries = _scoped(LedgerEntry.objects.all(), user, "employee__").order_by("id")
    if connection.vendor == "postgresql":
        return entries.annotate(reversed_by_ids=ReversalIds())
    return entries.prefetch_related("reversals")


def clock_event_list(*, user) -> QuerySet[ClockEvent]:
    """Clock events ``user`` may read, newest first, with the employee joined."""
    return _scoped(ClockEvent.objects.select_related("employee"), user, "employee__")


# --- balances ---------------------------------------------------------------------------------------


def week_range(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The ISO weeks intersecting [start, end]: from start's Monday to end's Sunday (may raise OverflowError)."""
    return start - datetime.timedelta(days=start.weekday()), end + datetime.timedelta(days=6 - end.weekday())


def week_count(start: datetime.date, end: datetime.date) -> int:
    """How many ISO weeks intersect [start, end]."""
    monday, sunday = week_range(start, end)
    return ((sunday - monday).days + 1) // 7


@dataclass(frozen=True)
class _Dialect:
    """The few date fragments PostgreSQL and SQLite spell differently (dates are ISO text in SQLite)."""

    vendor: str

    def date(self, param: str = "%s") -> str:
        return f"CAST({param} AS date)" if self.vendor == "postgresql" else f"date({param})"

    def add_days(self, expr: str, days: int) -> str:
        return f"({expr} + {days})" if self.vendor == "postgresql" else f"date({expr}, '{days:+d} days')"

    def days_from_to(self, first: str, last: str) -> str:
        """Days from ``first`` to ``last``, inclusive (a number)."""
        if self.vendor == "postgresql":
            return f"({last} - {first} + 1)"
        return f"(julianday({last}) - julianday({first}) + 1)"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.vendor == "postgresql" else f"min({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.vendor == "postgresql" else f"max({a}, {b})"


def _dialect() -> _Dialect:
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"Balances need SQL fragments for {connection.vendor}.")
    return _Dialect(connection.vendor)


def _sums(d: _Dialect, lo: str, hi: str) -> str:
    """SELECT items: each column's contribution of the joined entries ``l`` to the window [lo, hi]."""
    overlap = d.days_from_to(d.greatest("l.period_start", lo), d.least(f"COALESCE(l.period_end, {hi})", hi))
    per_day = (
        f"CASE WHEN l.basis = '{EntryBasis.WEEKLY_RATE}' THEN 7.0 "
        f"ELSE {d.days_from_to('l.period_start', 'l.period_end')} END"
    )
    column = f"CASE WHEN l.kind = '{EntryKind.ADJUSTMENT}' THEN l.adjusts ELSE l.kind END"
    contribution = f"l.hours * {overlap} / ({per_day})"
    return ", ".join(
        f"COALESCE(SUM(CASE WHEN {column} = '{name}' THEN {contribution} END), 0) AS {name}" for name in COLUMNS
    )


def _overlaps(lo: str, hi: str) -> str:
    return f"l.period_start <= {hi} AND (l.period_end IS NULL OR l.period_end >= {lo})"


def _cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP) + 0  # + 0: no "-0.00"


def _balance(values) -> dict[str, Decimal]:
    row = {name: _cents(value) for name, value in zip(COLUMNS, values, strict=True)}
    # From the rounded columns, so every row adds up to the cent.
    row["available"] = row["contracted"] - row["leave"] - row["assigned"]
    return row


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def balance_rows(*, employee_ids: list[int], start: datetime.date, end: datetime.date) -> list[dict]:
    """One row per employee (in the given order) per ISO week intersecting [start, end]: one query.

    The weeks come from a recursive CTE; every (employee, week) pair is left-joined to the entries overlapping that
    week, so weeks without entries are rows of zeros.
    """
    if not employee_ids:
        return []
    first, last = week_range(start, end)
    last_monday = last - datetime.timedelta(days=6)
    d = _dialect()
    table, employees = LedgerEntry._meta.db_table, Employee._meta.db_table
    ids = ", ".join(["%s"] * len(employee_ids))
    # Every interpolated fragment is a constant of this module or a table name; values go in as parameters.
    sql = f"""
        WITH RECURSIVE weeks(week_start) AS (
            SELECT {d.date()}
            UNION ALL
            SELECT {d.add_days("week_start", 7)} FROM weeks WHERE week_start < {d.date()}
        ),
        windows AS (SELECT week_start, {d.add_days("week_start", 6)} AS week_end FROM weeks)
        SELECT e.id, w.week_start, {_sums(d, "w.week_start", "w.week_end")}
        FROM {employees} e
        CROSS JOIN windows w
        LEFT JOIN {table} l ON l.employee_id = e.id AND {_overlaps("w.week_start", "w.week_end")}
        WHERE e.id IN ({ids})
        GROUP BY e.id, w.week_start
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [first.isoformat(), last_monday.isoformat(), *employee_ids])
        found = {(employee_id, _as_date(week)): values for employee_id, week, *values in cursor.fetchall()}
    weeks = [first + datetime.timedelta(weeks=n) for n in range(((last - first).days + 1) // 7)]
    return [
        {"employee": employee_id, "week": week, **_balance(found.get((employee_id, week), (0,) * len(COLUMNS)))}
        for employee_id in employee_ids
        for week in weeks
    ]


def balance_totals(*, employees: QuerySet[Employee], start: datetime.date, end: datetime.date) -> dict:
    """The columns summed over ``employees`` and every week intersecting [start, end]: one query."""
    first, last = week_range(start, end)
    d = _dialect()
    subquery, params = employees.order_by().values("id").query.sql_with_params()
    sql = f"""
        WITH bounds AS (SELECT {d.date()} AS lo, {d.date()} AS hi)
        SELECT {_sums(d, "b.lo", "b.hi")}
        FROM {LedgerEntry._meta.db_table} l
        CROSS JOIN bounds b
        WHERE l.employee_id IN ({subquery}) AND {_overlaps("b.lo", "b.hi")}
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [first.isoformat(), last.isoformat(), *params])
        return _balance(cursor.fetchone())
