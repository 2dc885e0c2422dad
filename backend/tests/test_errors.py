"""Every error under /api/ has one shape, {"error": {"code", "message", "details"}}, and bad input is never a 500."""

import json

import pytest

from backend.tests.utils import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("backend.tests.urls")]

ECHO = "/api/test/echo/"
USERS = "/api/test/users/"


# --- 400 ---------------------------------------------------------------------------------------------


def test_validation_error_names_each_field(api_client):
    response = api_client.post(ECHO, {"count": 0}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["details"]) == {"name", "count"}
    assert error["details"]["name"] == ["This field is required."]
    assert error["details"]["count"] == ["Ensure this value is greater than or equal to 1."]


def test_validation_error_for_a_body_that_is_not_an_object(api_client):
    response = api_client.post(ECHO, [1, 2], format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["details"]) == ["non_field_errors"]


def test_valid_input_passes(api_client):
    response = api_client.post(ECHO, {"name": "x", "count": 2}, format="json")
    assert response.status_code == 200
    assert response.json() == {"name": "x", "count": 2}


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "x", ',
        b"not json at all",
        b'{"name": NaN}',
        b"\xff\xfe\x00{",
        b"[" * 50_000,
        b'{"count": ' + b"9" * 5000 + b"}",
    ],
    ids=["truncated", "garbage", "nan", "bad-utf8", "deeply-nested", "huge-int"],
)
def test_malformed_json_is_parse_error(api_client, body):
    response = api_client.generic("POST", ECHO, body, content_type="application/json")
    assert_error(response, 400, "validation_error")


