"""Writes to the hours ledger, each in the same transaction as its cause (docs/ledger.md has the posting table).

Employee and assignment transitions post through hooks registered in ``OfferConfig.ready`` (they run inside the
transition's transaction, after its log row); contract changes, clock-outs and HR's adjustments call the services
below. Nothing is ever edited: closing an entry early or correcting it is a new entry with the opposite sign that
points at the original (``reverses``).
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from apps.api.choices import EmployeeState
from apps.api.models import Employee
from apps.api.timezones import employee_today, employee_zone
from apps.business_rules.engine import evaluate_event, raise_for_decision, rules_decision
from apps.offer.choices import BALANCE_KINDS, EntryBasis, EntryKind, EntrySource
from apps.offer.models import ClockEvent, LedgerEntry
from apps.users.choices import Role
from backend import timezones
from backend.db import atomic_with_retry
from backend.errors import ConflictError, InvalidInputError, PermissionDeniedError
from backend.instances import unsaved
from backend.permissions import user_role
from backend.request_context import request_id_for_storage

ADJUSTERS = frozenset({Role.ADMIN, Role.HR})
# Who may clock in and out for someone else; anyone with a role may clock for their own employee record.
CLOCK_FOR_OTHERS = frozenset({Role.ADMIN, Role.HR})
# Only an active employee starts a shift: on leave, suspended, pending or terminated people do not work.
CLOCK_IN_STATES = (EmployeeState.ACTIVE,)
MAX_WEEKLY_RATE = Decimal(168)
HOURS_PER_DAY = Decimal(24)
CENT = Decimal("0.01")
ONE_DAY = datetime.timedelta(days=1)


def _post(*, actor, **fields) -> LedgerEntry:
    """Insert one entry, stamped with who posted it and the request that caused it."""
    return LedgerEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        request_id=request_id_for_storage(),
        **fields,
    )


def _lock_employee(employee_id) -> Employee:
    try:
        return Employee.objects.select_for_update(of=("self",)).select_related("org_unit").get(pk=employee_id)
    except (Employee.DoesNotExist, ValueError, TypeError) as exc:
        raise InvalidInputError({"employee": ["Unknown employee."]}) from exc


# --- closing: the tail of an entry, reversed ------------------------------------------------------


def _spans_reaching(entries: QuerySet, day: datetime.date) -> list[tuple[LedgerEntry, datetime.date | None]]:
    """Original weekly-rate entries still in force on or after ``day``, each with its end after earlier closings.

    Every reversal cancels an original from some date to the original's end, so an original's coverage is
    [period_start, min(period_end, first reversal start − 1)]; ``None`` means it is still open-ended.
    """
    originals = (
        entries.filter(reverses__isnull=True, basis=EntryBasis.WEEKLY_RATE)
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=day))
        .annotate(cut=Min("reversals__period_start"))
        .order_by("id")
    )
    spans = []
    for entry in originals:
        end = entry.period_end
        if entry.cut is not None:
            if entry.cut <= entry.period_start:  # reversed from its first day on: nothing of it is left
                continue
            end = entry.cut - ONE_DAY if end is None else min(end, entry.cut - ONE_DAY)
        if end is None or end >= max(day, entry.period_start):
            spans.append((entry, end))
    return spans


def _close(spans, day: datetime.date, *, actor, reason: str) -> list[LedgerEntry]:
    """Reverse each span from ``day`` (or its start, if later) to its current end."""
    return [
        _post(
            actor=actor,
            employee_id=entry.employee_id,
            kind=entry.kind,
            basis=entry.basis,
            hours=-entry.hours,
            period_start=max(day, entry.period_start),
            period_end=end,
            source=entry.source,
            assignment_id=entry.assignment_id,
            reverses=entry,
            reason=reason,
        )
        for entry, end in spans
    ]


def _employee_entries(employee_id, kind: str) -> QuerySet:
    return LedgerEntry.objects.filter(employee_id=employee_id, kind=kind, source=EntrySource.EMPLOYEE)


def _one(batch_hook, instance, request, log_entry) -> list:
    """A batch hook applied to one object: the per-object and the batched postings are the same code."""
    return batch_hook([(instance, request, log_entry)])[0]


def _hook_reason(event: str, request) -> str:
    return f"{event}: {request.reason}" if getattr(request, "reason", "") else event


# --- employee lifecycle (hooks: ``hook(instance, request, log_entry) -> []``) ---------------------


def ledger_on_employee_activate(employee: Employee, request, log_entry) -> list:
    """``employee.activate``: contracted hours at the contract rate from the effective date, open-ended."""
    return _one(ledger_on_employee_activate_many, employee, request, log_entry)


def ledger_on_employee_start_leave(employee: Employee, request, log_entry) -> list:
    """``employee.start_leave``: leave at the contract rate from the effective date, open-ended."""
    return _one(ledger_on_employee_start_leave_many, employee, request, log_entry)


def ledger_on_employee_return_from_leave(employee: Employee, request, log_entry) -> list:
    """``employee.return_from_leave``: the leave ends the day before the effective date (the first day back)."""
    day = log_entry.effective_date
    spans = _spans_reaching(_employee_entries(employee.pk, EntryKind.LEAVE), day)
    _close(spans, day, actor=request.actor, reason=_hook_reason("employee.return_from_leave", request))
    return []


def ledger_on_employee_terminate(employee: Employee, request, log_entry) -> list:
    """``employee.terminate``: contract and leave end on the effective date (the last day employed)."""
    return _one(ledger_on_employee_terminate_many, employee, request, log_entry)


@atomic_with_retry
def ledger_contract_change(*, employee: Employee, actor, effective_date: datetime.date | None = None) -> list:
    """After ``contracted_weekly_hours`` changed: re-rate the open contract (and open leave) from the change date.

    Does nothing unless an open-ended contracted entry exists at another rate (a pending or terminated employee
    has none; activation will post the current rate), so calling it after any employee save is safe.
    """
    day = effective_date or employee_today(employee)
    rate = employee.contracted_weekly_hours
    reason = f"Contract changed to {rate} h/week"
    posted: list[LedgerEntry] = []
    for kind in (EntryKind.CONTRACTED, EntryKind.LEAVE):
        open_spans = [(e, end) for e, end in _spans_reaching(_employee_entries(employee.pk, kind), day) if end is None]
        if not open_spans or all(entry.hours == rate for entry, _ in open_spans):
            continue
        start = max(day, min(entry.period_start for entry, _ in open_spans))
        posted += _close(open_spans, start, actor=actor, reason=reason)
        posted.append(
            _post(
                actor=actor,
                employee_id=employee.pk,
                kind=kind,
                basis=EntryBasis.WEEKLY_RATE,
                hours=rate,
                period_start=start,
                period_end=None,
                source=EntrySource.EMPLOYEE,
                reason=reason,
            )
        )
    return posted


# --- assignments ------------------------------------------------------------------------------------


def _assignment_entries(assignment) -> QuerySet:
    return LedgerEntry.objects.filter(assignment_id=assignment.pk, kind=EntryKind.ASSIGNED)


def ledger_on_assignment_approve(assignment, request, log_entry) -> list:
    """``assignment.approve``: assigned hours at its weekly hours over [start_date, end_date]."""
    return _one(ledger_on_assignment_approve_many, assignment, request, log_entry)


def ledger_on_assignment_cancel(assignment, request, log_entry) -> list:
    """``assignment.cancel``: whatever it had posted (only an approved one has) is reversed in full."""
    return _one(ledger_on_assignment_cancel_many, assignment, request, log_entry)


def ledger_on_assignment_complete(assignment, request, log_entry) -> list:
    """``assignment.complete``: assigned hours end on its (possibly brought forward) end date."""
    return _one(ledger_on_assignment_complete_many, assignment, request, log_entry)


TRANSITION_HOOKS = {
    "employee.activate": ledger_on_employee_activate,
    "employee.start_leave": ledger_on_employee_start_leave,
    "employee.return_from_leave": ledger_on_employee_return_from_leave,
    "employee.terminate": ledger_on_employee_terminate,
    "assignment.approve": ledger_on_assignment_approve,
    "assignment.cancel": ledger_on_assignment_cancel,
    "assignment.complete": ledger_on_assignment_complete,
}


# --- the postings, for a batch of objects (``transition_perform_many``; the per-object hooks above call them with
# one item): one query and one insert per batch, rows in the same order per employee.


def _post_many(*, actor, rows: list[dict]) -> list[LedgerEntry]:
    # Relations by id (``actor_id``, ``reverses_id``, ``assignment_id``): the same columns and hashes as the objects
    # would give, without a related-object assignment per row (a bulk load posts hundreds of thousands; ADR 0041).
    stamp = {
        "actor_id": actor.pk if getattr(actor, "pk", None) else None,
        "actor_email": getattr(actor, "email", "") or "",
        "request_id": request_id_for_storage(),
    }
    return LedgerEntry.objects.bulk_create(unsaved(LedgerEntry, [{**stamp, **row} for row in rows]), batch_size=1000)


def _close_rows(spans, day: datetime.date, *, reason: str) -> list[dict]:
    """``_close``'s rows, not yet written."""
    return [
        {
            "employee_id": entry.employee_id,
            "kind": entry.kind,
            "basis": entry.basis,
            "hours": -entry.hours,
            "period_start": max(day, entry.period_start),
            "period_end": end,
            "source": entry.source,
            "assignment_id": entry.assignment_id,
            "reverses_id": entry.pk,
            "reason": reason,
        }
        for entry, end in spans
    ]


