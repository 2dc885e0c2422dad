"""GET/POST ``/api/employees/{id}/transitions/``: shapes, roles, refusals in the one error shape, nothing written.

Every test runs twice: against the real employees endpoint and against the bare ``TransitionActionMixin`` of
``apps.fsm.tests.urls`` (which lets every reading role through, so the service's own refusals show).
"""

import datetime

import pytest

from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.tests.conftest import HIRE_DATE, LIFECYCLE, allowed_from, rule_result, snapshot

pytestmark = pytest.mark.urls("apps.fsm.tests.urls")

LOG_ENTRY_FIELDS = {
    "id",
    "employee",
    "transition",
    "source",
    "target",
    "actor",
    "actor_email",
    "created_at",
    "reason",
    "effective_date",
    "rule_results",
    "override_reason",
    "request_id",
    "prev_hash",
    "hash",
}


def assert_error(response, status: int, code: str):
    """The one error shape with this status and code; returns its ``details``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]["details"]


@pytest.fixture(params=["/api/employees/", "/api/fsm-test/employees/"], ids=["employees-endpoint", "bare-mixin"])
def url(request):
    """``url(employee)`` → that employee's transitions URL on the endpoint under test."""
    return lambda employee: f"{request.param}{getattr(employee, 'pk', employee)}/transitions/"


@pytest.fixture
def client_as(auth_client, make_employee):
    """``client_as(role, employee)`` → an API client for a user who can see ``employee`` (managers get its unit)."""

    def _client(role: str, employee):
        extra = {"org_unit": employee.org_unit} if role == "manager" else {}
        return auth_client(role, **extra)[0]

    return _client


# --- GET --------------------------------------------------------------------------------------------


def test_get_lists_every_transition_with_target_and_whether_hr_may_perform_it(url, client_as, make_employee):
    employee = make_employee("active")
    response = client_as("hr", employee).get(url(employee))
    assert response.status_code == 200, response.content
    options = response.json()
    assert [o["name"] for o in options] == list(LIFECYCLE)
    # SPEC's keys, plus the additive blocked_by / needs / can_override.
    assert all(
        set(o) == {"name", "target", "allowed", "rule_results", "blocked_by", "needs", "can_override"} for o in options
    )
    assert {o["name"] for o in options if o["allowed"]} == set(allowed_from("active"))
    assert {o["name"] for o in options if o["blocked_by"] is None} == set(allowed_from("active"))
    assert {o["name"]: o["blocked_by"] for o in options}["activate"] == "state"
    assert {o["name"]: o["target"] for o in options}["suspend"] == "suspended"


@pytest.mark.parametrize("query", ["?state=pending", "?search=nobody-matches-this", "?page=7", "?tag=NOPE"])
def test_list_filters_and_pagination_do_not_apply_to_the_transitions_action(url, client_as, make_employee, query):
    employee = make_employee("active")
    client = client_as("hr", employee)
    response = client.get(url(employee) + query)
    assert response.status_code == 200, response.content
    assert isinstance(response.json(), list)
    assert len(response.json()) == len(LIFECYCLE)
    posted = client.post(url(employee) + query, {"transition": "start_leave", "dry_run": True}, format="json")
    assert posted.status_code == 200, posted.content


def test_get_does_not_close_a_transition_only_a_reason_would_open(url, client_as, make_employee, rules):
    employee = make_employee("active")
    rules(lambda event, context: [rule_result("WHY")] if event == "employee.suspend" else [])
    options = {o["name"]: o for o in client_as("hr", employee).get(url(employee)).json()}
    assert (options["suspend"]["allowed"], options["suspend"]["blocked_by"]) == (True, None)
    assert options["suspend"]["needs"] == ["reason"]
    assert [r["rule"] for r in options["suspend"]["rule_results"]] == ["WHY"]


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_get_shows_readers_who_may_not_transition_nothing_open(url, client_as, make_employee, role):
    employee = make_employee("active")
    response = client_as(role, employee).get(url(employee))
    assert response.status_code == 200, response.content
    assert len(response.json()) == len(LIFECYCLE)
    assert not any(o["allowed"] for o in response.json())


def test_get_includes_the_rule_results_of_open_transitions(url, client_as, make_employee, rules):
    employee = make_employee("active")
    rules([rule_result("NO", severity="block", rule_type="employee_state")])
    options = {o["name"]: o for o in client_as("hr", employee).get(url(employee)).json()}
    assert options["terminate"]["allowed"] is False
    assert options["terminate"]["blocked_by"] == "rules"
    assert options["terminate"]["rule_results"] == [rule_result("NO", severity="block", rule_type="employee_state")]


