"""GET /api/schema/: a public OpenAPI 3 document that describes the cookie and bearer auth schemes."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_schema_is_openapi_3_and_public(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Coveris API"
    assert "/api/auth/login/" in schema["paths"]


def test_schema_as_json_with_format_query(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_schema_defaults_to_yaml(api_client):
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3.")


def test_security_schemes_describe_cookie_and_bearer(schema):
    schemes = schema["components"]["securitySchemes"]
    cookie = schemes["cookieJWT"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == ("apiKey", "cookie", "coveris_access")
    assert settings.AUTH_COOKIE_ACCESS == "coveris_access"
    assert schemes["bearerJWT"]["type"] == "http"
    assert schemes["bearerJWT"]["scheme"] == "bearer"
    assert schemes["bearerJWT"]["bearerFormat"] == "JWT"


def test_protected_operation_accepts_either_scheme(schema):
    me = schema["paths"]["/api/auth/me/"]["get"]
    assert {"cookieJWT": []} in me["security"]
    assert {"bearerJWT": []} in me["security"]


def test_schema_ignores_a_stale_token(api_client):
    response = api_client.get("/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION="Bearer stale")
    assert response.status_code == 200


@pytest.mark.urls("backend.tests.urls")
def test_paginated_list_schema_matches_the_body_pagination_returns(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"]["/api/test/users/"]["get"]["parameters"]}
    assert {"page", "page_size"} <= parameters
    page = schema["components"]["schemas"]["PaginatedUserRowList"]
    assert set(page["properties"]) == {"count", "total_pages", "page", "page_size", "next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True
