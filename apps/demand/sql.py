"""Small per-vendor SQL fragments for date arithmetic, so the coverage, candidate and KPI queries are written once.

Only PostgreSQL (production, CI) and SQLite (local, zero set-up) are supported. The differences are few:

=====================  ===============================  ==========================================
                       PostgreSQL                       SQLite
=====================  ===============================  ==========================================
a date parameter       ``CAST(%s AS DATE)``             ``date(%s)`` (dates are ISO text)
date + n days          ``(x + n)``                      ``date(x, '+n days')``
days from a to b       ``(b - a)`` (an integer)         ``CAST(julianday(b) - julianday(a) AS INTEGER)``
least / greatest       ``LEAST`` / ``GREATEST``         scalar ``min()`` / ``max()``
=====================  ===============================  ==========================================

Neither engine's least/greatest is given a NULL here (PostgreSQL skips NULLs, SQLite returns NULL): callers
``COALESCE`` open ends first.
"""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class DateSQL:
    """Date fragments for one database vendor."""

    vendor: str

    @classmethod
    def current(cls) -> "DateSQL":
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"Coverage SQL supports PostgreSQL and SQLite, not {connection.vendor}.")
        return cls(connection.vendor)

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    def param(self) -> str:
        """A placeholder for a ``datetime.date`` parameter, typed as a date."""
        return "CAST(%s AS DATE)" if self.pg else "date(%s)"

    def add_days(self, expr: str, days: int) -> str:
        days = int(days)
        return f"({expr} + {days})" if self.pg else f"date({expr}, '{days:+d} days')"

    def days_between(self, start: str, end: str) -> str:
        """``end - start`` in whole days (negative when ``end`` comes first)."""
        return f"({end} - {start})" if self.pg else f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"

    def least(self, *exprs: str) -> str:
        return f"{'LEAST' if self.pg else 'min'}({', '.join(exprs)})"

    def greatest(self, *exprs: str) -> str:
        return f"{'GREATEST' if self.pg else 'max'}({', '.join(exprs)})"

    def overlap_days(self, start: str, end: str | None, lo: str, hi: str) -> str:
        """Days of [start, end] (end NULL: open-ended) inside [lo, hi]; callers ensure they overlap (≥ 1)."""
        capped_end = self.least(f"COALESCE({end}, {hi})", hi) if end else hi
        return f"({self.days_between(self.greatest(start, lo), capped_end)} + 1)"

    @staticmethod
    def overlaps(start: str, end: str | None, lo: str, hi: str) -> str:
        """[start, end] (end NULL: open-ended) shares at least one day with [lo, hi]."""
        if end is None:
            return f"{start} <= {hi}"
        return f"{start} <= {hi} AND ({end} IS NULL OR {end} >= {lo})"

    def weeks_cte(self) -> str:
        """``weeks(week_start)``: every Monday from the first to the last parameter (two date params)."""
        first, step, last = self.param(), self.add_days("week_start", 7), self.param()
        return f"weeks(week_start) AS (SELECT {first} UNION ALL SELECT {step} FROM weeks WHERE week_start < {last})"  # noqa: S608


def in_list(values) -> tuple[str, list]:
    """``(%s, %s, ...)`` and its params for a short, non-empty list (states, one page of ids)."""
    values = list(values)
    if not values:
        raise ValueError("in_list needs at least one value")
    return "(" + ", ".join(["%s"] * len(values)) + ")", values


def queryset_sql(queryset) -> tuple[str, list]:
    """A queryset's SQL and params, to embed as a subquery (scope filters stay in the ORM)."""
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)