def _spans_by(spans, key: str) -> dict:
    grouped = defaultdict(list)
    for entry, end in spans:
        grouped[getattr(entry, key)].append((entry, end))
    return grouped


def _start_rate_many(items, kind: str, event: str) -> list:
    _, request, log_entry = items[0]  # one batch: one request, one effective date
    day = log_entry.effective_date
    employees = [employee for employee, _, _ in items]
    entries = LedgerEntry.objects.filter(
        employee_id__in_array=[e.pk for e in employees], kind=kind, source=EntrySource.EMPLOYEE
    )
    spans = _spans_by(_spans_reaching(entries, day), "employee_id")
    reason = _hook_reason(event, request)
    rows = []
    for employee in employees:
        rows += _close_rows(spans.get(employee.pk, []), day, reason=reason)
        rows.append(
            {
                "employee_id": employee.pk,
                "kind": kind,
                "basis": EntryBasis.WEEKLY_RATE,
                "hours": employee.contracted_weekly_hours,
                "period_start": day,
                "period_end": None,
                "source": EntrySource.EMPLOYEE,
                "reason": reason,
            }
        )
    _post_many(actor=request.actor, rows=rows)
    return [[] for _ in items]


def ledger_on_employee_activate_many(items) -> list:
    """``ledger_on_employee_activate`` for a batch."""
    return _start_rate_many(items, EntryKind.CONTRACTED, "employee.activate")


