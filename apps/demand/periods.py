"""ISO weeks: every report works on whole weeks, Monday to Sunday."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ONE_WEEK = datetime.timedelta(days=7)
CENT = Decimal("0.01")


def monday(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s ISO week."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """What the caller asked for ([start, end], both inclusive) and the ISO weeks it touches."""

    start: datetime.date
    end: datetime.date

    @property
    def first_week(self) -> datetime.date:
        return monday(self.start)

    @property
    def last_week(self) -> datetime.date:
        return monday(self.end)

    @property
    def week_count(self) -> int:
        return (self.last_week - self.first_week).days // 7 + 1

    @property
    def weeks(self) -> list[datetime.date]:
        return [self.first_week + i * ONE_WEEK for i in range(self.week_count)]

    @property
    def weeks_start(self) -> datetime.date:
        """First day of the whole-week span (a Monday)."""
        return self.first_week

    @property
    def weeks_end(self) -> datetime.date:
        """Last day of the whole-week span (a Sunday)."""
        return self.last_week + datetime.timedelta(days=6)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def as_date(value) -> datetime.date:
    """A date from the database: PostgreSQL returns dates, SQLite ISO strings."""
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def hours(value) -> Decimal:
    """An SQL sum (numeric on PostgreSQL, float on SQLite, NULL when nothing) as hours to the cent."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def hours_text(value) -> str:
    """Hours as the API shows them everywhere: a decimal string to the cent, like every model field ("37.50")."""
    return str(hours(value) + 0)  # + 0: no "-0.00"


def ratio(part: Decimal, whole: Decimal) -> float | None:
    """part ÷ whole to four decimals; None when whole is 0 (nothing to compare against)."""
    if not whole:
        return None
    return float((part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
