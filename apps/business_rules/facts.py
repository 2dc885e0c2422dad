"""What rules look at: the event's subject, loaded once per evaluation however many rules read it."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from backend import timezones


@dataclass(frozen=True)
class Interval:
    """A span of days [start, end] (end None: open-ended) carrying weekly hours."""

    start: datetime.date
    end: datetime.date | None
    hours: Decimal
    ref: dict = field(default_factory=dict)

    def overlaps(self, start: datetime.date, end: datetime.date | None) -> bool:
        return (self.end is None or self.end >= start) and (end is None or self.start <= end)

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class Facts:
    """The evaluation context. Build with ``Facts.from_context``; queries run lazily, at most once each."""

    event: str
    employee: Any = None
    position: Any = None
    assignment: Any = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    weekly_hours: Decimal | None = None
    # Default: today in the organisation's zone; from_context makes it the employee's today (docs/time-zones.md).
    effective_date: datetime.date = field(default_factory=timezones.today)
    reason: str = ""
    actor: Any = None
    # A what-if (POST /evaluate/ may pass it); when absent, ``clock_ins`` counts the real clock events.
    clock_ins_today: int | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def preloaded(cls, event: str, *, other_open_assignments, employee_tags, position_tags, **fields) -> "Facts":
        """Facts whose relations the caller already batch-loaded (candidate matching): evaluating costs no query."""
        facts = cls(event=event, **fields)
        facts.__dict__.update(
            other_open_assignments=list(other_open_assignments),
            employee_tags=list(employee_tags),
            position_tags=list(position_tags),
        )
        return facts

    @classmethod
    def from_context(cls, event: str, context: dict) -> "Facts":
        known = {k: v for k, v in context.items() if k in cls.__dataclass_fields__ and k not in ("event", "extra")}
        facts = cls(event=event, **known)
        facts.extra = {k: v for k, v in context.items() if k not in cls.__dataclass_fields__}
        assignment = facts.assignment
        if assignment is not None:
            facts.employee = facts.employee or assignment.employee
            facts.position = facts.position or assignment.position
            facts.start_date = facts.start_date or assignment.start_date
            if "end_date" not in context:
                facts.end_date = assignment.end_date
            facts.weekly_hours = facts.weekly_hours if facts.weekly_hours is not None else assignment.weekly_hours
        if facts.weekly_hours is not None and not isinstance(facts.weekly_hours, Decimal):
            facts.weekly_hours = Decimal(str(facts.weekly_hours))  # 20.01 as a float is not 20.01
        if context.get("effective_date") is None:
            from apps.api.timezones import employee_today

            facts.effective_date = employee_today(facts.employee) if facts.employee is not None else timezones.today()
        return facts

    @property
    def has_period(self) -> bool:
        return self.start_date is not None

    @property
    def period(self) -> tuple[datetime.date, datetime.date | None]:
        """The period the event concerns: the assignment's, else from the effective date on."""
        if self.start_date is not None:
            return self.start_date, self.end_date
        return self.effective_date, None

    @property
    def scope_org_unit(self):
        if self.position is not None:
            return self.position.org_unit
        return self.employee.org_unit if self.employee is not None else None

    @cached_property
    def other_open_assignments(self) -> list:
        """The employee's proposed/approved/active assignments other than the one being decided (one query)."""
        if self.employee is None or self.employee.pk is None:
            return []
        from apps.assignments.choices import OPEN_STATES
        from apps.assignments.models import Assignment

        qs = Assignment.objects.filter(employee_id=self.employee.pk, state__in=OPEN_STATES).select_related("position")
        if self.assignment is not None and self.assignment.pk is not None:
            qs = qs.exclude(pk=self.assignment.pk)
        return list(qs)

    @cached_property
    def clock_ins(self) -> int | None:
        """How often the employee clocked in on the effective date (None: not a clock event, or no employee).

        The caller's ``clock_ins_today`` wins (a what-if); otherwise one count of the employee's clock events
        on that (UTC) day, run only when a rule reads it. The one definition clock-in and /evaluate/ share.
        """
        if self.clock_ins_today is not None:
            return self.clock_ins_today
        if not self.event.startswith("clock.") or self.employee is None or self.employee.pk is None:
            return None
        from apps.offer.models import ClockEvent

        return ClockEvent.objects.filter(employee_id=self.employee.pk, day=self.effective_date).count()

    @cached_property
    def employee_tags(self) -> list:
        if self.employee is None or self.employee.pk is None:
            return []
        from apps.tags.models import EmployeeTag

        return list(EmployeeTag.objects.filter(employee_id=self.employee.pk).select_related("tag"))

    @cached_property
    def position_tags(self) -> list:
        if self.position is None or self.position.pk is None:
            return []
        from apps.tags.models import PositionTag

        return list(PositionTag.objects.filter(position_id=self.position.pk).select_related("tag"))

    def candidate_interval(self) -> Interval | None:
        """The assignment being decided, as an interval (None for events without one)."""
        if self.start_date is None or self.weekly_hours is None:
            return None
        ref = {"type": "assignment", "id": getattr(self.assignment, "pk", None)}
        return Interval(self.start_date, self.end_date, Decimal(self.weekly_hours), ref)

    def intervals(self, states) -> list[Interval]:
        return [
            Interval(a.start_date, a.end_date, a.weekly_hours, {"type": "assignment", "id": a.pk})
            for a in self.other_open_assignments
            if a.state in states
        ]


def peak(intervals: list[Interval], start: datetime.date, end: datetime.date | None, *, weight: str):
    """The highest total (``weight`` "hours" or "count") of intervals alive on one day of [start, end].

    Returns (peak value, the day it happens, the intervals alive that day). Loads only change where an
    interval starts, so checking those days (and ``start``) is enough.
    """
    candidates = {start} | {i.start for i in intervals if i.start >= start and (end is None or i.start <= end)}
    best, best_day, best_alive = Decimal(0), start, []
    for day in sorted(candidates):
        alive = [i for i in intervals if i.contains(day)]
        total = sum((i.hours for i in alive), Decimal(0)) if weight == "hours" else Decimal(len(alive))
        if total > best:
            best, best_day, best_alive = total, day, alive
    return best, best_day, best_alive
