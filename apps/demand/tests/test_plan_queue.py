"""The job queue end to end on PostgreSQL: a real procrastinate worker solves a plan; a worker killed mid-solve
leaves the plan queued again (then solved) or, after its last attempt, failed with the reason — never solving."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from apps.demand.models import Plan, PlanStatus
from apps.demand.planning.queue import plan_enqueue
from apps.demand.planning.services import MAX_ATTEMPTS, plans_recover
from apps.demand.tests.test_planning import BODY, END, START, contested  # noqa: F401 (fixture)
from apps.users.tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[3]


def _plan(plan_id: int, status: str):
    """The plan once it has ``status`` (for ``JobQueue.wait_for``), else None."""
    plan = Plan.objects.get(pk=plan_id)
    return plan if plan.status == status else None


@pytest.mark.postgres
@override_settings(COVERIS_JOBS="queue")
def test_a_plan_posted_to_the_api_is_solved_by_a_real_worker(contested, auth_client, job_queue):  # noqa: F811
    client, _user = auth_client("hr")
    response = client.post("/api/coverage/plans/", BODY, format="json")
    assert response.status_code == 202
    plan_id = response.json()["id"]
    assert client.get(f"/api/coverage/plans/{plan_id}/").json()["status"] == "queued"
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status, (args->>'plan_id')::int FROM procrastinate_jobs ORDER BY id")
        assert cursor.fetchall() == [("demand.solve_plan", "todo", plan_id)]
    job_queue.run_once(queues="plans")
    body = client.get(f"/api/coverage/plans/{plan_id}/").json()
    assert body["status"] == "solved", body
    assert body["metrics"]["gap_hours_closed"] == "320.00"
    solves = [job for job in job_queue.jobs() if job[0] == "demand.solve_plan"]  # (and the periodic recovery job)
    assert solves == [("demand.solve_plan", "plans", "succeeded")]


@pytest.mark.postgres
@override_settings(COVERIS_JOBS="queue")
def test_a_worker_killed_mid_solve_leaves_the_plan_queued_again_then_solved(contested, job_queue):  # noqa: F811
    plan = Plan.objects.create(period_start=START, period_end=END, created_by=UserFactory(role="admin"))
    plan_enqueue(plan.pk)
    worker = job_queue.start(sys.executable, str(ROOT / "apps/demand/tests/slow_worker.py"), SLOW_SOLVE_SECONDS="120")
    try:
        solving = job_queue.wait_for(lambda: _plan(plan.pk, PlanStatus.SOLVING), 90, "solving")
        assert solving.attempts == 1
    finally:
        job_queue.stop(worker, signal.SIGKILL)  # the worker dies: no cleanup, no final status
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.SOLVING  # only its heartbeat stops
    assert plans_recover(stale_after=0) == [plan.pk]
    queued = Plan.objects.get(pk=plan.pk)
    assert queued.status == PlanStatus.QUEUED
    assert "worker stopped while solving" in queued.error
    job_queue.run_once(queues="plans")  # a healthy worker picks up the job queued again
    solved = Plan.objects.get(pk=plan.pk)
    assert solved.status == PlanStatus.SOLVED
    assert solved.attempts == 2
    assert solved.error == ""


@pytest.mark.postgres
def test_the_workers_periodic_job_fails_or_requeues_plans_a_dead_worker_left_solving(contested, job_queue):  # noqa: F811
    """Nobody calls ``plans_recover`` here: a worker's periodic deferrer defers ``demand.recover_plans`` (every
    minute), the worker runs it, the plan on its last attempt ends ``failed`` with the reason, and the other is queued
    again — and solved by the same worker."""
    admin = UserFactory(role="admin")
    last_try = Plan.objects.create(
        period_start=START, period_end=END, status=PlanStatus.SOLVING, attempts=MAX_ATTEMPTS, created_by=admin
    )
    first_try = Plan.objects.create(
        period_start=START, period_end=END, status=PlanStatus.SOLVING, attempts=1, created_by=admin
    )
    Plan.objects.filter(pk__in=[last_try.pk, first_try.pk]).update(
        heartbeat_at=last_try.created_at - datetime.timedelta(hours=1)  # their worker died an hour ago
    )
    worker = job_queue.start(COVERIS_PLAN_STALE_SECONDS="60")
    try:
        solved = job_queue.wait_for(lambda: _plan(first_try.pk, PlanStatus.SOLVED), 150, "the re-queued plan solved")
    finally:
        job_queue.stop(worker)
    assert solved.attempts == 2
    failed = Plan.objects.get(pk=last_try.pk)
    assert failed.status == PlanStatus.FAILED
    assert failed.error.startswith(f"The worker stopped while solving, {MAX_ATTEMPTS} times")
    jobs = job_queue.jobs()
    assert ("demand.recover_plans", "plans", "succeeded") in jobs
    assert ("demand.solve_plan", "plans", "succeeded") in jobs
    with connection.cursor() as cursor:
        cursor.execute("SELECT periodic_id FROM procrastinate_periodic_defers WHERE task_name = 'demand.recover_plans'")
        assert ("recover_plans",) in cursor.fetchall()


@pytest.mark.django_db
def test_a_plan_whose_last_attempt_died_fails_with_the_reason():
    plan = Plan.objects.create(
        period_start=START, period_end=END, status=PlanStatus.SOLVING, attempts=MAX_ATTEMPTS, progress=30
    )
    Plan.objects.filter(pk=plan.pk).update(heartbeat_at=plan.created_at - datetime.timedelta(hours=1))
    fresh = Plan.objects.create(period_start=START, period_end=END, status=PlanStatus.SOLVING, attempts=1)
    Plan.objects.filter(pk=fresh.pk).update(heartbeat_at=fresh.created_at.replace(year=2999))
    assert plans_recover(stale_after=60) == []
    failed = Plan.objects.get(pk=plan.pk)
    assert failed.status == PlanStatus.FAILED
    assert failed.error.startswith(f"The worker stopped while solving, {MAX_ATTEMPTS} times")
    assert Plan.objects.get(pk=fresh.pk).status == PlanStatus.SOLVING  # still beating: left alone


@pytest.mark.django_db
def test_with_worker_passes_the_web_servers_exit_status_and_stops_on_sigterm():
    """bin/with-worker (the image's and App Runner's start command) without PostgreSQL: only the web process."""
    script = str(ROOT / "bin/with-worker")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([script, "sh", "-c", "exit 3"], cwd=ROOT, env=env, timeout=30, check=False)  # noqa: S603
    assert done.returncode == 3
    running = subprocess.Popen([script, "sleep", "30"], cwd=ROOT, env=env)  # noqa: S603
    time.sleep(1)
    started = time.monotonic()
    running.send_signal(signal.SIGTERM)
    running.wait(timeout=15)
    assert time.monotonic() - started < 10
