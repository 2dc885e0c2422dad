"""Signed digests and incremental verification: a digest proves the audit tables only grew; verifying reads only
the rows appended since (rows read asserted, not time); a rewrite that recomputed the whole chain is caught against
a digest taken before it."""

import copy

import pgtrigger
import pytest
from django.db import connection

from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.tests.conftest import VERIFY_URL, assert_error
from apps.fsm.models import EmployeeTransitionLog
from backend.audit.chain import chain_append, chain_verify, chained_log_models, row_hash
from backend.audit.checkpoints import digest_check_signature

DIGEST_URL = "/api/audit/digest/"
TABLE = EmployeeTransitionLog._meta.db_table


@pytest.fixture
def auditor(auth_client):
    return auth_client("auditor")[0]


def _append_logs(employee, n: int) -> list:
    return [
        chain_append(
            EmployeeTransitionLog,
            employee=employee,
            transition="activate",
            source_state="pending",
            target_state="pending",
        )
        for _ in range(n)
    ]


def _by_table(body) -> dict:
    return {t["table"]: t for t in body["tables"]}


def test_the_digest_is_signed_and_covers_every_chained_table(auditor, db):
    _append_logs(EmployeeFactory(), 2)
    response = auditor.get(DIGEST_URL)
    assert response.status_code == 200, response.content
    digest = response.json()
    assert set(digest["tables"]) == {m._meta.db_table for m in chained_log_models()}
    assert digest["tables"][TABLE]["rows"] == 2
    assert digest_check_signature(digest) == digest["tables"]

    body = auditor.post(VERIFY_URL, {"digest": digest}, format="json").json()
    assert (body["ok"], body["against"]) == (True, "digest"), body
    assert all(t["checked"] == 0 for t in body["tables"])


def test_verify_after_n_new_rows_reads_n_rows(auditor, db):
    employee = EmployeeFactory()
    _append_logs(employee, 5)
    digest = auditor.get(DIGEST_URL).json()
    _append_logs(employee, 7)

    since_checkpoint = _by_table(auditor.get(VERIFY_URL).json())
    assert since_checkpoint[TABLE]["checked"] == 7
    assert since_checkpoint[TABLE]["since_rows"] == 5
    against_digest = auditor.post(VERIFY_URL, {"digest": digest}, format="json").json()
    assert against_digest["ok"] is True
    assert _by_table(against_digest)[TABLE]["checked"] == 7
    # Every table reads exactly the rows appended since the digest, nothing before it.
    for model in chained_log_models():
        head = digest["tables"][model._meta.db_table]["head_id"] or 0
        new_rows = model.objects.filter(pk__gt=head).count()
        if getattr(model, "chain_in_db", False) and connection.vendor != "postgresql":
            new_rows = 0  # change rows recorded from Python on SQLite are not sealed: the database seals them
        assert _by_table(against_digest)[model._meta.db_table]["checked"] == new_rows

    # A new checkpoint moves the starting point: the next check reads nothing old.
    assert auditor.get(DIGEST_URL).json()["tables"][TABLE]["rows"] == 12
    assert _by_table(auditor.get(VERIFY_URL).json())[TABLE]["checked"] == 0


@pytest.mark.postgres
def test_a_whole_chain_recomputation_is_caught_against_an_earlier_digest(auditor, db):
    employee = EmployeeFactory()
    rows = _append_logs(employee, 4)
    digest = auditor.get(DIGEST_URL).json()

    # The owner switches the trigger off, edits the first row and recomputes every hash after it.
    with pgtrigger.ignore("fsm.EmployeeTransitionLog:append_only"), connection.cursor() as cursor:
        previous = ""
        for row in EmployeeTransitionLog.objects.order_by("id"):
            if row.pk == rows[0].pk:
                row.reason = "forged"
            row.prev_hash = previous
            row.hash = previous = row_hash(row)
            cursor.execute(
                f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                [row.reason, row.prev_hash, row.hash, row.pk],
            )
    assert chain_verify(EmployeeTransitionLog).ok  # the rewrite is self-consistent: a plain walk sees nothing

    body = auditor.post(VERIFY_URL, {"digest": digest}, format="json").json()
    assert body["ok"] is False
    report = _by_table(body)[TABLE]
    assert (report["ok"], report["first_broken_id"]) == (False, rows[-1].pk)
    assert "rewritten" in report["problem"]
    assert all(t["ok"] for name, t in _by_table(body).items() if name != TABLE)


def test_a_forged_or_malformed_digest_is_a_400(auditor, db):
    _append_logs(EmployeeFactory(), 1)
    digest = auditor.get(DIGEST_URL).json()
    forged = copy.deepcopy(digest)
    forged["tables"][TABLE]["rows"] = 99
    for bad in (forged, {**digest, "key_id": "unknown"}, {"tables": []}, "text"):
        error = assert_error(auditor.post(VERIFY_URL, {"digest": bad}, format="json"), 400, "validation_error")
        assert "digest" in error["details"]


@pytest.mark.postgres
def test_no_digest_is_signed_over_a_broken_chain(auditor, db):
    rows = _append_logs(EmployeeFactory(), 3)
    with pgtrigger.ignore("fsm.EmployeeTransitionLog:append_only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET reason = 'x' WHERE id = %s", [rows[1].pk])  # noqa: S608
    error = assert_error(auditor.get(DIGEST_URL), 409, "conflict")
    assert error["details"] == {TABLE: rows[1].pk}


def test_digest_and_verify_need_an_audit_role(auth_client, db):
    client = auth_client("employee")[0]
    assert client.get(DIGEST_URL).status_code == 403
    assert client.post(VERIFY_URL, {}, format="json").status_code == 403


def test_the_change_history_endpoints_answer_on_every_database(auditor, db):
    """On SQLite (local development) nothing records changes, but the endpoints answer, never a 500."""
    employee = EmployeeFactory()
    assert auditor.get("/api/audit/changes/").status_code == 200
    assert auditor.get("/api/audit/changes/", {"format": "csv"}).status_code == 200
    assert auditor.get(f"/api/audit/employees/{employee.pk}/history/").status_code == 200