def ledger_on_employee_start_leave_many(items) -> list:
    """``ledger_on_employee_start_leave`` for a batch."""
    return _start_rate_many(items, EntryKind.LEAVE, "employee.start_leave")


def ledger_on_employee_terminate_many(items) -> list:
    """``ledger_on_employee_terminate`` for a batch."""
    _, request, log_entry = items[0]
    if log_entry.effective_date >= datetime.date.max:
        return [[] for _ in items]
    day = log_entry.effective_date + ONE_DAY
    reason = _hook_reason("employee.terminate", request)
    ids = [employee.pk for employee, _, _ in items]
    kinds = (EntryKind.CONTRACTED, EntryKind.LEAVE)
    spans = {
        kind: _spans_by(
            _spans_reaching(
                LedgerEntry.objects.filter(employee_id__in_array=ids, kind=kind, source=EntrySource.EMPLOYEE), day
            ),
            "employee_id",
        )
        for kind in kinds
    }
    rows = [row for pk in ids for kind in kinds for row in _close_rows(spans[kind].get(pk, []), day, reason=reason)]
    _post_many(actor=request.actor, rows=rows)
    return [[] for _ in items]


def ledger_on_assignment_approve_many(items) -> list:
    """``ledger_on_assignment_approve`` for a batch."""
    _, request, _ = items[0]
    reason = _hook_reason("assignment.approve", request)
    rows = [
        {
            "employee_id": a.employee_id,
            "kind": EntryKind.ASSIGNED,
            "basis": EntryBasis.WEEKLY_RATE,
            "hours": a.weekly_hours,
            "period_start": a.start_date,
            "period_end": a.end_date,
            "source": EntrySource.ASSIGNMENT,
            "assignment_id": a.pk,
            "reason": reason,
        }
        for a, _, _ in items
    ]
    _post_many(actor=request.actor, rows=rows)
    return [[] for _ in items]


