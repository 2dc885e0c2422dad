"""Jobs of the demand app on the procrastinate queue (ADR 0015): solving plans, and recovering from dead workers.

The task bodies are the planning services; the queue only decides where and when they run.
"""

from asgiref.sync import sync_to_async
from procrastinate import jobs
from procrastinate.contrib.django import app

from apps.demand.planning.services import plan_run, plans_recover

PLANS_QUEUE = "plans"


@app.task(queue=PLANS_QUEUE, name="demand.solve_plan")
def solve_plan(plan_id: int) -> None:
    """Solve one queued plan (a no-op when another worker already took it)."""
    plan_run(plan_id=plan_id)


@app.periodic(cron="* * * * *", periodic_id="recover_plans")
@app.task(queue=PLANS_QUEUE, name="demand.recover_plans", queueing_lock="recover_plans")
async def recover_plans(timestamp: int) -> None:
    """Every minute: jobs of dead workers (no procrastinate heartbeat) are closed as failed, and their plans
    (no plan heartbeat) queued again once, or failed — never left ``solving``."""
    for job in await app.job_manager.get_stalled_jobs(task_name="demand.solve_plan"):
        await app.job_manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
    await sync_to_async(plans_recover)()
