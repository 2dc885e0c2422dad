"""X-Request-ID: taken from the request when sane, else generated; on every response and on log records."""

import logging
import re

import pytest

from backend.logging import RequestIDFilter
from backend.request_context import get_request_id
from backend.tests.utils import assert_error

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_generated_when_absent(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert HEX32.fullmatch(first)
    assert HEX32.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("sent", ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace:1.2_3", "x" * 128])
def test_echoed_when_sane(client, sent):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "semi;colon", "<script>", "caf\u00e9", "trailing-newline\n", "two\nlines", ""],
    ids=["too-long", "space", "semicolon", "markup", "non-ascii", "trailing-newline", "newline", "empty"],
)
def test_replaced_when_insane(client, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert response.status_code == 200
    assert HEX32.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.urls("backend.tests.urls")
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/no-such-thing/", 404, "not_found"),
        ("/api/test/users/", 401, "not_authenticated"),
        ("/api/test/errors/crash/", 500, "server_error"),
        ("/api/test/plain/crash/", 500, "server_error"),
    ],
)
def test_present_on_error_responses(client, path, status, code):
    client.raise_request_exception = False
    response = client.get(path, HTTP_X_REQUEST_ID="req-42")
    assert_error(response, status, code)
    assert response["X-Request-ID"] == "req-42"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIDFilter())

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db
@pytest.mark.urls("backend.tests.urls")
def test_log_records_written_during_a_request_carry_its_id(client):
    handler = _Collect()
    errors = logging.getLogger("coveris.errors")
    old_level = errors.level
    errors.addHandler(handler)
    errors.setLevel(logging.INFO)
    try:
        response = client.get("/api/test/errors/crash/", HTTP_X_REQUEST_ID="req-log-1")
    finally:
        errors.removeHandler(handler)
        errors.setLevel(old_level)
    assert response.status_code == 500
    assert handler.records, "the crash must be logged"
    assert {record.request_id for record in handler.records} == {"req-log-1"}
    assert handler.records[0].exc_info is not None, "the traceback goes to the logs, not the body"


def test_filter_outside_a_request_marks_the_record_with_a_dash():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert RequestIDFilter().filter(record) is True
    assert record.request_id == "-"


def test_request_id_is_cleared_after_the_request(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="req-done")
    assert get_request_id() == "-"


def test_django_request_warnings_carry_the_request_id():
    """django.request logs 4xx after the middleware has reset the context; the filter reads the request."""
    import logging

    from django.test import RequestFactory

    from backend.logging import RequestIDFilter

    request = RequestFactory().get("/api/nowhere/")
    request.request_id = "abc123"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found", None, None)
    record.request = request
    assert RequestIDFilter().filter(record) is True
    assert record.request_id == "abc123"
