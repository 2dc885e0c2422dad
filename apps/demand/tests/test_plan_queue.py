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


def _worker_env() -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_LEVEL": "WARNING"}


def _run_worker_once(timeout: float = 120) -> None:
    """``manage.py procrastinate worker --one-shot``: process what is queued, then stop."""
    subprocess.run(  # noqa: S603 -- our own interpreter and manage.py
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues=plans", "--one-shot"],
        cwd=ROOT,
        env=_worker_env(),
        check=True,
        timeout=timeout,
        capture_output=True,
    )


def _wait_for(plan_id: int, status: str, seconds: float) -> Plan:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        plan = Plan.objects.get(pk=plan_id)
        if plan.status == status:
            return plan
        time.sleep(0.2)
    raise AssertionError(f"plan {plan_id} never reached {status}: {Plan.objects.get(pk=plan_id).status}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(COVERIS_JOBS="queue")
def test_a_plan_posted_to_the_api_is_solved_by_a_real_worker(contested, auth_client):  # noqa: F811
    client, _user = auth_client("hr")
    response = client.post("/api/coverage/plans/", BODY, format="json")
    assert response.status_code == 202
    plan_id = response.json()["id"]
    assert client.get(f"/api/coverage/plans/{plan_id}/").json()["status"] == "queued"
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, status, (args->>'plan_id')::int FROM procrastinate_jobs ORDER BY id")
        assert cursor.fetchall() == [("demand.solve_plan", "todo", plan_id)]
    _run_worker_once()
    body = client.get(f"/api/coverage/plans/{plan_id}/").json()
    assert body["status"] == "solved", body
    assert body["metrics"]["gap_hours_closed"] == "320.00"
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE task_name = 'demand.solve_plan'")
        assert cursor.fetchall() == [("succeeded",)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(COVERIS_JOBS="queue")
def test_a_worker_killed_mid_solve_leaves_the_plan_queued_again_then_solved(contested):  # noqa: F811
    plan = Plan.objects.create(period_start=START, period_end=END, created_by=UserFactory(role="admin"))
    plan_enqueue(plan.pk)
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, str(ROOT / "apps/demand/tests/slow_worker.py")],
        cwd=ROOT,
        env={**_worker_env(), "SLOW_SOLVE_SECONDS": "120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        solving = _wait_for(plan.pk, PlanStatus.SOLVING, 90)
        assert solving.attempts == 1
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies: no cleanup, no final status
        worker.wait(timeout=30)
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.SOLVING  # only its heartbeat stops
    assert plans_recover(stale_after=0) == [plan.pk]
    queued = Plan.objects.get(pk=plan.pk)
    assert queued.status == PlanStatus.QUEUED
    assert "worker stopped while solving" in queued.error
    _run_worker_once()  # a healthy worker picks up the job queued again
    solved = Plan.objects.get(pk=plan.pk)
    assert solved.status == PlanStatus.SOLVED
    assert solved.attempts == 2
    assert solved.error == ""


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
