"""Writes for auto-plans: create (and queue), run (the job), recover from a dead worker, apply.

Status moves only here: queued → solving → solved | failed; solved → applied | stale; a stale plan can still
be applied with ``force_revalidate``. ``plan_run`` is the job body; whatever runs it (the procrastinate worker,
an in-process thread, or the test itself) calls the same function.
"""

import datetime
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.api.models import Employee, Position
from apps.assignments.services import ASSIGNMENT_TRANSITIONS, assignments_create_many
from apps.demand.models import Plan, PlanStatus
from apps.demand.periods import Period
from apps.demand.planning.compute import PLAN_REASON, plan_compute
from apps.demand.planning.snapshot import plan_snapshot, snapshot_changes
from apps.demand.planning.verify import plan_verify
from apps.demand.selectors import candidate_pool, positions_in_scope
from apps.fsm.services import TransitionRequest, transition_perform_many
from apps.users.choices import Role
from backend.errors import ConflictError, InvalidInputError, PermissionDeniedError, RuleViolationError
from backend.jobs import run_in_thread

logger = logging.getLogger("coveris.planning")

MAX_ATTEMPTS = 2


def plan_create(
    *,
    actor,
    start: datetime.date,
    end: datetime.date,
    org_unit=None,
    positions: list[Position] | None = None,
    objective: dict | None = None,
    seed: int = 0,
    time_limit: float | None = None,
) -> Plan:
    """Record a plan request and queue its solving once the transaction commits."""
    from apps.demand.planning.queue import plan_enqueue

    with transaction.atomic():
        plan = Plan.objects.create(
            period_start=start,
            period_end=end,
            org_unit=org_unit,
            positions=sorted(p.pk for p in positions or []),
            objective=objective or {},
            seed=seed,
            time_limit=time_limit if time_limit is not None else settings.COVERIS_PLAN_TIME_LIMIT,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        transaction.on_commit(lambda: plan_enqueue(plan.pk))
    return plan


def plan_scope(plan: Plan) -> tuple:
    """The positions and the people a plan covers: its creator's scope, narrowed to its org unit and positions."""
    user = plan.created_by
    positions = positions_in_scope(user=user) if user is not None else Position.objects.none()
    pool = candidate_pool(user=user, org_unit=plan.org_unit) if user is not None else Employee.objects.none()
    if plan.org_unit is not None:
        positions = positions.filter(org_unit__path__startswith=plan.org_unit.path)
    if plan.positions:
        positions = positions.filter(pk__in=plan.positions)
    return positions.filter(is_active=True), pool


def _claim(plan_id: int) -> Plan | None:
    """queued → solving, under the row lock (a second worker finds it taken and leaves it)."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None or plan.status != PlanStatus.QUEUED:
            return None
        now = timezone.now()
        plan.status, plan.progress, plan.error = PlanStatus.SOLVING, 5, ""
        plan.started_at, plan.heartbeat_at = now, now
        plan.attempts += 1
        plan.save(update_fields=["status", "progress", "error", "started_at", "heartbeat_at", "attempts"])
        return plan


class _Heartbeat(threading.Thread):
    """Touches the plan's ``heartbeat_at`` while the solver runs, so a dead worker is told from a busy one."""

    def __init__(self, plan_id: int, every: float):
        super().__init__(daemon=True, name=f"plan-{plan_id}-heartbeat")
        self.plan_id, self.every, self.done = plan_id, every, threading.Event()

    def run(self):
        try:
            while not self.done.wait(self.every):
                Plan.objects.filter(pk=self.plan_id, status=PlanStatus.SOLVING).update(heartbeat_at=timezone.now())
        finally:
            connection.close()


def plan_run(*, plan_id: int) -> str | None:
    """The job: solve a queued plan and store its results (or why it failed). Returns the final status."""
    plan = _claim(plan_id)
    if plan is None:
        return None
    heartbeat = _Heartbeat(plan_id, settings.COVERIS_PLAN_HEARTBEAT_SECONDS)
    if settings.COVERIS_PLAN_HEARTBEAT_SECONDS > 0:  # 0: no heartbeat thread (the test settings)
        heartbeat.start()
    try:
        positions, pool = plan_scope(plan)
        period = Period(plan.period_start, plan.period_end)

        def progress(value: int) -> None:
            Plan.objects.filter(pk=plan_id).update(progress=value, heartbeat_at=timezone.now())

        results = plan_compute(
            period=period,
            positions=positions,
            pool=pool,
            # No ``today``: rules judge each proposal on today where its employee works (a plan may span zones).
            weights=plan.objective,
            seed=plan.seed,
            time_limit=plan.time_limit,
            reason=PLAN_REASON.format(plan=plan_id),
            progress=progress,
        )
        snapshot = plan_snapshot(
            period=period,
            employee_ids=sorted({p["employee"] for p in results["proposals"]}),
            position_ids=sorted({p["position"] for p in results["proposals"]}),
        )
    except Exception as exc:  # a failed solve is a failed plan, with the reason; never a plan stuck in solving
        logger.exception("plan %s failed", plan_id)
        heartbeat.done.set()
        Plan.objects.filter(pk=plan_id, status=PlanStatus.SOLVING).update(
            status=PlanStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return PlanStatus.FAILED
    heartbeat.done.set()
    updated = Plan.objects.filter(pk=plan_id, status=PlanStatus.SOLVING).update(
        status=PlanStatus.SOLVED,
        progress=100,
        results={k: v for k, v in results.items() if k != "metrics"},
        metrics=results["metrics"],
        snapshot=snapshot,
        finished_at=timezone.now(),
    )
    return PlanStatus.SOLVED if updated else None


def plans_recover(*, stale_after: float | None = None) -> list[int]:
    """Plans whose worker died mid-solve (no heartbeat for ``stale_after`` seconds): queue them again, or fail
    them once they have had ``MAX_ATTEMPTS``. Returns the ids queued again (the caller enqueues them)."""
    from apps.demand.planning.queue import plan_enqueue

    seconds = stale_after if stale_after is not None else settings.COVERIS_PLAN_STALE_SECONDS
    cutoff = timezone.now() - datetime.timedelta(seconds=seconds)
    again = []
    with transaction.atomic():
        for plan in Plan.objects.select_for_update(skip_locked=True).filter(
            status=PlanStatus.SOLVING, heartbeat_at__lt=cutoff
        ):
            if plan.attempts < MAX_ATTEMPTS:
                plan.status, plan.progress = PlanStatus.QUEUED, 0
                plan.error = f"The worker stopped while solving (attempt {plan.attempts}); queued again."
                again.append(plan.pk)
            else:
                plan.status = PlanStatus.FAILED
                plan.finished_at = timezone.now()
                plan.error = (
                    f"The worker stopped while solving, {plan.attempts} times (no heartbeat since "
                    f"{plan.heartbeat_at.isoformat()}); giving up. Create the plan again."
                )
            plan.save(update_fields=["status", "progress", "error", "finished_at"])
        for pk in again:
            transaction.on_commit(lambda pk=pk: plan_enqueue(pk))
    return again


# --- apply ---------------------------------------------------------------------------------------------------


def _chosen(plan: Plan, subset: list[int] | None) -> list[tuple[int, dict]]:
    proposals = plan.results.get("proposals", [])
    if subset is None:
        return list(enumerate(proposals))
    unknown = sorted({i for i in subset if not (0 <= i < len(proposals))})
    if unknown:
        raise InvalidInputError(
            {"proposals": [f"No proposal at index {', '.join(map(str, unknown))} (the plan has {len(proposals)})."]}
        )
    return [(i, proposals[i]) for i in sorted(set(subset))]


def plan_apply(
    *,
    plan_id: int,
    actor,
    proposals: list[int] | None = None,
    approve: bool = False,
    force_revalidate: bool = False,
    acknowledge_warnings: bool = False,
    reason: str = "",
    override_reason: str = "",
    effective_date: datetime.date | None = None,
) -> dict:
    """Turn a solved plan's proposals (all, or the indexes in ``proposals``) into real assignments, all or nothing.

    Stale (rules, people or gaps changed since solving): 409 naming what changed, unless ``force_revalidate``,
    which has the engine judge each proposal on today's data instead (422 if any is refused, unless an admin
    overrides with ``override_reason``). Assignments are created as ``proposed`` through
    ``assignments_create_many``; with ``approve`` each is approved through the transition service on
    ``effective_date`` (default today), its log's reason citing the plan (and ``reason``, when given).
    """
    plan, chosen = plan_apply_chosen(plan_id=plan_id, proposals=proposals)
    period = Period(plan.period_start, plan.period_end)
    reason = plan_apply_reason(plan, reason)
    if override_reason and getattr(actor, "role", None) != Role.ADMIN:
        raise PermissionDeniedError("Only an admin may override a blocking rule.")
    if not force_revalidate:
        changes = plan_stale_changes(plan, chosen)
        if changes:
            Plan.objects.filter(pk=plan.pk, status=PlanStatus.SOLVED).update(status=PlanStatus.STALE)
            raise ConflictError(
                "The data changed since the plan was solved: apply with force_revalidate=true to re-check each "
                "proposal against today's data, or create a new plan.",
                details={"stale": changes},
            )
    else:
        verdicts = plan_verify(
            proposals=[p for _i, p in chosen],
            start=period.start,
            end=period.end,
            # No ``effective_date``: rules judge each proposal on today where its employee works (a plan may span
            # zones).
            today=effective_date,
            reason=reason,
        )
        refused = [{"proposal": i, "blocks": v.blocks} for (i, _p), v in zip(chosen, verdicts, strict=True) if v.blocks]
        if refused and not override_reason:  # an admin's override is judged, and logged, by the services below
            raise RuleViolationError(
                "Business rules now refuse some proposals of this plan; nothing was written.",
                details={"violations": refused},
            )
    options = ApplyWrite(approve, acknowledge_warnings, reason, override_reason, effective_date)
    return plan_apply_write(plan, chosen, actor, options)


def plan_apply_chosen(*, plan_id: int, proposals: list[int] | None) -> tuple[Plan, list[tuple[int, dict]]]:
    """The plan (409 unless solved or stale) and its chosen ``(index, proposal)`` pairs (400 for unknown ones)."""
    plan = Plan.objects.select_related("org_unit").get(pk=plan_id)
    if plan.status not in (PlanStatus.SOLVED, PlanStatus.STALE):
        raise ConflictError(
            f"Only a solved plan can be applied; this one is {plan.status}.", details={"status": plan.status}
        )
    chosen = _chosen(plan, proposals)
    if not chosen:
        raise InvalidInputError({"proposals": ["Choose at least one proposal (the plan has none)."]})
    return plan, chosen


def plan_apply_reason(plan: Plan, reason: str = "") -> str:
    """The reason the transition logs keep: the plan, then the caller's words."""
    cited = PLAN_REASON.format(plan=plan.pk)
    return f"{cited}: {reason.strip()}" if reason.strip() else cited


def plan_stale_changes(plan: Plan, chosen: list[tuple[int, dict]]) -> list[dict]:
    """What changed, since the plan was solved, in the data the chosen proposals depend on (empty: nothing)."""
    employee_ids = sorted({p["employee"] for _i, p in chosen})
    position_ids = sorted({p["position"] for _i, p in chosen})
    now = plan_snapshot(
        period=Period(plan.period_start, plan.period_end), employee_ids=employee_ids, position_ids=position_ids
    )
    return snapshot_changes(plan.snapshot, now, employee_ids=employee_ids, position_ids=position_ids)


@dataclass(frozen=True)
class ApplyWrite:
    """How the chosen proposals are written (``plan_apply``'s options past the staleness check)."""

    approve: bool = False
    acknowledge_warnings: bool = False
    reason: str = ""
    override_reason: str = ""
    effective_date: datetime.date | None = None


@transaction.atomic
def plan_apply_write(plan: Plan, chosen, actor, options: ApplyWrite) -> dict:
    """The write of ``plan_apply`` (one transaction): the assignments in one batch, approved when asked, the plan
    ``applied``. Returns ``{plan, assignments, approved, made, outcomes}`` (``made``: the services' results)."""
    approve, acknowledge_warnings, reason = options.approve, options.acknowledge_warnings, options.reason
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if locked.status not in (PlanStatus.SOLVED, PlanStatus.STALE):
        raise ConflictError(f"The plan is {locked.status} now.", details={"status": locked.status})
    employees = {e.pk: e for e in Employee.objects.filter(pk__in={p["employee"] for _i, p in chosen})}
    positions = {
        p.pk: p for p in Position.objects.select_related("org_unit").filter(pk__in={p["position"] for _i, p in chosen})
    }
    rows = []
    for index, p in chosen:
        if p["employee"] not in employees or p["position"] not in positions:
            raise ConflictError(f"Proposal {index}: its employee or position no longer exists.")
        rows.append(
            {
                "employee": employees[p["employee"]],
                "position": positions[p["position"]],
                "start_date": datetime.date.fromisoformat(p["start"]),
                "end_date": datetime.date.fromisoformat(p["end"]),
                "weekly_hours": Decimal(p["weekly_hours"]),
                "notes": f"{PLAN_REASON.format(plan=plan.pk)}, proposal {index}.",
            }
        )
    made = assignments_create_many(
        actor=actor,
        proposals=rows,
        acknowledge_warnings=acknowledge_warnings,
        override_reason=options.override_reason,
    )
    ids = [assignment.pk for assignment, _results in made]
    approved, outcomes = [], []
    if approve:
        request = TransitionRequest(
            name="approve",
            actor=actor,
            reason=reason,
            effective_date=options.effective_date,
            acknowledge_warnings=acknowledge_warnings,
            override_reason=options.override_reason,
        )
        outcomes = transition_perform_many(kind=ASSIGNMENT_TRANSITIONS, pks=ids, request=request)
        approved = [o.instance.pk for o in outcomes]
    applied = {
        "assignments": [{"proposal": index, "assignment": pk} for (index, _p), pk in zip(chosen, ids, strict=True)],
        "approved": bool(approve),
        "by": getattr(actor, "pk", None),
    }
    locked.results = {**locked.results, "applied": applied}
    locked.status = PlanStatus.APPLIED
    locked.applied_at = timezone.now()
    locked.applied_by = actor if getattr(actor, "pk", None) else None
    locked.save(update_fields=["results", "status", "applied_at", "applied_by"])
    return {"plan": locked, "assignments": ids, "approved": approved, "made": made, "outcomes": outcomes}


def plan_run_in_thread(plan_id: int) -> threading.Thread:
    """Solve in a background thread of this process (local development: no worker to run)."""
    return run_in_thread(f"plan-{plan_id}", plan_run, plan_id=plan_id)