def ledger_on_assignment_complete_many(items) -> list:
    """``ledger_on_assignment_complete`` for a batch (one query per distinct end date)."""
    _, request, _ = items[0]
    reason = _hook_reason("assignment.complete", request)
    by_day = defaultdict(list)
    for a, _, _ in items:
        if a.end_date is not None and a.end_date < datetime.date.max:
            by_day[a.end_date + ONE_DAY].append(a)
    closing: dict = {}
    for day, assignments in by_day.items():
        entries = LedgerEntry.objects.filter(
            assignment_id__in_array=[a.pk for a in assignments], kind=EntryKind.ASSIGNED
        )
        spans = _spans_by(_spans_reaching(entries, day), "assignment_id")
        for a in assignments:
            closing[a.pk] = _close_rows(spans.get(a.pk, []), day, reason=reason)
    _post_many(actor=request.actor, rows=[row for a, _, _ in items for row in closing.get(a.pk, [])])
    return [[] for _ in items]


def ledger_on_assignment_cancel_many(items) -> list:
    """``ledger_on_assignment_cancel`` for a batch (one query): each assignment's postings reversed in full."""
    _, request, _ = items[0]
    entries = LedgerEntry.objects.filter(assignment_id__in_array=[a.pk for a, _, _ in items], kind=EntryKind.ASSIGNED)
    spans = _spans_by(_spans_reaching(entries, datetime.date.min), "assignment_id")
    reason = _hook_reason("assignment.cancel", request)
    rows = [row for a, _, _ in items for row in _close_rows(spans.get(a.pk, []), datetime.date.min, reason=reason)]
    _post_many(actor=request.actor, rows=rows)
    return [[] for _ in items]


# event → batched twin of TRANSITION_HOOKS[event]; registered by OfferConfig.ready for transition_perform_many.
TRANSITION_HOOKS_MANY = {
    "employee.activate": ledger_on_employee_activate_many,
    "employee.start_leave": ledger_on_employee_start_leave_many,
    "employee.terminate": ledger_on_employee_terminate_many,
    "assignment.approve": ledger_on_assignment_approve_many,
    "assignment.cancel": ledger_on_assignment_cancel_many,
    "assignment.complete": ledger_on_assignment_complete_many,
}


# --- manual corrections -----------------------------------------------------------------------------


def _require_adjuster(actor) -> None:
    if user_role(actor) not in ADJUSTERS:
        raise PermissionDeniedError("Only HR and admins correct the hours ledger.")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError({"reason": ["A reason is required for every manual ledger entry."]})
    return reason