def test_body_over_the_upload_limit_is_400_not_500(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post(ECHO, {"name": "x", "count": 1, "pad": "y" * 2000}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert error["message"] == "The request body is too large."


def test_django_validation_error_in_a_view_is_validation_error(api_client):
    error = assert_error(api_client.get("/api/test/errors/django-validation/"), 400, "validation_error")
    assert error["details"] == {"start": ["Start must be before end."]}


def test_django_bad_request_in_a_drf_view_is_bad_request(api_client):
    error = assert_error(api_client.get("/api/test/errors/django-bad-request/"), 400, "validation_error")
    assert error["message"] == "The week must be an ISO week like 2025-W07."


def test_suspicious_operation_in_a_drf_view_is_400_without_its_message(api_client):
    response = api_client.get("/api/test/errors/suspicious/")
    assert_error(response, 400, "validation_error")
    assert b"/etc/passwd" not in response.content


def test_nul_character_in_a_search_is_400_not_a_database_error(auth_client):
    client, _ = auth_client("admin")
    assert_error(client.get(USERS, {"search": "a\x00b"}), 400, "validation_error")


# --- 415 / 406 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("name=x&count=2", "application/x-www-form-urlencoded"),
        ("name x", "text/plain"),
        ("<a>x</a>", "application/xml"),
    ],
)
def test_other_content_types_are_unsupported_media_type(api_client, body, content_type):
    response = api_client.generic("POST", ECHO, body, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_multipart_form_is_unsupported_media_type(api_client):
    response = api_client.post(ECHO, {"name": "x", "count": 2}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")


def test_unacceptable_accept_header_is_406_in_the_error_shape(api_client):
    response = api_client.get("/api/test/errors/none/", HTTP_ACCEPT="application/xml")
    assert_error(response, 406, "not_acceptable")


# --- 401 / 403 -----------------------------------------------------------------------------------------


def test_anonymous_is_not_authenticated(api_client):
    response = api_client.get(USERS)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_bearer_token_is_token_invalid(api_client):
    response = api_client.get(USERS, HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_error(response, 401, "token_invalid")


@pytest.mark.parametrize("role", ["employee", ""])
def test_role_without_read_access_is_permission_denied(auth_client, role):
    client, _ = auth_client(role)
    assert_error(client.get(USERS), 403, "permission_denied")


def test_django_csrf_refusal_under_api_is_csrf_failed():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/api/test/plain/post-only/")
    error = assert_error(response, 403, "csrf_failed")
    assert error["message"].startswith("CSRF check failed")


def test_django_permission_denied_in_a_drf_view_is_permission_denied(api_client):
    assert_error(api_client.get("/api/test/errors/django-denied/"), 403, "permission_denied")


# --- 404 -------------------------------------------------------------------------------------------------


@pytest.mark.urls("config.urls")
@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/api/no-such-thing", "/api/auth/nope/"])
def test_unknown_api_url_is_json_not_found(api_client, path):
    response = api_client.get(path)
    error = assert_error(response, 404, "not_found")
    assert path in error["message"]
    assert b"<html" not in response.content.lower()


@pytest.mark.urls("config.urls")
def test_unknown_url_outside_api_keeps_django_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_drf_not_found_and_http404(api_client):
    assert_error(api_client.get("/api/test/errors/not-found/"), 404, "not_found")
    assert_error(api_client.get("/api/test/errors/http404/"), 404, "not_found")


def test_missing_object_in_a_viewset_is_not_found(auth_client):
    client, user = auth_client("admin")
    assert client.get(f"{USERS}{user.pk}/").status_code == 200
    assert_error(client.get(f"{USERS}{user.pk + 1000}/"), 404, "not_found")


# --- 405 -------------------------------------------------------------------------------------------------


def test_drf_method_not_allowed_has_allow_header(auth_client):
    client, _ = auth_client("admin")
    response = client.delete(USERS)
    assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_django_method_not_allowed_under_api_is_json_with_allow(client):
    response = client.get("/api/test/plain/post-only/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


# --- 409 / 422 -------------------------------------------------------------------------------------------


def test_integrity_error_is_conflict(api_client):
    from apps.users.models import User

    error = assert_error(api_client.get("/api/test/errors/integrity/"), 409, "conflict")
    assert error["details"] is None
    assert "twin" not in json.dumps(error), "constraint internals stay in the logs"
    assert not User.objects.filter(email="twin@coveris.test").exists()


def test_conflict_error_keeps_message_and_details(api_client):
    error = assert_error(api_client.get("/api/test/errors/conflict/"), 409, "conflict")
    assert error["message"] == "Position is already filled."
    assert error["details"] == {"position": 7}


def test_rule_violation_is_422_with_the_violations(api_client):
    error = assert_error(api_client.get("/api/test/errors/rule/"), 422, "rule_violation")
    assert error["message"] == "The change breaks one or more business rules."
    assert error["details"] == [{"rule": "max_hours", "message": "Over 40 hours a week."}]


# --- 429 -------------------------------------------------------------------------------------------------


def test_throttled_has_retry_after(api_client):
    for _ in range(2):
        assert api_client.get("/api/test/throttled/").status_code == 200
    response = api_client.get("/api/test/throttled/")
    error = assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert error["details"] == {"retry_after_seconds": retry_after}


# --- 400 / 403 / 500 from plain Django views under /api/ ------------------------------------------------


def test_plain_django_view_raising_http404_stays_404(client):
    assert_error(client.get("/api/test/plain/missing/"), 404, "not_found")


def test_plain_django_view_raising_permission_denied_stays_403(client):
    assert_error(client.get("/api/test/plain/denied/"), 403, "permission_denied")


def test_plain_django_view_raising_suspicious_operation_is_400(client):
    client.raise_request_exception = False
    assert_error(client.get("/api/test/plain/suspicious/"), 400, "validation_error")


def test_bad_host_under_api_is_json_400(client):
    # DisallowedHost is raised in CommonMiddleware, outside APIErrorMiddleware: only handler400 can shape it.
    assert_error(client.get("/api/test/users/", HTTP_HOST="evil.example"), 400, "validation_error")


@pytest.mark.urls("config.urls")
def test_bad_host_under_api_is_json_400_with_the_real_urlconf(client):
    assert_error(client.get("/api/auth/me/", HTTP_HOST="evil.example"), 400, "validation_error")


def test_throttled_without_a_known_wait_has_no_retry_after(api_client):
    response = api_client.get("/api/test/errors/throttled-no-wait/")
    error = assert_error(response, 429, "throttled")
    assert error["details"] == {"retry_after_seconds": None}
    assert "Retry-After" not in response


def test_error_rendered_by_a_non_json_renderer_keeps_its_code_and_headers(api_client):
    response = api_client.get("/api/test/yaml-error/")
    error = assert_error(response, 429, "throttled")
    assert error["details"] == {"retry_after_seconds": 30}
    assert response["Retry-After"] == "30"


# --- 500 -------------------------------------------------------------------------------------------------


def test_drf_view_crash_is_server_error_without_internals(api_client):
    response = api_client.get("/api/test/errors/crash/")
    error = assert_error(response, 500, "server_error")
    assert error["details"] is None
    assert b"secret internal detail" not in response.content
    assert b"RuntimeError" not in response.content


def test_plain_django_view_crash_under_api_is_json_server_error(client):
    client.raise_request_exception = False
    response = client.get("/api/test/plain/crash/")
    assert_error(response, 500, "server_error")
    assert b"secret internal detail" not in response.content
    assert b"RuntimeError" not in response.content


# --- the Django-level handlers themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        ("handler400", 400, "validation_error"),
        ("handler403", 403, "permission_denied"),
        ("handler404", 404, "not_found"),
    ],
)
def test_error_handlers_speak_json_under_api_and_html_elsewhere(rf, handler, status, code):
    from backend import views

    view = getattr(views, handler)
    assert_error(view(rf.get("/api/anything/"), Exception("x")), status, code)
    outside = view(rf.get("/anything/"), Exception("x"))
    assert outside.status_code == status
    assert outside["Content-Type"].startswith("text/html")


def test_handler500_speaks_json_under_api_and_html_elsewhere(rf):
    from backend.views import handler500

    assert_error(handler500(rf.get("/api/anything/")), 500, "server_error")
    assert handler500(rf.get("/anything/"))["Content-Type"].startswith("text/html")


@pytest.mark.urls("config.urls")
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_request_without_trailing_slash_is_a_json_404_naming_the_path(auth_client, method, settings):
    settings.DEBUG = True  # where Django would otherwise raise RuntimeError (APPEND_SLASH with a body)
    client, _ = auth_client("hr")
    response = getattr(client, method)("/api/employees", {}, format="json")
    error = assert_error(response, 404, "not_found")
    assert "/api/employees/" in error["message"]


@pytest.mark.urls("config.urls")
def test_get_without_trailing_slash_is_still_redirected(auth_client):
    client, _ = auth_client("hr")
    response = client.get("/api/employees")
    assert response.status_code == 301
    assert response["Location"].endswith("/api/employees/")
