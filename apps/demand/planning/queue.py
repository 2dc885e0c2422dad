"""Where a plan's solving runs (``COVERIS_JOBS``): on the job queue, in a thread of this process, or inline."""

from backend.jobs import jobs_mode


def plan_enqueue(plan_id: int) -> None:
    """Have plan ``plan_id`` solved (called once the plan's row is committed)."""
    from apps.demand.planning.services import plan_run, plan_run_in_thread

    mode = jobs_mode()
    if mode == "queue":
        from apps.demand.tasks import solve_plan

        solve_plan.defer(plan_id=plan_id)
    elif mode == "inline":
        plan_run(plan_id=plan_id)
    else:
        plan_run_in_thread(plan_id)