# --- POST: success and dry run ----------------------------------------------------------------------


def test_post_performs_the_transition_and_returns_employee_log_entry_and_rule_results(
    url, client_as, make_employee, rules
):
    employee = make_employee("pending")
    passing = rule_result("OK", outcome="pass")
    rules([passing])
    client = client_as("hr", employee)
    response = client.post(
        url(employee),
        {"transition": "activate", "reason": "First day", "effective_date": "2026-02-02"},
        format="json",
        HTTP_X_REQUEST_ID="req-fsm-1",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"employee", "log_entry", "rule_results"} <= set(body)
    assert (body["employee"]["id"], body["employee"]["state"]) == (employee.pk, "active")
    entry = body["log_entry"]
    assert set(entry) == LOG_ENTRY_FIELDS
    stored = EmployeeTransitionLog.objects.get(pk=entry["id"])
    assert entry["employee"] == employee.pk
    assert (entry["transition"], entry["source"], entry["target"]) == ("activate", "pending", "active")
    assert entry["actor_email"] == stored.actor_email
    assert entry["actor"] == stored.actor_id
    assert (entry["reason"], entry["effective_date"]) == ("First day", "2026-02-02")
    assert entry["request_id"] == "req-fsm-1" == stored.request_id  # the middleware's id reaches the log
    assert datetime.datetime.fromisoformat(entry["created_at"]) == stored.created_at
    assert (entry["prev_hash"], entry["hash"]) == (stored.prev_hash, stored.hash)
    assert body["rule_results"] == entry["rule_results"] == [passing]
    assert snapshot(employee.pk).state == "active"


def test_post_without_optional_fields_uses_today(url, client_as, make_employee):
    employee = make_employee("active")
    response = client_as("admin", employee).post(url(employee), {"transition": "terminate"}, format="json")
    assert response.status_code == 200, response.content
    today = datetime.date.today().isoformat()
    assert response.json()["log_entry"]["effective_date"] == today
    assert response.json()["employee"]["termination_date"] == today


def test_dry_run_says_what_would_happen_and_writes_nothing(url, client_as, make_employee):
    employee = make_employee("active")
    before = snapshot(employee.pk)
    response = client_as("hr", employee).post(
        url(employee), {"transition": "start_leave", "dry_run": True}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"dry_run": True, "allowed": True, "target": "on_leave", "rule_results": []}.items() <= body.items()
    assert snapshot(employee.pk) == before


def test_dry_run_of_a_closed_transition_is_not_an_error(url, client_as, make_employee, rules):
    employee = make_employee("active")
    rules([rule_result("NO")])
    client = client_as("hr", employee)
    closed = client.post(url(employee), {"transition": "rehire", "dry_run": True}, format="json").json()
    blocked = client.post(url(employee), {"transition": "suspend", "dry_run": True}, format="json").json()
    assert (closed["dry_run"], closed["allowed"], closed["target"]) == (True, False, "pending")
    assert (blocked["allowed"], [r["rule"] for r in blocked["rule_results"]]) == (False, ["NO"])
    assert snapshot(employee.pk).state == "active"


# --- POST: refusals ---------------------------------------------------------------------------------


