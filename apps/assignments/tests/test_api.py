import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.models import OrgUnit
from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.choices import AssignmentState
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.selectors import assignment_list
from apps.assignments.tests.factories import AssignmentFactory
from apps.business_rules.services import rule_create
from apps.fsm.services import employee_transition

pytestmark = pytest.mark.django_db
URL = "/api/assignments/"


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return body["error"]


def _body(employee, position, **overrides):
    body = {"employee": employee.pk, "position": position.pk, "start_date": "2026-02-02", "weekly_hours": "20"}
    return {**body, **overrides}


# --- permission matrix --------------------------------------------------------------------------

READ = {"admin": 200, "hr": 200, "manager": 200, "auditor": 200, "employee": 200, "": 403}
CREATE = {"admin": 201, "hr": 201, "manager": 201, "auditor": 403, "employee": 403, "": 403}


@pytest.mark.parametrize("role", list(READ))
def test_list_and_retrieve_by_role(auth_client, tree, role):
    client, user = auth_client(role, org_unit=tree["root"])
    mine = AssignmentFactory(position=tree["p_east"], employee=EmployeeFactory(user=user, org_unit=tree["east"]))
    response = client.get(URL)
    assert response.status_code == READ[role]
    if READ[role] == 200:
        assert mine.pk in [row["id"] for row in response.json()["results"]]
        assert client.get(f"{URL}{mine.pk}/").status_code == 200


def test_anonymous_is_401(api_client):
    _error(api_client.get(URL), 401, "not_authenticated")


@pytest.mark.parametrize("role", list(CREATE))
def test_create_by_role(auth_client, tree, role):
    client, _ = auth_client(role, org_unit=tree["root"])
    response = client.post(URL, _body(EmployeeFactory(org_unit=tree["east"]), tree["p_east"]), format="json")
    assert response.status_code == CREATE[role], response.content
    assert Assignment.objects.count() == (1 if CREATE[role] == 201 else 0)
    if CREATE[role] == 201:
        body = response.json()
        assert body["state"] == "proposed"
        assert body["rule_results"] == []


def test_scope_manager_subtree_and_employee_own(auth_client, tree):
    inside = AssignmentFactory(position=tree["p_east"])
    outside = AssignmentFactory(position=tree["p_west"])
    manager, _ = auth_client("manager", org_unit=tree["root"])
    ids = [row["id"] for row in manager.get(URL).json()["results"]]
    assert ids == [inside.pk]
    _error(manager.get(f"{URL}{outside.pk}/"), 404, "not_found")
    employee_client, _ = auth_client("employee")
    assert employee_client.get(URL).json()["count"] == 0
    _error(employee_client.get(f"{URL}{inside.pk}/"), 404, "not_found")


def test_manager_cannot_create_outside_subtree(auth_client, tree):
    """Positions and employees outside the manager's subtree are answered like unknown ids: nothing to learn."""
    client, _ = auth_client("manager", org_unit=tree["east"])
    insider = EmployeeFactory(org_unit=tree["east"])
    outsider = EmployeeFactory(org_unit=tree["west"], first_name="Secret", last_name="Outsider")
    error = _error(client.post(URL, _body(insider, tree["p_west"]), format="json"), 400, "validation_error")
    assert "position" in error["details"]
    response = client.post(URL, _body(outsider, tree["p_east"]), format="json")
    error = _error(response, 400, "validation_error")
    assert "employee" in error["details"]
    assert b"Outsider" not in response.content
    assert Assignment.objects.count() == 0
    assert client.post(URL, _body(insider, tree["p_east"]), format="json").status_code == 201


def test_delete_is_not_offered(auth_client):
    client, _ = auth_client("admin")
    assignment = AssignmentFactory()
    _error(client.delete(f"{URL}{assignment.pk}/"), 405, "method_not_allowed")
    assert Assignment.objects.filter(pk=assignment.pk).exists()


# --- writes ------------------------------------------------------------------------------------


