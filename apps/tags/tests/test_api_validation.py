"""Bad input to the tag endpoints: a 400 in the error shape naming the field, never a 500, nothing written."""

import pytest

from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from apps.tags.tests.conftest import assert_error
from apps.tags.tests.factories import TagCatalogFactory


@pytest.fixture
def hr_client(auth_client):
    return auth_client("hr")[0]


def _employee_body(world, **overrides):
    return {"employee": world.emp_in.pk, "tag": "sql", "level": 2, "valid_from": "2026-03-01", **overrides}


@pytest.fixture
def sql(db):
    return TagCatalogFactory(code="sql", name="SQL")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_from": "2026-03-01", "valid_until": "2026-02-28"}, "valid_until"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"valid_until": "2026-02-30"}, "valid_until"),
        ({"valid_from": 20260301}, "valid_from"),
        ({"tag": 999999}, "tag"),
        ({"tag": "no-such-tag"}, "tag"),
        ({"tag": 10**30}, "tag"),
        ({"tag": None}, "tag"),
        ({"employee": 999999}, "employee"),
        ({"employee": 10**30}, "employee"),
        ({"employee": "abc"}, "employee"),
        ({"level": 0}, "level"),
        ({"level": 11}, "level"),
        ({"level": -1}, "level"),
        ({"level": 1.5}, "level"),
        ({"level": "high"}, "level"),
        ({"level": True}, "level"),
    ],
)
def test_employee_tag_create_bad_input(overrides, field, world, sql, hr_client):
    response = hr_client.post("/api/employee-tags/", _employee_body(world, **overrides), format="json")
    assert_error(response, 400, "validation_error", field)
    assert not EmployeeTag.objects.filter(tag=sql).exists()
    assert not TagChangeLog.objects.exists()


def test_employee_tag_create_missing_fields(world, hr_client):
    response = hr_client.post("/api/employee-tags/", {}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert {"employee", "tag"} <= set(error["details"])


def test_employee_tag_create_accepts_tag_code_and_logs_the_request_id(world, sql, auth_client):
    client, hr = auth_client("hr")
    response = client.post(
        "/api/employee-tags/", _employee_body(world, valid_until=None), format="json", HTTP_X_REQUEST_ID="req-abc"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["tag"], body["tag_code"], body["level"], body["valid_until"]) == (sql.pk, "sql", 2, None)
    row = TagChangeLog.objects.get()
    assert (row.action, row.target_id, row.actor, row.request_id) == ("add", body["id"], hr, "req-abc")


def test_employee_tag_duplicate_is_400_naming_the_fields(world, hr_client):
    body = {"employee": world.emp_in.pk, "tag": world.tag.pk, "valid_from": "2026-01-01"}  # et_in's start
    response = hr_client.post("/api/employee-tags/", body, format="json")
    error = assert_error(response, 400, "validation_error", "tag")
    assert "(employee, tag, valid_from)" in error["details"]["tag"][0]
    assert not TagChangeLog.objects.exists()


def test_inactive_tag_cannot_be_assigned(world, hr_client):
    TagCatalogFactory(code="cobol", is_active=False)
    response = hr_client.post("/api/employee-tags/", _employee_body(world, tag="cobol"), format="json")
    error = assert_error(response, 400, "validation_error", "tag")
    assert "inactive" in error["details"]["tag"][0]


def test_employee_tag_patch_checks_against_the_stored_values(world, hr_client):
    # et_in starts 2026-01-01: an end before that is refused even though the request only sends valid_until.
    response = hr_client.patch(f"/api/employee-tags/{world.et_in.pk}/", {"valid_until": "2025-12-31"}, format="json")
    assert_error(response, 400, "validation_error", "valid_until")
    world.et_in.refresh_from_db()
    assert world.et_in.valid_until is None
    assert not TagChangeLog.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("employee", "emp_out"), ("tag", "sql")])
