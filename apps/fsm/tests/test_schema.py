"""The OpenAPI schema of ``{id}/transitions/``: a plain array of options on GET, the SPEC body on POST, per model."""

import pytest
from rest_framework.test import APIClient

SUBJECTS = {"/api/employees/{id}/transitions/": "employee", "/api/assignments/{id}/transitions/": "assignment"}
LIST_PARAMETERS = {"page", "page_size", "state", "search", "tag", "ordering", "org_unit", "employee", "position"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _ok(schema: dict, operation: dict) -> dict:
    return _resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])


@pytest.mark.parametrize("path", list(SUBJECTS))
def test_get_transitions_is_a_plain_array_of_options_without_list_parameters(schema, path):
    get = schema["paths"][path]["get"]
    assert [(p["in"], p["name"]) for p in get["parameters"]] == [("path", "id")]
    assert not LIST_PARAMETERS & {p["name"] for p in get["parameters"]}
    body = _ok(schema, get)
    assert body["type"] == "array"  # not {"count", "next", "previous", "results"}
    option = _resolve(schema, body["items"])
    assert {"name", "target", "allowed", "rule_results", "blocked_by", "needs"} <= set(option["properties"])


@pytest.mark.parametrize(("path", "subject"), list(SUBJECTS.items()))
def test_post_transitions_documents_the_performed_and_the_dry_run_bodies(schema, path, subject):
    post = schema["paths"][path]["post"]
    # The id, and the reason header every write may carry (the transition's own reason is the body's ``reason``).
    assert sorted((p["in"], p["name"]) for p in post["parameters"]) == [("header", "X-Change-Reason"), ("path", "id")]
    request = _resolve(schema, post["requestBody"]["content"]["application/json"]["schema"])
    assert {"transition", "reason", "effective_date", "acknowledge_warnings", "override_reason", "dry_run"} <= set(
        request["properties"]
    )
    bodies = [_resolve(schema, variant) for variant in _ok(schema, post)["oneOf"]]
    performed = next(b for b in bodies if subject in b["properties"])
    assert {subject, "log_entry", "rule_results", "cascaded"} <= set(performed["properties"])
    model = subject.capitalize()
    assert performed["properties"][subject] == {"$ref": f"#/components/schemas/{model}"}  # the model, not a page
    assert subject in _resolve(schema, performed["properties"]["log_entry"])["properties"]
    dry_run = next(b for b in bodies if "dry_run" in b["properties"])
    assert {"dry_run", "allowed", "transition", "current_state", "target", "blocked_by", "rule_results"} <= set(
        dry_run["properties"]
    )