def test_state_is_not_writable(auth_client):
    client, _ = auth_client("hr")
    error = _error(
        client.post(URL, _body(EmployeeFactory(), PositionFactory(), state="active"), format="json"),
        400,
        "validation_error",
    )
    assert "transitions" in error["details"]["state"][0]
    assignment = AssignmentFactory()
    _error(client.patch(f"{URL}{assignment.pk}/", {"state": "active"}, format="json"), 400, "validation_error")
    assert Assignment.objects.get(pk=assignment.pk).state == "proposed"


def test_edit_after_approval_is_409(auth_client, make_user):
    client, hr = auth_client("hr")
    assignment = AssignmentFactory()
    assert client.patch(f"{URL}{assignment.pk}/", {"weekly_hours": "12"}, format="json").status_code == 200
    client.post(f"{URL}{assignment.pk}/transitions/", {"transition": "approve"}, format="json")
    _error(client.patch(f"{URL}{assignment.pk}/", {"weekly_hours": "15"}, format="json"), 409, "conflict")
    assert str(Assignment.objects.get(pk=assignment.pk).weekly_hours) == "12.00"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"end_date": "2026-01-01"}, "end_date"),
        ({"weekly_hours": "-4"}, "weekly_hours"),
        ({"weekly_hours": "0"}, "weekly_hours"),
        ({"weekly_hours": "169"}, "weekly_hours"),
        ({"weekly_hours": "lots"}, "weekly_hours"),
        ({"start_date": "2026-13-45"}, "start_date"),
        ({"employee": 999999}, "employee"),
        ({"position": "abc"}, "position"),
    ],
)
def test_bad_input_is_400_naming_the_field(auth_client, override, field):
    client, _ = auth_client("hr")
    response = client.post(URL, {**_body(EmployeeFactory(), PositionFactory()), **override}, format="json")
    error = _error(response, 400, "validation_error")
    assert field in error["details"]
    assert Assignment.objects.count() == 0


def test_rule_violation_on_create_is_422_with_explanations(auth_client):
    client, _ = auth_client("hr")
    rule_create(
        code="ACTIVE",
        name="Active only",
        rule_type="employee_state",
        params={"states": ["active"]},
        events=["assignment.create"],
    )
    error = _error(client.post(URL, _body(EmployeeFactory(), PositionFactory()), format="json"), 422, "rule_violation")
    violation = error["details"]["violations"][0]
    assert set(violation) == {
        "rule",
        "version",
        "rule_type",
        "outcome",
        "severity",
        "message",
        "observed",
        "threshold",
        "remediation",
        "related",
    }
    assert Assignment.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=approved", ["b"]),
        ("active_on=2026-03-15", []),  # "a" is only proposed: it does not run
        ("active_on=2026-04-15", ["b"]),
        ("org_unit=east", ["a", "b"]),
        ("search=P_WEST", ["c"]),
    ],
)
def test_filters(auth_client, tree, query, expected):
    client, hr = auth_client("hr")
    made = {
        "a": AssignmentFactory(position=tree["p_east"], start_date=datetime.date(2026, 3, 1)),
        "b": AssignmentFactory(position=tree["p_east"], start_date=datetime.date(2026, 4, 1)),
        "c": AssignmentFactory(position=tree["p_west"], start_date=datetime.date(2026, 5, 1)),
    }
    client.post(f"{URL}{made['b'].pk}/transitions/", {"transition": "approve"}, format="json")
    query = query.replace("east", str(tree["root"].pk))
    ids = {row["id"] for row in client.get(f"{URL}?{query}").json()["results"]}
    assert ids == {made[k].pk for k in expected}


def test_active_on_means_running_that_day(auth_client):
    """Approved, active and completed assignments covering the date; never proposed, rejected or cancelled."""
    client, _ = auth_client("hr")
    day, start, end = datetime.date(2026, 3, 15), datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)
    made = {state: AssignmentFactory(start_date=start, end_date=end, state=state) for state in AssignmentState.values}
    made["open_ended"] = AssignmentFactory(start_date=start, state=AssignmentState.ACTIVE)
    made["ended_before"] = AssignmentFactory(
        start_date=start, end_date=day - datetime.timedelta(days=1), state="completed"
    )
    made["starts_after"] = AssignmentFactory(start_date=day + datetime.timedelta(days=1), state="approved")
    response = client.get(f"{URL}?active_on={day.isoformat()}")
    assert response.status_code == 200, response.content
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {made[k].pk for k in ("approved", "active", "completed", "open_ended")}
    on_the_end_date = {row["id"] for row in client.get(f"{URL}?active_on={end.isoformat()}").json()["results"]}
    assert made["completed"].pk in on_the_end_date