def test_employee_tag_identity_cannot_change(field, value, world, sql, hr_client):
    new = world.emp_out.pk if value == "emp_out" else sql.pk
    response = hr_client.patch(f"/api/employee-tags/{world.et_in.pk}/", {field: new}, format="json")
    assert_error(response, 400, "validation_error", field)
    assert not TagChangeLog.objects.exists()


def test_employee_tag_patch_noop_writes_no_log_row(world, hr_client):
    response = hr_client.patch(f"/api/employee-tags/{world.et_in.pk}/", {"level": 3}, format="json")
    assert response.status_code == 200, response.content
    assert not TagChangeLog.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_level": 0}, "min_level"),
        ({"min_level": 11}, "min_level"),
        ({"required": "perhaps"}, "required"),
        ({"position": 999999}, "position"),
        ({"tag": "nope"}, "tag"),
    ],
)
def test_position_tag_create_bad_input(overrides, field, world, sql, hr_client):
    body = {"position": world.pos_in.pk, "tag": sql.pk, "min_level": 2, **overrides}
    response = hr_client.post("/api/position-tags/", body, format="json")
    assert_error(response, 400, "validation_error", field)
    assert not PositionTag.objects.filter(tag=sql).exists()
    assert not TagChangeLog.objects.exists()


def test_position_tag_duplicate_is_400_naming_the_fields(world, hr_client):
    response = hr_client.post(
        "/api/position-tags/", {"position": world.pos_in.pk, "tag": world.tag.code}, format="json"
    )
    error = assert_error(response, 400, "validation_error", "tag")
    assert "(position, tag)" in error["details"]["tag"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "python", "name": "Again"}, "code"),
        ({"code": "", "name": "Blank"}, "code"),
        ({"code": "x" * 65, "name": "Long"}, "code"),
        ({"code": "hobby", "name": "Hobby", "category": "hobby"}, "category"),
        ({"code": "nameless"}, "name"),
    ],
)
def test_tag_catalog_bad_input(body, field, world, hr_client):
    response = hr_client.post("/api/tags/", body, format="json")
    assert_error(response, 400, "validation_error", field)
    assert TagCatalog.objects.count() == 1


def test_tag_catalog_rename_to_an_existing_code_is_400(world, hr_client):
    other = TagCatalogFactory(code="sql")
    response = hr_client.patch(f"/api/tags/{other.pk}/", {"code": "python"}, format="json")
    assert_error(response, 400, "validation_error", "code")


def test_deleting_a_used_catalogue_tag_is_a_conflict(world, hr_client):
    response = hr_client.delete(f"/api/tags/{world.tag.pk}/")
    error = assert_error(response, 409, "conflict")
    assert "deactivate" in error["message"]
    assert TagCatalog.objects.filter(pk=world.tag.pk).exists()


def test_malformed_json_is_a_400(world, hr_client):
    response = hr_client.generic("POST", "/api/employee-tags/", "{not json", content_type="application/json")
    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize(
    ("endpoint", "query", "field"),
    [
        ("employee-tags", "valid_on=2026-02-30", "valid_on"),
        ("employee-tags", "valid_on=soon", "valid_on"),
        ("employee-tags", "level_gte=abc", "level_gte"),
        ("employee-tags", "tag=no-such-tag", "tag"),
        ("employee-tags", "tag=%C2%B3", "tag"),
        ("employee-tags", "tag=999999", "tag"),
        ("employee-tags", "tag=99999999999999999999999", "tag"),
        ("employee-tags", "employee=abc", "employee"),
        ("employee-tags", "employee=1.5", "employee"),
        ("employee-tags", "employee=99999999999999999999999", "employee"),
        ("employee-tags", "category=hobby", "category"),
        ("position-tags", "position=x", "position"),
        ("position-tags", "tag=nope", "tag"),
        ("tags", "category=hobby", "category"),
        ("tags", "is_active=maybe", "is_active"),
    ],
)
def test_bad_filter_values_are_400(endpoint, query, field, world, hr_client):
    response = hr_client.get(f"/api/{endpoint}/?{query}")
    assert_error(response, 400, "validation_error", field)
