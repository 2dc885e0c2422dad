"""/api/audit/assignment-transitions/: the same read side, plugged in for the assignment log table."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.audit_log.tests.conftest import assert_error
from apps.fsm.services import employee_transition

URL = "/api/audit/assignment-transitions/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(make_user):
    """Two assignments of one employee: one approved then cancelled by the employee's termination."""
    hr = make_user("hr")
    first = AssignmentFactory()
    employee_transition(employee_id=first.employee_id, name="activate", actor=hr)
    second = AssignmentFactory(employee=first.employee, start_date=datetime.date(2026, 6, 1))
    assignment_transition(assignment_id=first.pk, name="approve", actor=hr, reason="fits")
    employee_transition(employee_id=first.employee_id, name="terminate", actor=hr, reason="left")
    return {"hr": hr, "first": first, "second": second}


@pytest.mark.parametrize(
    ("role", "status"), [("admin", 200), ("hr", 200), ("auditor", 200), ("manager", 403), ("employee", 403), ("", 403)]
)
def test_roles(auth_client, logged, role, status):
    client, _ = auth_client(role)
    assert client.get(URL).status_code == status


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405(auth_client, logged, method):
    client, _ = auth_client("admin")
    assert_error(getattr(client, method)(URL, {}, format="json"), 405, "method_not_allowed")


def test_lists_transitions_including_the_cascade(auth_client, logged):
    client, _ = auth_client("auditor")
    rows = client.get(URL).json()["results"]
    assert [(r["assignment"], r["transition"]) for r in rows] == [
        (logged["first"].pk, "approve"),
        (logged["first"].pk, "cancel"),
        (logged["second"].pk, "cancel"),
    ]
    assert rows[0]["reason"] == "fits"
    assert rows[0]["actor_email"] == logged["hr"].email
    assert rows[1]["reason"].startswith("Employee terminated")


def test_filters_by_assignment_and_transition(auth_client, logged):
    client, _ = auth_client("hr")
    by_object = client.get(URL, {"assignment": logged["second"].pk}).json()["results"]
    assert [r["transition"] for r in by_object] == ["cancel"]
    approvals = client.get(URL, {"transition": "approve"}).json()["results"]
    assert [r["assignment"] for r in approvals] == [logged["first"].pk]
    assert_error(client.get(URL, {"transition": "teleport"}), 400, "validation_error")
    assert_error(client.get(URL, {"assignment": 999999}), 400, "validation_error")


def test_filters_by_the_assignments_employee(auth_client, logged):
    client, _ = auth_client("auditor")
    other = AssignmentFactory(start_date=datetime.date(2026, 7, 1))
    assignment_transition(assignment_id=other.pk, name="reject", actor=logged["hr"], reason="no")
    assert client.get(URL).json()["count"] == 4
    mine = client.get(URL, {"employee": logged["first"].employee_id}).json()["results"]
    assert {row["assignment"] for row in mine} == {logged["first"].pk, logged["second"].pk}
    assert len(mine) == 3
    theirs = client.get(URL, {"employee": other.employee_id}).json()["results"]
    assert [(row["assignment"], row["transition"]) for row in theirs] == [(other.pk, "reject")]
    assert_error(client.get(URL, {"employee": 999999}), 400, "validation_error")
    assert_error(client.get(URL, {"employee": "x"}), 400, "validation_error")


def test_query_count_does_not_grow(auth_client, logged, make_user):
    client, _ = auth_client("auditor")
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).json()["count"] == 3
    hr = logged["hr"]
    for _ in range(8):
        assignment = AssignmentFactory()
        assignment_transition(assignment_id=assignment.pk, name="reject", actor=hr)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 11
    assert len(many) == len(few)


def test_verify_covers_the_assignment_chain(auth_client, logged):
    client, _ = auth_client("auditor")
    body = client.get("/api/audit/verify/").json()
    tables = {t["table"]: t for t in body["tables"]}
    assert tables["assignments_assignmenttransitionlog"]["ok"] is True
    assert tables["assignments_assignmenttransitionlog"]["checked"] == 3