@pytest.mark.parametrize("query", ["state=flying", "active_on=yesterday", "org_unit=999999", "employee=x"])
def test_bad_filter_values_are_400(auth_client, query):
    client, _ = auth_client("hr")
    _error(client.get(f"{URL}?{query}"), 400, "validation_error")


def test_list_query_count_does_not_grow(auth_client, tree):
    client, _ = auth_client("manager", org_unit=tree["root"])
    AssignmentFactory(position=tree["p_east"])
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).json()["count"] == 1
    for _ in range(24):
        AssignmentFactory(position=tree["p_east"])
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 25
    assert len(many) == len(one)
    assert len(one) <= 5


def test_list_page_joins_no_org_unit_but_detail_does(auth_client, tree):
    """A list page shows ``position.org_unit_id`` only, so its page query joins no org-unit row (ADR 0031); a detail
    read keeps the join the services rely on."""
    client, hr = auth_client("hr")
    assignment = AssignmentFactory(position=tree["p_east"])
    org_units = OrgUnit._meta.db_table
    with CaptureQueriesContext(connection) as listed:
        body = client.get(URL).json()
    assert body["results"][0]["position"] == assignment.position_id
    page = [q["sql"] for q in listed.captured_queries if "LIMIT" in q["sql"] and "COUNT(" not in q["sql"]]
    assert page
    assert all(f'JOIN "{org_units}"' not in sql for sql in page)
    assert assignment_list(user=hr).query.select_related["position"] == {"org_unit": {}}
    assert assignment_list(user=hr, page_only=True).query.select_related["position"] == {}


# --- transitions endpoint --------------------------------------------------------------------


def test_transitions_get_and_post_shapes(auth_client, make_user):
    client, hr = auth_client("hr")
    employee = EmployeeFactory()
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assignment = AssignmentFactory(employee=employee)
    options = client.get(f"{URL}{assignment.pk}/transitions/").json()
    assert {o["name"]: o["allowed"] for o in options} == {
        "approve": True,
        "reject": True,
        "activate": False,
        "complete": False,
        "cancel": True,
    }
    # SPEC's keys, plus the additive blocked_by / needs / can_override.
    assert all(
        set(o) == {"name", "target", "allowed", "rule_results", "blocked_by", "needs", "can_override"} for o in options
    )

    dry = client.post(f"{URL}{assignment.pk}/transitions/", {"transition": "approve", "dry_run": True}, format="json")
    assert dry.json()["dry_run"] is True
    assert dry.json()["allowed"] is True
    assert dry.json()["target"] == "approved"
    assert AssignmentTransitionLog.objects.count() == 0

    done = client.post(f"{URL}{assignment.pk}/transitions/", {"transition": "approve", "reason": "ok"}, format="json")
    assert done.status_code == 200
    body = done.json()
    assert body["assignment"]["state"] == "approved"
    assert body["log_entry"]["assignment"] == assignment.pk
    assert body["log_entry"]["actor_email"] == hr.email
    assert body["rule_results"] == []


def test_transition_errors(auth_client):
    client, _ = auth_client("hr")
    assignment = AssignmentFactory()
    url = f"{URL}{assignment.pk}/transitions/"
    error = _error(client.post(url, {"transition": "complete"}, format="json"), 409, "transition_not_allowed")
    assert error["details"]["current_state"] == "proposed"
    _error(client.post(url, {"transition": "explode"}, format="json"), 400, "validation_error")
    _error(
        client.post(url, {"transition": "approve", "effective_date": "soon"}, format="json"), 400, "validation_error"
    )
    auditor, _ = auth_client("auditor")
    _error(auditor.post(url, {"transition": "approve"}, format="json"), 403, "permission_denied")
    assert AssignmentTransitionLog.objects.count() == 0