def test_a_transition_not_open_now_is_a_409_naming_state_and_allowed_ones(url, client_as, make_employee):
    employee = make_employee("suspended")
    before = snapshot(employee.pk)
    response = client_as("hr", employee).post(url(employee), {"transition": "start_leave"}, format="json")
    details = assert_error(response, 409, "transition_not_allowed")
    assert details == {"current_state": "suspended", "allowed_transitions": allowed_from("suspended")}
    assert snapshot(employee.pk) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transition": "promote"}, "transition"),
        ({}, "transition"),
        ({"transition": ""}, "transition"),
        ({"transition": "x" * 65}, "transition"),
        ({"transition": "activate", "effective_date": "2026-13-45"}, "effective_date"),
        ({"transition": "activate", "effective_date": "next tuesday"}, "effective_date"),
        ({"transition": "activate", "effective_date": 20260101}, "effective_date"),
        ({"transition": "activate", "effective_date": "2026-02-02T10:00:00Z"}, "effective_date"),
        ({"transition": "activate", "dry_run": "maybe"}, "dry_run"),
        ({"transition": "activate", "acknowledge_warnings": [True]}, "acknowledge_warnings"),
        ({"transition": "activate", "reason": "\x00"}, "reason"),
    ],
    ids=[
        "unknown-name",
        "missing-name",
        "blank-name",
        "long-name",
        "impossible-date",
        "words-for-date",
        "number-for-date",
        "datetime-for-date",
        "bad-boolean",
        "list-for-boolean",
        "nul-in-reason",
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(url, client_as, make_employee, body, field):
    employee = make_employee("pending")
    before = snapshot(employee.pk)
    response = client_as("hr", employee).post(url(employee), body, format="json")
    details = assert_error(response, 400, "validation_error")
    assert field in details, details
    assert snapshot(employee.pk) == before


def test_a_body_that_is_not_an_object_is_a_400(url, client_as, make_employee):
    employee = make_employee("pending")
    response = client_as("hr", employee).post(url(employee), ["activate"], format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "validation_error"


def test_terminating_before_the_hire_date_is_a_400(url, client_as, make_employee):
    employee = make_employee("active")
    before = snapshot(employee.pk)
    day_before = (HIRE_DATE - datetime.timedelta(days=1)).isoformat()
    response = client_as("hr", employee).post(
        url(employee), {"transition": "terminate", "effective_date": day_before}, format="json"
    )
    assert "effective_date" in assert_error(response, 400, "validation_error")
    assert snapshot(employee.pk) == before


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_readers_who_may_not_transition_get_a_403_and_nothing_is_written(url, client_as, make_employee, role):
    employee = make_employee("pending")
    before = snapshot(employee.pk)
    response = client_as(role, employee).post(url(employee), {"transition": "activate"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert snapshot(employee.pk) == before


def test_an_override_by_hr_is_a_403(url, client_as, make_employee, rules):
    employee = make_employee("pending")
    rules([rule_result("NO")])
    response = client_as("hr", employee).post(
        url(employee), {"transition": "activate", "override_reason": "Because"}, format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert snapshot(employee.pk).state == "pending"


def test_a_failing_block_rule_is_a_422_with_the_violations(url, client_as, make_employee, rules):
    employee = make_employee("pending")
    blocking = rule_result("NO", severity="block")
    rules([rule_result("OK", outcome="pass"), blocking])
    before = snapshot(employee.pk)
    response = client_as("hr", employee).post(url(employee), {"transition": "activate"}, format="json")
    details = assert_error(response, 422, "rule_violation")
    assert details["violations"] == [blocking]
    assert snapshot(employee.pk) == before


def test_warnings_are_a_422_until_acknowledged(url, client_as, make_employee, rules):
    employee = make_employee("pending")
    rules([rule_result("CAREFUL", severity="warn")])
    client = client_as("hr", employee)
    refused = client.post(url(employee), {"transition": "activate"}, format="json")
    assert assert_error(refused, 422, "rule_violation")["acknowledge_warnings_required"] is True
    accepted = client.post(url(employee), {"transition": "activate", "acknowledge_warnings": True}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["log_entry"]["rule_results"][0]["rule"] == "CAREFUL"


def test_an_admin_override_passes_a_block_and_is_logged(url, client_as, make_employee, rules):
    employee = make_employee("pending")
    rules([rule_result("NO")])
    response = client_as("admin", employee).post(
        url(employee), {"transition": "activate", "override_reason": "Board decision"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["log_entry"]["override_reason"] == "Board decision"


def test_an_unknown_employee_is_a_404(url, auth_client, db):
    client, _ = auth_client("hr")
    assert_error(client.post(url(987654), {"transition": "activate"}, format="json"), 404, "not_found")
    assert_error(client.get(url(987654)), 404, "not_found")


def test_anonymous_callers_get_a_401(url, api_client, make_employee):
    employee = make_employee("pending")
    assert_error(api_client.post(url(employee), {"transition": "activate"}, format="json"), 401, "not_authenticated")
    assert snapshot(employee.pk).state == "pending"


# --- the response and the transaction ----------------------------------------------------------------


def test_cascaded_lists_the_log_rows_hooks_return_and_skips_other_rows(url, client_as, make_employee, after_hook):
    employee = make_employee("active")
    after_hook("employee.suspend", lambda instance, request, log_entry: [log_entry, {"ledger": "entry"}])
    response = client_as("hr", employee).post(url(employee), {"transition": "suspend"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["id"] for row in body["cascaded"]] == [body["log_entry"]["id"]]


def test_a_failure_while_building_the_response_rolls_the_transition_back(url, client_as, make_employee, monkeypatch):
    from apps.fsm.api import views

    def broken(self, instance):
        raise RuntimeError("serializer bug")

    monkeypatch.setattr(views.TransitionLogSerializer, "to_representation", broken)
    employee = make_employee("pending")
    before = snapshot(employee.pk)
    response = client_as("hr", employee).post(url(employee), {"transition": "activate"}, format="json")
    assert_error(response, 500, "server_error")
    assert snapshot(employee.pk) == before
