"""Who may read the audit endpoints, and that none of them can be written to."""

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from apps.audit_log.tests.conftest import (
    EMPLOYEE_TRANSITIONS_URL,
    TAG_CHANGES_URL,
    VERIFY_URL,
    assert_error,
    state_at_url,
)
from apps.fsm.models import EmployeeTransitionLog
from apps.tags.models import TagChangeLog

READERS = ["admin", "hr", "auditor"]
NON_READERS = ["manager", "employee", ""]  # "" is a user without a role
WRITE_METHODS = ["post", "put", "patch", "delete"]


@pytest.fixture
def urls(employee, transition, tag_change):
    """Every audit URL (lists, details, verify, state-at) with one row behind each."""
    log = transition(employee, "activate")
    change = tag_change(employee=employee)
    return {
        "employee-transitions list": EMPLOYEE_TRANSITIONS_URL,
        "employee-transitions detail": f"{EMPLOYEE_TRANSITIONS_URL}{log.pk}/",
        "tag-changes list": TAG_CHANGES_URL,
        "tag-changes detail": f"{TAG_CHANGES_URL}{change.pk}/",
        "verify": VERIFY_URL,
        "state-at": f"{state_at_url(employee.pk)}?{urlencode({'at': log.created_at.isoformat()})}",
    }


ENDPOINTS = [
    "employee-transitions list",
    "employee-transitions detail",
    "tag-changes list",
    "tag-changes detail",
    "verify",
    "state-at",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", READERS)
def test_audit_readers_may_read(auth_client, urls, endpoint, role):
    client, _ = auth_client(role)
    response = client.get(urls[endpoint])
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", NON_READERS)
def test_other_roles_are_refused(auth_client, urls, endpoint, role):
    client, _ = auth_client(role)
    assert_error(client.get(urls[endpoint]), 403, "permission_denied")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_is_asked_to_authenticate(urls, endpoint):
    response = APIClient().get(urls[endpoint])
    assert_error(response, 401, "not_authenticated")
    assert response.has_header("WWW-Authenticate")


def test_inactive_reader_is_refused(auth_client, urls):
    client, user = auth_client("auditor")
    user.is_active = False
    user.save()
    assert client.get(urls["employee-transitions list"]).status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("role", [*READERS, *NON_READERS, None])
def test_every_write_method_is_405_for_everyone(auth_client, urls, endpoint, method, role):
    """405 whoever asks (anonymous included): the audit trail has no write methods at all. (POST on verify only
    carries a digest to check against, writes nothing, and is tested in test_digest.py.)"""
    if (endpoint, method) == ("verify", "post"):
        return
    client = APIClient() if role is None else auth_client(role)[0]
    logs, changes = EmployeeTransitionLog.objects.count(), TagChangeLog.objects.count()

    response = getattr(client, method)(urls[endpoint], {"reason": "rewritten", "action": "remove"}, format="json")

    error = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in error["message"]
    assert ("POST" in response["Allow"]) == (endpoint == "verify")
    assert "GET" in response["Allow"]
    assert (EmployeeTransitionLog.objects.count(), TagChangeLog.objects.count()) == (logs, changes)


def test_write_attempts_change_nothing(auth_client, urls):
    client, _ = auth_client("admin")
    before = list(EmployeeTransitionLog.objects.values())
    for method in WRITE_METHODS:
        getattr(client, method)(urls["employee-transitions detail"], {"reason": "rewritten"}, format="json")
    assert list(EmployeeTransitionLog.objects.values()) == before


@pytest.mark.parametrize("role", READERS)
def test_options_is_answered_for_readers(auth_client, urls, role):
    client, _ = auth_client(role)
    response = client.options(urls["employee-transitions list"])
    assert response.status_code == 200
    assert "POST" not in response["Allow"]
