"""CORS for the SPA (credentials, allowed origins only) and the Content-Security-Policy header."""

from contextlib import nullcontext

import pytest
from csp.exceptions import CSPNonceError

ALLOWED = "https://app.coveris.test"


@pytest.fixture(autouse=True)
def _cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def _preflight(client, origin: str, path: str = "/api/auth/login/"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-csrftoken",
    )


def test_preflight_from_an_allowed_origin(client):
    response = _preflight(client, ALLOWED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "x-csrftoken" in allowed_headers
    assert "content-type" in allowed_headers


def test_preflight_from_another_origin_gets_no_cors_headers(client):
    response = _preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_actual_response_exposes_request_id_to_the_spa(client):
    response = client.get("/healthz", HTTP_ORIGIN=ALLOWED)
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "retry-after"} <= exposed


@pytest.mark.django_db
def test_cors_headers_survive_an_api_error(client):
    response = client.get("/api/auth/me/", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.django_db
@pytest.mark.urls("backend.tests.urls")
def test_cors_headers_survive_a_django_error_converted_to_json(client):
    # APIErrorMiddleware replaces the response; it must sit inside CorsMiddleware so the new one gets the headers.
    response = client.get("/api/test/plain/missing/", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "Content-Security-Policy" in response


def test_no_cors_outside_the_api(client):
    response = _preflight(client, ALLOWED, path="/admin/login/")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/api/auth/me/", "/api/no-such-thing/"])
def test_content_security_policy_header(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in policy.split(";")}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"


def _headers(response) -> dict:
    return {
        name: response[name]
        for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
        if response.has_header(name)
    }


@pytest.mark.parametrize("nonce", [False, True])
@pytest.mark.parametrize(
    ("report_only", "per_view"),
    [
        (None, None),
        ({"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}, None),
        (None, {"_csp_update": {"img-src": ["https://img.coveris.test"]}}),
        (None, {"_csp_exempt": True}),
        ({"EXCLUDE_URL_PREFIXES": ["/api/"], "DIRECTIVES": {"default-src": ["'none'"]}}, {"_csp_exempt_ro": False}),
    ],
)
def test_content_security_policy_headers_are_django_csps(settings, rf, report_only, per_view, nonce):
    """ContentSecurityPolicyMiddleware (the settings' policy built once) sets exactly the headers django-csp's own
    middleware sets: with and without a nonce asked for, a report-only policy, a per-view change or exemption."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    from backend.middleware import ContentSecurityPolicyMiddleware

    if report_only is not None:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = report_only
    answers = []
    for middleware_class in (CSPMiddleware, ContentSecurityPolicyMiddleware, ContentSecurityPolicyMiddleware):
        response = HttpResponse("{}", content_type="application/json")
        for name, value in (per_view or {}).items():
            setattr(response, name, value)
        middleware = middleware_class(lambda request, response=response: response)
        request = rf.get("/api/employees/")
        middleware.process_request(request)
        if nonce:
            str(request.csp_nonce)
        response = middleware.process_response(request, response)
        headers = _headers(response)
        if nonce:  # a fresh nonce per request: compare the rest
            headers = {name: value.replace(request._csp_nonce, "<nonce>") for name, value in headers.items()}
            assert "<nonce>" in headers.get("Content-Security-Policy", "<nonce> (exempt)")
        answers.append(headers)
        with nullcontext() if nonce else pytest.raises(CSPNonceError):  # too late to ask for one
            str(request.csp_nonce)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0] or (per_view or {}).get("_csp_exempt")