def _validate_adjustment(adjusts, basis, hours, period_start, period_end) -> None:
    errors: dict[str, list[str]] = {}
    if adjusts not in BALANCE_KINDS:
        errors["adjusts"] = [f"Must be one of: {', '.join(BALANCE_KINDS)}."]
    if basis not in EntryBasis.values:
        errors["basis"] = [f"Must be one of: {', '.join(EntryBasis.values)}."]
    if period_end is not None and period_end < period_start:
        errors["period_end"] = ["Must be on or after period_start."]
    elif basis == EntryBasis.TOTAL and period_end is None:
        errors["period_end"] = ["Required when basis is 'total' (the hours are spread over the period)."]
    if hours == 0:
        errors["hours"] = ["Must not be zero: positive adds to the column, negative takes away."]
    elif basis == EntryBasis.WEEKLY_RATE and abs(hours) > MAX_WEEKLY_RATE:
        errors["hours"] = [f"A weekly rate is at most {MAX_WEEKLY_RATE} hours either way."]
    elif basis == EntryBasis.TOTAL and period_end is not None and period_end >= period_start:
        cap = HOURS_PER_DAY * ((period_end - period_start).days + 1)
        if abs(hours) > cap:
            errors["hours"] = [f"At most {cap} hours either way over {(period_end - period_start).days + 1} day(s)."]
    if errors:
        raise InvalidInputError(errors)


@atomic_with_retry
def ledger_adjust(
    *,
    actor,
    employee: Employee,
    adjusts: str,
    hours: Decimal,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    basis: str = EntryBasis.TOTAL,
    reason: str,
) -> LedgerEntry:
    """HR's manual correction of one balance column: a signed adjustment entry with a required reason."""
    _require_adjuster(actor)
    reason = _require_reason(reason)
    _validate_adjustment(adjusts, basis, Decimal(hours), period_start, period_end)
    employee = _lock_employee(employee.pk)
    return _post(
        actor=actor,
        employee_id=employee.pk,
        kind=EntryKind.ADJUSTMENT,
        adjusts=adjusts,
        basis=basis,
        hours=Decimal(hours),
        period_start=period_start,
        period_end=period_end,
        source=EntrySource.MANUAL,
        reason=reason,
    )


