"""The schema documents every error an operation gives (SPEC §3, ADR 0010), and real error bodies match it.

Each test provokes a real error through the API, then checks that the schema lists that status for that operation
and that the body validates against the documented schema (openapi-schema-validator, OpenAPI 3.0 semantics).
"""

import pytest
from openapi_schema_validator import OAS30Validator, validate
from rest_framework.test import APIClient

from apps.api.tests.factories import EmployeeFactory
from apps.business_rules.tests.factories import BusinessRuleFactory
from backend.schema import ERROR_CODES

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def documented(schema: dict, path: str, method: str, response) -> dict:
    """Assert that ``response`` is documented for the operation and validates against it; returns the error."""
    operation = schema["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method} {path} answered {status} but documents only {sorted(operation['responses'])}"
    )
    body_schema = operation["responses"][status]["content"]["application/json"]["schema"]
    body = response.json()
    validate(body, {**body_schema, "components": schema["components"]}, cls=OAS30Validator, check_schema=False)
    code = body["error"]["code"]
    assert code in ERROR_CODES
    assert ERROR_CODES[code] == response.status_code
    assert code in operation["responses"][status]["description"]
    return body["error"]


def test_the_error_component_lists_every_code(schema):
    components = schema["components"]["schemas"]
    assert components["ErrorCode"]["enum"] == list(ERROR_CODES)
    envelope = components["Error"]["properties"]["error"]
    assert envelope["required"] == ["code", "message", "details"]
    assert envelope["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    violation = components["RuleViolationError"]["properties"]["error"]["properties"]
    assert violation["details"] == {"$ref": "#/components/schemas/RuleViolationDetails"}
    violations = components["RuleViolationDetails"]["properties"]["violations"]
    assert violations["items"] == {"$ref": "#/components/schemas/RuleResult"}
    assert "remediation" in components["RuleResult"]["required"]
    not_allowed = components["TransitionNotAllowedDetails"]
    assert set(not_allowed["required"]) == {"current_state", "allowed_transitions"}


def test_every_operation_documents_an_error(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not any(status >= "400" for status in operation["responses"])
    ]
    assert missing == []


def test_errors_are_derived_not_pasted(schema):
    """Each operation's list follows from its view: a public GET has no 401/403, a list has 400 and 404 (pages)."""
    paths = schema["paths"]
    assert set(paths["/api/auth/csrf/"]["get"]["responses"]) == {"200", "503"}  # not throttled (ADR 0020)
    employees = paths["/api/employees/"]
    assert {"400", "401", "403", "404", "429", "503"} <= set(employees["get"]["responses"])
    assert "409" not in employees["get"]["responses"]
    assert "422" not in employees["get"]["responses"]
    assert "400" not in paths["/api/employees/{id}/"]["get"]["responses"]  # no query parameters, no body
    assert "409" in paths["/api/employees/{id}/"]["delete"]["responses"]  # still referred to: protected
    transition = paths["/api/employees/{id}/transitions/"]
    assert {"409", "422"} <= set(transition["post"]["responses"])
    assert not {"409", "422"} & set(transition["get"]["responses"])
    assert "401" in paths["/api/auth/login/"]["post"]["responses"]  # declared: wrong credentials
    assert "403" not in paths["/api/auth/login/"]["post"]["responses"]
    retry_after = paths["/api/employees/"]["get"]["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["schema"]["type"] == "integer"


def test_a_transition_refused_by_state_is_documented(schema, auth_client):
    client, _ = auth_client("hr")
    employee = EmployeeFactory(state="pending")
    response = client.post(f"/api/employees/{employee.pk}/transitions/", {"transition": "reinstate"}, format="json")
    assert response.status_code == 409
    error = documented(schema, "/api/employees/{id}/transitions/", "POST", response)
    assert error["code"] == "transition_not_allowed"
    assert error["details"]["current_state"] == "pending"


def test_a_rule_violation_is_documented_with_its_remediation(schema, auth_client):
    BusinessRuleFactory(code="WHY", rule_type="reason_required", params={"min_length": 5}, events=["employee.activate"])
    client, _ = auth_client("hr")
    employee = EmployeeFactory(state="pending")
    response = client.post(f"/api/employees/{employee.pk}/transitions/", {"transition": "activate"}, format="json")
    assert response.status_code == 422
    error = documented(schema, "/api/employees/{id}/transitions/", "POST", response)
    assert error["details"]["violations"][0]["rule"] == "WHY"
    assert error["details"]["violations"][0]["remediation"] == "Say why in 'reason'."


def test_validation_errors_are_documented(schema, auth_client):
    client, _ = auth_client("hr")
    response = client.post("/api/employees/", {"email": "not an email"}, format="json")
    assert response.status_code == 400
    error = documented(schema, "/api/employees/", "POST", response)
    assert error["details"]["email"]
    bad_filter = client.get("/api/employees/", {"hire_date_after": "yesterday"})
    assert bad_filter.status_code == 400
    documented(schema, "/api/employees/", "GET", bad_filter)


def test_auth_errors_are_documented(schema, api_client, auth_client, csrf_client):
    documented(schema, "/api/employees/", "GET", api_client.get("/api/employees/"))
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    documented(schema, "/api/auth/me/", "GET", stale.get("/api/auth/me/"))
    wrong = api_client.post("/api/auth/login/", {"email": "nobody@coveris.test", "password": "x"}, format="json")
    assert wrong.status_code == 401
    documented(schema, "/api/auth/login/", "POST", wrong)
    employee_client, _ = auth_client("employee")
    forbidden = employee_client.post("/api/org-units/", {"code": "X", "name": "X"}, format="json")
    assert forbidden.status_code == 403
    documented(schema, "/api/org-units/", "POST", forbidden)


def test_not_found_conflict_and_media_type_are_documented(schema, auth_client):
    client, _ = auth_client("admin")
    documented(schema, "/api/employees/{id}/", "GET", client.get("/api/employees/999999/"))
    documented(schema, "/api/employees/", "GET", client.get("/api/employees/", {"page": 999}))
    employee = EmployeeFactory()
    conflict = client.delete(f"/api/org-units/{employee.org_unit_id}/")
    assert conflict.status_code == 409
    documented(schema, "/api/org-units/{id}/", "DELETE", conflict)
    not_json = client.post("/api/org-units/", "code=X", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415
    documented(schema, "/api/org-units/", "POST", not_json)


def test_throttled_is_documented(schema, api_client):
    for _ in range(5):  # 5 failures/hour per (email, client): the sign-in policy, ADR 0021
        api_client.post("/api/auth/login/", {"email": "guess@coveris.test", "password": "x"}, format="json")
    response = api_client.post("/api/auth/login/", {"email": "guess@coveris.test", "password": "x"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    error = documented(schema, "/api/auth/login/", "POST", response)
    assert error["details"]["retry_after_seconds"] == int(response["Retry-After"])


def _error_classes(base):
    for cls in base.__subclasses__():
        yield cls
        yield from _error_classes(cls)


def test_one_exception_class_per_error_code_and_each_code_is_in_the_schema():
    from backend.errors import CoverisError
    from backend.exceptions import STATUS_CODES

    classes = list(_error_classes(CoverisError))
    assert len(classes) >= 11
    for cls in classes:
        assert cls.code in ERROR_CODES, cls
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), "two exception classes for one error code"
    assert set(STATUS_CODES.values()) <= set(ERROR_CODES)


# --- X-Change-Reason: documented on every write, read on writes only ------------------------------------------------


def test_every_write_documents_the_change_reason_header_and_its_400(schema):
    writes = reads = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                writes += 1
                assert "X-Change-Reason" in headers, (method, path)
                assert "400" in operation["responses"], (method, path)
            else:
                reads += 1
                assert "X-Change-Reason" not in headers, (method, path)
    assert writes
    assert reads


def test_a_read_ignores_the_change_reason_header(api_client):
    response = api_client.get("/api/auth/csrf/", HTTP_X_CHANGE_REASON="%FF%FE not utf-8")
    assert response.status_code == 200, response.content


def test_an_unusable_change_reason_on_a_write_is_the_documented_400(schema, api_client):
    response = api_client.post("/api/auth/login/", {}, format="json", HTTP_X_CHANGE_REASON="line%00break")
    error = documented(schema, "/api/auth/login/", "POST", response)
    assert error["code"] == "validation_error"
    assert "X-Change-Reason" in error["details"]
