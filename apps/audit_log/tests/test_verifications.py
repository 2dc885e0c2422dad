"""The full walk of the audit trail, recorded: ``manage.py verify_audit_chain`` (now, or ``--queue``), the nightly
job on the real queue (the workers' periodic deferrer), and ``GET /api/audit/verifications/`` for auditors."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.audit_log import verification
from apps.audit_log.models import ChainVerification
from apps.audit_log.tests.conftest import assert_error
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.tests.test_chain import TABLE, raw
from backend.audit.chain import chained_log_models
from backend.audit.db import AppendOnlyError

URL = "/api/audit/verifications/"


@pytest.fixture
def trail(employee, transition):
    """Three transition rows of one employee, written by the service."""
    return [transition(employee, name) for name in ("activate", "start_leave", "return_from_leave")]


def _command(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_the_command_records_each_run_with_every_table(trail):
    status, out = _command()
    assert status == 0
    assert f"{TABLE}: ok (3 rows)" in out
    _command()
    runs = list(ChainVerification.objects.order_by("id"))
    assert len(runs) == 2
    run = runs[0]
    assert (run.status, run.source, run.error) == ("ok", "command", "")
    assert [t["table"] for t in run.tables] == [m._meta.db_table for m in chained_log_models()]
    ours = next(t for t in run.tables if t["table"] == TABLE)
    assert ours == {"table": TABLE, "checked": 3, "ok": True, "first_broken_id": None, "problem": "", "state_drift": []}
    assert run.rows_checked >= 3
    assert run.started_at <= run.created_at


def test_a_broken_chain_is_recorded_with_its_first_broken_row(trail):
    raw(f"UPDATE {TABLE} SET reason = 'edited' WHERE id = %s", [trail[1].pk])
    status, out = _command()
    assert status == 1
    assert f"{TABLE}: BROKEN at id {trail[1].pk}: content does not match its hash" in out
    run = ChainVerification.objects.get()
    assert run.status == "broken"
    ours = next(t for t in run.tables if t["table"] == TABLE)
    assert (ours["ok"], ours["first_broken_id"], ours["problem"]) == (
        False,
        trail[1].pk,
        "content does not match its hash",
    )


def test_a_walk_that_fails_is_recorded_as_an_error_and_raises(trail, monkeypatch):
    def fail(**_options):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(verification, "audit_trail_walk", fail)
    with pytest.raises(RuntimeError):
        verification.chain_verification_run()
    run = ChainVerification.objects.get()
    assert (run.status, run.source, run.error, run.tables) == ("error", "schedule", "RuntimeError: disk on fire", [])


def test_recorded_runs_are_append_only(trail):
    _command()
    run = ChainVerification.objects.get()
    with pytest.raises(AppendOnlyError):
        ChainVerification.objects.update(status="broken")
    with pytest.raises(AppendOnlyError):
        run.delete()
    assert ChainVerification.objects.get().status == "ok"


@pytest.mark.postgres
def test_the_database_refuses_to_change_a_recorded_run(trail):
    _command()
    refused = pytest.raises(ProgrammingError, match="Cannot update or delete")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ChainVerification._meta.db_table} SET status = 'broken'")  # noqa: S608


def test_auditors_read_the_runs_newest_filtered_and_nobody_writes(trail, auth_client):
    _command()
    raw(f"UPDATE {TABLE} SET reason = 'edited' WHERE id = %s", [trail[0].pk])
    _command()
    client, _user = auth_client("auditor")
    body = client.get(f"{URL}?ordering=-created_at").json()
    assert body["count"] == 2
    newest = body["results"][0]
    assert (newest["status"], newest["source"]) == ("broken", "command")
    assert next(t for t in newest["tables"] if t["table"] == TABLE)["first_broken_id"] == trail[0].pk
    assert [r["status"] for r in client.get(f"{URL}?status=ok").json()["results"]] == ["ok"]
    assert client.get(f"{URL}{newest['id']}/").json()["id"] == newest["id"]
    assert_error(client.get(f"{URL}?status=fine"), 400, "validation_error")
    assert_error(client.post(URL, {}, format="json"), 405, "method_not_allowed")
    assert_error(auth_client("employee")[0].get(URL), 403, "permission_denied")


def test_the_list_caps_its_queries(trail, auth_client):
    client, _user = auth_client("auditor")
    _command()
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for _ in range(5):
        _command()
    with CaptureQueriesContext(connection) as six:
        assert client.get(URL).json()["count"] == 6
    assert len(six.captured_queries) == len(one.captured_queries) <= 3


def test_queue_needs_the_job_queue(trail):
    status, _out = _command("--queue")  # the test settings run long work inline: there is no queue to ask
    assert status == 2
    assert not ChainVerification.objects.exists()


# --- on the real queue (PostgreSQL) ---------------------------------------------------------------------------------


@pytest.mark.postgres
@override_settings(COVERIS_JOBS="queue")
def test_queue_defers_the_walk_and_a_worker_records_it(job_queue, employee, transition):
    transition(employee, "activate")
    status, out = _command("--queue")
    assert status == 0
    assert "Queued as job" in out
    assert job_queue.jobs() == [("audit.verify_chain", "audit", "todo")]
    assert "A verification is already queued" in _command("--queue")[1]  # the queueing lock: one waiting walk
    assert not ChainVerification.objects.exists()  # nothing walked yet: the worker does it
    job_queue.run_once(queues="audit")
    run = ChainVerification.objects.get()
    assert (run.status, run.source) == ("ok", "command")
    # (the worker's periodic deferrer may have deferred the plans' recovery job meanwhile: another queue)
    assert [job for job in job_queue.jobs() if job[1] == "audit"] == [("audit.verify_chain", "audit", "succeeded")]


@pytest.mark.postgres
def test_the_nightly_walk_is_deferred_by_the_workers_schedule_and_recorded(job_queue, employee, transition):
    """The worker's periodic deferrer defers ``audit.verify_chain`` at its cron time (every minute here), a worker
    runs it, and the outcome — a broken row, named — is recorded for auditors."""
    transition(employee, "activate")
    transition(employee, "start_leave")
    first = EmployeeTransitionLog.objects.order_by("id").first()
    raw(f"UPDATE {TABLE} SET reason = 'edited' WHERE id = %s", [first.pk])
    worker = job_queue.start(COVERIS_AUDIT_VERIFY_CRON="* * * * *")
    try:
        run = job_queue.wait_for(
            lambda: ChainVerification.objects.filter(source="schedule").first(), 150, "a scheduled verification"
        )
    finally:
        job_queue.stop(worker)
    assert run.status == "broken"
    ours = next(t for t in run.tables if t["table"] == TABLE)
    assert (ours["first_broken_id"], ours["problem"]) == (first.pk, "content does not match its hash")
    assert ("audit.verify_chain", "audit", "succeeded") in job_queue.jobs()
    with connection.cursor() as cursor:
        cursor.execute("SELECT periodic_id FROM procrastinate_periodic_defers WHERE task_name = 'audit.verify_chain'")
        assert cursor.fetchall() == [("verify_audit_chain",)]
