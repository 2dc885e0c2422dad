"""/api/business-rules/: wiring, the permission matrix, the error shape for bad input, filters, query caps,
the type registry, snapshots, and hypothetical evaluation (which writes nothing)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.business_rules.choices import KNOWN_EVENTS
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.registry import REGISTRY
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.fsm.models import EmployeeTransitionLog
from backend.tests.utils import assert_error

D = datetime.date
URL = "/api/business-rules/"
TYPES_URL = f"{URL}types/"
EVALUATE_URL = f"{URL}evaluate/"
pytestmark = pytest.mark.django_db

SPEC_FIELDS = {
    "code",
    "name",
    "description",
    "rule_type",
    "params",
    "severity",
    "events",
    "org_unit",
    "position",
    "is_active",
    "valid_from",
    "valid_to",
    "version",
}
NEW_RULE = {
    "code": "MAX_40",
    "name": "At most 40 h/week",
    "rule_type": "max_weekly_hours",
    "params": {"max_hours": 40},
    "severity": "block",
    "events": ["assignment.approve", "assignment.create"],
}


def detail(rule) -> str:
    return f"{URL}{rule.pk}/"


def assert_fields(response, status, code, *fields) -> dict:
    error = assert_error(response, status, code)
    for field in fields:
        assert field in (error["details"] or {}), error
    return error


@pytest.fixture
def client_for(auth_client):
    """``client_for(role)``: "anonymous" is unauthenticated, "none" is a signed-in user without a role."""

    def _client(role: str, **user_fields) -> APIClient:
        if role == "anonymous":
            return APIClient()
        return auth_client("" if role == "none" else role, **user_fields)[0]

    return _client


@pytest.fixture
def admin(client_for) -> APIClient:
    return client_for("admin")


@pytest.fixture
def existing(db):
    return BusinessRuleFactory(code="EXISTING")


# --- permission matrix ------------------------------------------------------------------------------

READERS = {"admin": 200, "hr": 200, "manager": 200, "auditor": 200, "employee": 403, "none": 403, "anonymous": 401}
WRITERS = {"admin": None, "hr": None, "manager": 403, "auditor": 403, "employee": 403, "none": 403, "anonymous": 401}


def _call(client, endpoint, rule):
    if endpoint == "list":
        return client.get(URL)
    if endpoint == "retrieve":
        return client.get(detail(rule))
    if endpoint == "types":
        return client.get(TYPES_URL)
    if endpoint == "versions":
        return client.get(f"{detail(rule)}versions/")
    if endpoint == "evaluate":
        return client.post(EVALUATE_URL, {"event": "assignment.approve"}, format="json")
    if endpoint == "create":
        return client.post(URL, {**NEW_RULE, "code": "NEW"}, format="json")
    if endpoint == "update":
        return client.patch(detail(rule), {"name": "Renamed"}, format="json")
    if endpoint == "delete":
        return client.delete(detail(rule))
    raise AssertionError(endpoint)


MATRIX = [
    *(
        (endpoint, role, status)
        for endpoint in ("list", "retrieve", "types", "versions", "evaluate")
        for role, status in READERS.items()
    ),
    *(("create", role, status or 201) for role, status in WRITERS.items()),
    *(("update", role, status or 200) for role, status in WRITERS.items()),
    *(("delete", role, status or 409) for role, status in WRITERS.items()),
]


@pytest.mark.parametrize(("endpoint", "role", "status"), MATRIX)
def test_permission_matrix(client_for, existing, endpoint, role, status):
    response = _call(client_for(role), endpoint, existing)
    assert response.status_code == status, response.content
    if status >= 400:
        code = {401: "not_authenticated", 403: "permission_denied", 409: "conflict"}[status]
        assert_error(response, status, code)
    if endpoint in ("create", "update") and status >= 400:
        assert not BusinessRule.objects.filter(code="NEW").exists()
        assert BusinessRule.objects.get(pk=existing.pk).name == existing.name


# --- CRUD ----------------------------------------------------------------------------------------------


def test_create_returns_every_spec_field_and_keeps_a_snapshot(auth_client, tree):
    client, hr = auth_client("hr")
    body = {**NEW_RULE, "org_unit": tree["east"].pk, "valid_from": "2026-01-01", "description": "Working time act"}
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) >= SPEC_FIELDS
    assert data["version"] == 1
    assert data["events"] == ["assignment.approve", "assignment.create"]
    assert data["params"] == {"max_hours": 40}
    assert (data["org_unit"], data["org_unit_code"], data["position"]) == (tree["east"].pk, "EAST", None)
    assert (data["valid_from"], data["valid_to"], data["is_active"]) == ("2026-01-01", None, True)
    version = BusinessRuleVersion.objects.get(rule_id=data["id"])
    assert (version.version, version.actor) == (1, hr)


def test_every_write_answers_what_get_answers(admin, tree):
    """POST, PUT and PATCH (a real edit or a no-op) respond with the rule exactly as GET shows it."""
    scoped = {**NEW_RULE, "org_unit": tree["east"].pk, "position": tree["p_east"].pk}
    created = admin.post(URL, scoped, format="json")
    assert created.status_code == 201, created.content
    url = f"{URL}{created.json()['id']}/"
    assert created.json() == admin.get(url).json()
    assert (created.json()["org_unit_code"], created.json()["position_code"]) == ("EAST", "P_EAST")
    for changes in ({"name": "Renamed"}, {"name": "Renamed"}, {"params": {"max_hours": 38}}, {"org_unit": None}):
        patched = admin.patch(url, changes, format="json")
        assert patched.status_code == 200, patched.content
        assert patched.json() == admin.get(url).json(), changes
    put = admin.put(url, {**scoped, "org_unit": tree["west"].pk, "position": None}, format="json")
    assert put.status_code == 200, put.content
    assert put.json() == admin.get(url).json()
    assert (put.json()["org_unit_code"], put.json()["position_code"]) == ("WEST", None)


def test_version_is_read_only(admin):
    response = admin.post(URL, {**NEW_RULE, "version": 7}, format="json")
    assert response.status_code == 201
    assert response.json()["version"] == 1


def test_edit_bumps_the_version_and_a_no_op_does_not(admin, existing):
    response = admin.patch(detail(existing), {"params": {"max_hours": 32}}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["params"]) == (2, {"max_hours": 32})
    response = admin.patch(detail(existing), {"params": {"max_hours": 32}, "name": existing.name}, format="json")
    assert response.json()["version"] == 2
    full = {**NEW_RULE, "code": "EXISTING", "name": existing.name, "params": {"max_hours": 30}}
    response = admin.put(detail(existing), full, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 3
    assert list(existing.versions.values_list("version", flat=True)) == [1, 2, 3]


def test_deactivate_instead_of_delete(admin, existing):
    error = assert_fields(admin.delete(detail(existing)), 409, "conflict")
    assert "is_active=false" in error["message"]
    assert BusinessRule.objects.filter(pk=existing.pk).exists()
    response = admin.patch(detail(existing), {"is_active": False}, format="json")
    assert (response.json()["is_active"], response.json()["version"]) == (False, 2)


def test_unknown_rule_is_404(admin):
    assert_error(admin.get(f"{URL}999999/"), 404, "not_found")
    assert_error(admin.get(f"{URL}999999/versions/"), 404, "not_found")


# --- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule_type": "no_such_type"}, "rule_type"),
        ({"params": {"max_hours": "forty"}}, "params.max_hours"),
        ({"params": {"max_hours": -5}}, "params.max_hours"),
        ({"params": {"max_hours": 40, "unknown": 1}}, "params.unknown"),
        ({"rule_type": "max_concurrent_assignments", "params": {}}, "params.max"),
        ({"params": "max_hours=40"}, "params"),
        ({"events": ["assignment.aprove"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "assignment.approve"}, "events"),
        ({"valid_from": "2026-02-01", "valid_to": "2026-01-31"}, "valid_to"),
        ({"valid_from": "not-a-date"}, "valid_from"),
        ({"severity": "fatal"}, "severity"),
        ({"code": "EXISTING"}, "code"),
        ({"code": ""}, "code"),
        ({"org_unit": 999999}, "org_unit"),
        ({"position": "abc"}, "position"),
        ({"is_active": "perhaps"}, "is_active"),
    ],
)
def test_bad_create_is_400_naming_the_field(admin, existing, changes, field):
    before = BusinessRule.objects.count()
    response = admin.post(URL, {**NEW_RULE, **changes}, format="json")
    assert_fields(response, 400, "validation_error", field)
    assert BusinessRule.objects.count() == before


@pytest.mark.parametrize("missing", ["code", "name", "rule_type", "events"])
def test_missing_required_field_is_400(admin, missing):
    body = {k: v for k, v in NEW_RULE.items() if k != missing}
    assert_fields(admin.post(URL, body, format="json"), 400, "validation_error", missing)


def test_bad_params_message_names_the_path(admin):
    error = assert_fields(
        admin.post(URL, {**NEW_RULE, "params": {"max_hours": "forty"}}, format="json"),
        400,
        "validation_error",
        "params.max_hours",
    )
    assert "params.max_hours" in error["message"]
    assert "number" in error["details"]["params.max_hours"][0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"params": {"max_hours": "forty"}}, "params.max_hours"),
        ({"rule_type": "max_concurrent_assignments"}, "params.max"),  # the old params do not fit the new type
        ({"valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
        ({"events": ["nope"]}, "events"),
        ({"code": "RENAMED"}, "code"),
    ],
)
def test_bad_edit_is_400_and_changes_nothing(admin, existing, changes, field):
    assert_fields(admin.patch(detail(existing), changes, format="json"), 400, "validation_error", field)
    stored = BusinessRule.objects.get(pk=existing.pk)
    assert (stored.version, stored.code, stored.params, stored.rule_type) == (
        1,
        "EXISTING",
        existing.params,
        existing.rule_type,
    )


def test_malformed_json_is_400(admin):
    response = admin.generic("POST", URL, "{not json", content_type="application/json")
    assert_error(response, 400, "validation_error")


# --- filters -----------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(tree):
    return {
        "hours": BusinessRuleFactory(
            code="HOURS_EAST", name="Hours in the east", org_unit=tree["east"], events=["assignment.approve"]
        ),
        "state": BusinessRuleFactory(
            code="STATE",
            name="Active employees",
            rule_type="employee_state",
            params={"states": ["active"]},
            severity="warn",
            events=["assignment.create", "employee.suspend"],
        ),
        "reason": BusinessRuleFactory(
            code="REASON_P",
            name="Reason on the east position",
            rule_type="reason_required",
            params={},
            position=tree["p_east"],
            is_active=False,
            events=["assignment.reject"],
        ),
    }


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("rule_type=employee_state", {"STATE"}),
        ("severity=warn", {"STATE"}),
        ("is_active=false", {"REASON_P"}),
        ("event=assignment.create", {"STATE"}),
        ("event=employee.suspend", {"STATE"}),
        ("event=assignment.approve", {"HOURS_EAST"}),
        ("event=assignment.activate", set()),
        ("search=east", {"HOURS_EAST", "REASON_P"}),
        ("search=active employ", {"STATE"}),
    ],
)
def test_filters(admin, catalogue, query, codes):
    response = admin.get(f"{URL}?{query}&page_size=100")
    assert response.status_code == 200, response.content
    found = {row["code"] for row in response.json()["results"]}
    assert found & {"HOURS_EAST", "STATE", "REASON_P"} == codes


def test_scope_filters(admin, catalogue, tree):
    assert [r["code"] for r in admin.get(f"{URL}?org_unit={tree['east'].pk}").json()["results"]] == ["HOURS_EAST"]
    assert [r["code"] for r in admin.get(f"{URL}?position={tree['p_east'].pk}").json()["results"]] == ["REASON_P"]


def test_event_filter_does_not_match_a_prefix(admin, db):
    BusinessRuleFactory(code="ON_CLOCK_IN", rule_type="single_clock_in_per_day", params={}, events=["clock.in"])
    codes = {r["code"] for r in admin.get(f"{URL}?event=clock.out").json()["results"]}
    assert "ON_CLOCK_IN" not in codes


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("event=assignment.aprove", "event"),
        ("rule_type=nope", "rule_type"),
        ("severity=fatal", "severity"),
        ("is_active=maybe", "is_active"),
        ("org_unit=999999", "org_unit"),
        ("position=x", "position"),
        ("ordering=secret", "ordering"),
    ],
)
def test_bad_filter_values_are_400(admin, query, field):
    assert_fields(admin.get(f"{URL}?{query}"), 400, "validation_error", field)


def test_ordering(admin, catalogue):
    codes = [r["code"] for r in admin.get(f"{URL}?ordering=-name&is_active=true&search=e").json()["results"]]
    assert codes.index("HOURS_EAST") < codes.index("STATE")


# --- query caps ----------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _scoped_rules(numbers, tree):
    for n in numbers:
        BusinessRuleFactory(code=f"CAP_{n:03d}", org_unit=tree["east"], position=tree["p_east"])


def test_list_query_count_does_not_grow_with_rows(admin, tree):
    _scoped_rules(range(1), tree)
    one = _queries(admin, f"{URL}?search=CAP_")
    _scoped_rules(range(1, 25), tree)
    response = admin.get(f"{URL}?search=CAP_&page_size=25")
    assert len(response.json()["results"]) == 25
    assert _queries(admin, f"{URL}?search=CAP_&page_size=25") == one
    assert one <= 3  # the user, the count, the page


def test_versions_query_count_does_not_grow_with_rows(admin, existing):
    one = _queries(admin, f"{detail(existing)}versions/")
    for hours in range(10, 35):
        admin.patch(detail(existing), {"params": {"max_hours": hours}}, format="json")
    assert _queries(admin, f"{detail(existing)}versions/?page_size=25") == one


# --- types and versions ----------------------------------------------------------------------------------


def test_types_lists_every_registered_type_with_its_schema(client_for):
    data = client_for("auditor").get(TYPES_URL).json()
    assert [t["identifier"] for t in data["types"]] == sorted(REGISTRY)
    by_id = {t["identifier"]: t for t in data["types"]}
    assert len(by_id) >= 9
    assert by_id["max_weekly_hours"]["params_schema"]["properties"]["max_hours"]["type"] == "number"
    assert by_id["max_concurrent_assignments"]["params_schema"]["required"] == ["max"]
    assert all(t["description"] for t in data["types"])
    assert data["events"] == list(KNOWN_EVENTS)
    assert data["severities"] == ["block", "warn"]


def test_versions_lists_every_snapshot_oldest_first(auth_client, existing):
    client, hr = auth_client("hr")
    client.patch(detail(existing), {"params": {"max_hours": 30}}, format="json")
    client.patch(detail(existing), {"severity": "warn"}, format="json")
    data = client.get(f"{detail(existing)}versions/").json()
    assert data["count"] == 3
    rows = data["results"]
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert [r["snapshot"]["params"]["max_hours"] for r in rows] == [40, 30, 30]
    assert rows[2]["snapshot"]["severity"] == "warn"
    assert (rows[1]["actor"], rows[1]["actor_email"]) == (hr.pk, hr.email)
    assert rows[0]["actor"] is None  # built by the factory, no actor


def test_retrieve_and_list_share_the_shape(admin, existing):
    one = admin.get(detail(existing)).json()
    listed = next(r for r in admin.get(f"{URL}?search=EXISTING").json()["results"] if r["code"] == "EXISTING")
    assert one == listed
    assert set(one) >= SPEC_FIELDS


# --- evaluate --------------------------------------------------------------------------------------------


def _tables() -> tuple:
    return (
        BusinessRule.objects.count(),
        BusinessRuleVersion.objects.count(),
        Assignment.objects.count(),
        AssignmentTransitionLog.objects.count(),
        EmployeeTransitionLog.objects.count(),
        list(Employee.objects.values_list("pk", "state")),
        list(Assignment.objects.values_list("pk", "state", "weekly_hours", "end_date")),
        list(BusinessRule.objects.values_list("pk", "version")),
    )


def test_evaluate_reports_every_result_and_writes_nothing(admin, employee, make_assignment):
    BusinessRuleFactory(code="HOURS", params={"max_hours": 25})
    BusinessRuleFactory(code="REASON", rule_type="reason_required", params={"min_length": 5}, severity="warn")
    BusinessRuleFactory(code="STATE", rule_type="employee_state", params={"states": ["active"]})
    assignment = make_assignment(employee, state="proposed", hours=20)
    before = _tables()
    body = {"event": "assignment.approve", "assignment": assignment.pk, "weekly_hours": "30", "reason": "ok"}
    with CaptureQueriesContext(connection) as ctx:
        response = admin.post(EVALUATE_URL, body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == {"event", "allowed", "decision", "rule_results"}
    assert (data["event"], data["allowed"], data["decision"]) == ("assignment.approve", False, "rule_violation")
    outcomes = {r["rule"]: (r["outcome"], r["severity"]) for r in data["rule_results"]}
    assert outcomes == {"HOURS": ("fail", "block"), "REASON": ("fail", "warn"), "STATE": ("pass", "block")}
    hours = next(r for r in data["rule_results"] if r["rule"] == "HOURS")
    assert (hours["observed"], hours["threshold"]["max_hours"], hours["version"]) == (30.0, 25.0, 1)
    assert _tables() == before
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


def test_evaluate_warnings_only_is_allowed(admin, employee):
    BusinessRuleFactory(code="REASON", rule_type="reason_required", params={}, severity="warn")
    data = admin.post(EVALUATE_URL, {"event": "assignment.approve", "employee": employee.pk}, format="json").json()
    assert (data["allowed"], data["decision"]) == (True, "warnings_not_acknowledged")
    data = admin.post(
        EVALUATE_URL, {"event": "assignment.approve", "employee": employee.pk, "reason": "why"}, format="json"
    ).json()
    assert (data["allowed"], data["decision"]) == (True, None)


def test_evaluate_hypothetical_assignment_from_fields(admin, employee, make_assignment):
    make_assignment(employee, state="active", hours=30, start=D(2026, 1, 5))
    BusinessRuleFactory(
        code="CAP", rule_type="max_weekly_hours", params={"max_hours": 40}, events=["assignment.create"]
    )
    body = {
        "event": "assignment.create",
        "employee": employee.pk,
        "position": PositionFactory().pk,
        "start_date": "2026-03-02",
        "end_date": None,
        "weekly_hours": "10.01",
    }
    result = admin.post(EVALUATE_URL, body, format="json").json()["rule_results"][0]
    assert (result["outcome"], result["observed"]) == ("fail", 40.01)
    body["weekly_hours"] = "10"
    assert admin.post(EVALUATE_URL, body, format="json").json()["allowed"] is True


def test_evaluate_assignment_create_checks_validity_on_the_start_date(admin, employee):
    BusinessRuleFactory(
        code="FROM_2030", rule_type="reason_required", params={}, events=["assignment.create"], valid_from=D(2030, 1, 1)
    )
    body = {"event": "assignment.create", "employee": employee.pk, "start_date": "2030-01-01", "weekly_hours": "8"}
    assert [r["rule"] for r in admin.post(EVALUATE_URL, body, format="json").json()["rule_results"]] == ["FROM_2030"]
    body["start_date"] = "2029-12-31"
    assert admin.post(EVALUATE_URL, body, format="json").json()["rule_results"] == []
    body.update(start_date="2026-03-02", effective_date="2030-06-01")
    assert len(admin.post(EVALUATE_URL, body, format="json").json()["rule_results"]) == 1


def test_evaluate_clock_in(admin, employee):
    BusinessRuleFactory(code="ONCE", rule_type="single_clock_in_per_day", params={}, events=["clock.in"])
    body = {"event": "clock.in", "employee": employee.pk, "clock_ins_today": 1}
    data = admin.post(EVALUATE_URL, body, format="json").json()
    assert (data["allowed"], data["rule_results"][0]["observed"]) == (False, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "event"),
        ({"event": "assignment.aprove"}, "event"),
        ({"event": ["assignment.approve"]}, "event"),
        ({"event": "assignment.approve", "employee": 999999}, "employee"),
        ({"event": "assignment.approve", "employee": "abc"}, "employee"),
        ({"event": "assignment.approve", "position": 999999}, "position"),
        ({"event": "assignment.approve", "assignment": 999999}, "assignment"),
        ({"event": "assignment.approve", "start_date": "2026-03-02", "end_date": "2026-03-01"}, "end_date"),
        ({"event": "assignment.approve", "end_date": "2026-03-01"}, "start_date"),
        ({"event": "assignment.approve", "start_date": "tomorrow"}, "start_date"),
        ({"event": "assignment.approve", "weekly_hours": "forty"}, "weekly_hours"),
        ({"event": "assignment.approve", "weekly_hours": -1}, "weekly_hours"),
        ({"event": "assignment.approve", "weekly_hours": 169}, "weekly_hours"),
        ({"event": "assignment.approve", "effective_date": "2026-13-01"}, "effective_date"),
        ({"event": "clock.in", "clock_ins_today": -1}, "clock_ins_today"),
    ],
)
def test_evaluate_bad_input_is_400_naming_the_field(admin, db, body, field):
    error = assert_fields(admin.post(EVALUATE_URL, body, format="json"), 400, "validation_error", field)
    if body.get("event") == "assignment.aprove":
        assert "assignment.approve" in error["details"]["event"][0]  # lists the known names


def test_evaluate_end_before_the_assignments_start_is_400(admin, employee, make_assignment):
    assignment = make_assignment(employee, start=D(2026, 3, 2))
    body = {"event": "assignment.approve", "assignment": assignment.pk, "end_date": "2026-03-01"}
    assert_fields(admin.post(EVALUATE_URL, body, format="json"), 400, "validation_error", "end_date")


def test_evaluate_manager_only_within_their_subtree(client_for, tree, make_assignment):
    inside = EmployeeFactory(org_unit=tree["east"])
    outside = EmployeeFactory(org_unit=tree["west"])
    mine = make_assignment(inside, position=tree["p_east"])
    theirs = make_assignment(outside, position=tree["p_west"])
    manager = client_for("manager", org_unit=tree["root"])

    def post(**body):
        return manager.post(EVALUATE_URL, {"event": "assignment.approve", **body}, format="json")

    assert post(employee=inside.pk, position=tree["p_east"].pk).status_code == 200
    assert post(assignment=mine.pk).status_code == 200
    assert_fields(post(employee=outside.pk), 400, "validation_error", "employee")
    assert_fields(post(position=tree["p_west"].pk), 400, "validation_error", "position")
    assert_fields(post(assignment=theirs.pk), 400, "validation_error", "assignment")
    unplaced = client_for("manager")
    response = unplaced.post(EVALUATE_URL, {"event": "assignment.approve", "employee": inside.pk}, format="json")
    assert_fields(response, 400, "validation_error", "employee")


def test_evaluate_auditor_sees_everything_and_writes_nothing(client_for, employee):
    BusinessRuleFactory(code="STATE", rule_type="employee_state", params={"states": ["pending"]})
    before = _tables()
    response = client_for("auditor").post(
        EVALUATE_URL, {"event": "assignment.approve", "employee": employee.pk}, format="json"
    )
    assert response.json()["allowed"] is False
    assert _tables() == before


def test_evaluate_only_answers_post(admin):
    assert_error(admin.get(EVALUATE_URL), 405, "method_not_allowed")