@atomic_with_retry
def ledger_reverse(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Cancel a manual entry in full with its negative copy; an entry is reversed at most once (else 409)."""
    _require_adjuster(actor)
    reason = _require_reason(reason)
    _lock_employee(entry.employee_id)  # serialises two reversals of one entry
    original = LedgerEntry.objects.get(pk=entry.pk)
    if original.source != EntrySource.MANUAL:
        raise ConflictError(
            f"Entry #{original.pk} was posted by its {original.source}; it is corrected through its cause "
            "(e.g. cancel or complete the assignment) or by a new manual adjustment, not reversed by hand.",
            details={"entry": original.pk, "source": original.source},
        )
    if original.reverses_id is not None:
        raise ConflictError(
            f"Entry #{original.pk} is itself the reversal of #{original.reverses_id}; post a new adjustment instead.",
            details={"entry": original.pk, "reverses": original.reverses_id},
        )
    earlier = LedgerEntry.objects.filter(reverses=original, source=EntrySource.MANUAL).values_list("pk", flat=True)
    if earlier:
        raise ConflictError(
            f"Entry #{original.pk} was already reversed by entry #{earlier[0]}.",
            details={"entry": original.pk, "reversed_by": earlier[0]},
        )
    return _post(
        actor=actor,
        employee_id=original.employee_id,
        kind=original.kind,
        adjusts=original.adjusts,
        basis=original.basis,
        hours=-original.hours,
        period_start=original.period_start,
        period_end=original.period_end,
        source=EntrySource.MANUAL,
        reverses=original,
        reason=reason,
    )


# --- clock ------------------------------------------------------------------------------------------


def clock_target(*, actor, employee_id: int | None) -> int:
    """Whose clock ``actor`` works: their own record by default; someone else's only for HR and admins."""
    role = user_role(actor)
    if role is None:
        raise PermissionDeniedError("Your account has no role: it may not clock in or out.")
    own_id = Employee.objects.filter(user_id=actor.pk).values_list("pk", flat=True).first()
    if employee_id is None:
        if own_id is None:
            raise InvalidInputError(
                {"employee": ["Your account is not linked to an employee record; send the employee's id."]}
            )
        return own_id
    if employee_id == own_id or role in CLOCK_FOR_OTHERS:
        return employee_id
    raise PermissionDeniedError("You may clock in and out only for yourself; HR and admins clock for others.")


def _local_day(moment: datetime.datetime, employee: Employee) -> datetime.date:
    """The employee's calendar date at ``moment``: their org unit's zone decides the day (docs/time-zones.md)."""
    return timezones.local_date(moment, employee_zone(employee))


@atomic_with_retry
def clock_in(
    *, actor, employee_id: int | None = None, at: datetime.datetime | None = None, acknowledge_warnings: bool = False
) -> tuple[ClockEvent, list[dict]]:
    """Open a shift: the employee row is locked, the ``clock.in`` rules run, the open-shift check, then the clock
    event is written."""
    target = clock_target(actor=actor, employee_id=employee_id)
    at = at or timezone.now()
    employee = _lock_employee(target)
    day = _local_day(at, employee)
    if employee.state not in CLOCK_IN_STATES:
        raise ConflictError(
            f"Only an active employee clocks in; {employee.full_name} is {employee.state}.",
            details={
                "employee": employee.pk,
                "current_state": employee.state,
                "allowed_states": [str(s) for s in CLOCK_IN_STATES],
            },
        )
    # The rules first: a second clock-in the same day is refused by single_clock_in_per_day with its
    # explanation (the engine counts the day's clock-ins itself), not by the open-shift check below.
    results = evaluate_event(event="clock.in", context={"employee": employee, "effective_date": day, "actor": actor})
    raise_for_decision(rules_decision(results, actor=actor, acknowledge_warnings=acknowledge_warnings), results)
    # Rules allowed it (e.g. the rule is off, or the open shift is from an earlier day): one open shift at a time.
    open_shift = ClockEvent.objects.filter(employee_id=employee.pk, clock_out_at__isnull=True).first()
    if open_shift is not None:
        raise ConflictError(
            f"A shift is already open since {open_shift.clock_in_at.isoformat()}: clock out first.",
            details={"clock_event": open_shift.pk, "clock_in_at": open_shift.clock_in_at.isoformat()},
        )
    event = ClockEvent.objects.create(
        employee=employee, day=day, clock_in_at=at, clocked_in_by=actor, request_id=request_id_for_storage()
    )
    return event, results


def shift_hours(event: ClockEvent) -> Decimal:
    """A closed shift's length in hours, to the cent."""
    seconds = Decimal((event.clock_out_at - event.clock_in_at).total_seconds())
    return (seconds / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


@atomic_with_retry
def clock_out(
    *, actor, employee_id: int | None = None, at: datetime.datetime | None = None, acknowledge_warnings: bool = False
) -> tuple[ClockEvent, LedgerEntry, list[dict]]:
    """Close the open shift and post its worked hours (total basis, on the clock-in day) in the same transaction."""
    target = clock_target(actor=actor, employee_id=employee_id)
    at = at or timezone.now()
    employee = _lock_employee(target)
    event = ClockEvent.objects.select_for_update().filter(employee_id=employee.pk, clock_out_at__isnull=True).first()
    if event is None:
        raise ConflictError(
            f"{employee.full_name} has no open shift: clock in first.", details={"employee": employee.pk}
        )
    if at < event.clock_in_at:
        raise ConflictError(
            "The clock-out time is before the clock-in time.",
            details={"clock_event": event.pk, "clock_in_at": event.clock_in_at.isoformat()},
        )
    # No catalogue rule guards clock-outs by default, but HR may add some (``clock.out`` is a known event).
    results = evaluate_event(
        event="clock.out", context={"employee": employee, "effective_date": _local_day(at, employee), "actor": actor}
    )
    raise_for_decision(rules_decision(results, actor=actor, acknowledge_warnings=acknowledge_warnings), results)
    event.clock_out_at = at
    event.clocked_out_by = actor
    event.save(update_fields=["clock_out_at", "clocked_out_by"])
    entry = _post(
        actor=actor,
        employee_id=employee.pk,
        kind=EntryKind.WORKED,
        basis=EntryBasis.TOTAL,
        hours=shift_hours(event),
        period_start=event.day,
        period_end=event.day,
        source=EntrySource.CLOCK_EVENT,
        clock_event=event,
        reason="Clocked shift",
    )
    return event, entry, results
