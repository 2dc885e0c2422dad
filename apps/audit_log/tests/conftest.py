"""Fixtures for the audit read side: log rows written through the real write side, and URL helpers."""

import time

import pytest

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.fsm.services import employee_transition
from apps.tags.models import TagCatalog, TagChangeLog
from backend.request_context import current_request_id

EMPLOYEE_TRANSITIONS_URL = "/api/audit/employee-transitions/"
TAG_CHANGES_URL = "/api/audit/tag-changes/"
VERIFY_URL = "/api/audit/verify/"
CHANGES_URL = "/api/audit/changes/"


def state_at_url(employee_id) -> str:
    return f"/api/audit/employees/{employee_id}/state-at/"


def assert_error(response, status: int, code: str) -> dict:
    """The response has this status and the one error shape with this code; returns the ``error`` object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert "Traceback" not in response.content.decode()
    return body["error"]


def changes(client, **params) -> list[dict]:
    """The rows of ``GET /api/audit/changes/`` with these filters (one page of up to 100)."""
    response = client.get(CHANGES_URL, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def auditor(auth_client):
    """An API client signed in as an auditor."""
    return auth_client("auditor")[0]


@pytest.fixture
def hr(auth_client):
    """(API client, user) of an HR user."""
    return auth_client("hr")


@pytest.fixture
def hr_user(make_user):
    return make_user("hr")


@pytest.fixture
def employee(db):
    return EmployeeFactory()


@pytest.fixture
def transition(hr_user):
    """``transition(employee, name, actor=None, request_id="")`` → the log row written by the real service.

    Sleeps a millisecond first so consecutive rows have clearly distinct ``created_at`` values.
    """

    def _transition(employee, name: str, actor=None, request_id: str = ""):
        time.sleep(0.001)
        token = current_request_id.set(request_id or "-")
        try:
            outcome = employee_transition(employee_id=employee.pk, name=name, actor=actor or hr_user)
        finally:
            current_request_id.reset(token)
        return outcome.log_entry

    return _transition


@pytest.fixture
def tag(db):
    return TagCatalog.objects.create(code="forklift", name="Forklift licence")


@pytest.fixture
def tag_change(hr_user, tag):
    """``tag_change(**fields)`` → a TagChangeLog row (inserted directly: the read side only needs rows to read)."""

    def _tag_change(**fields):
        time.sleep(0.001)
        if "employee" not in fields and "position" not in fields:
            fields["employee"] = EmployeeFactory()
        target_type = "employee" if fields.get("employee") else "position"
        defaults = {
            "action": "add",
            "target_type": target_type,
            "target_id": 1,
            "tag": tag,
            "before": None,
            "after": {"level": 1},
            "actor": hr_user,
            "actor_email": hr_user.email,
        }
        return TagChangeLog.objects.create(**{**defaults, **fields})

    return _tag_change


@pytest.fixture
def position(db):
    return PositionFactory()
