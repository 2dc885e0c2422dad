"""GET /api/audit/employees/{id}/state-at/?at= and the selector behind it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.selectors import BeforeCreationError, employee_state_at
from apps.audit_log.tests.conftest import assert_error, state_at_url

SEQUENCE = ["activate", "start_leave", "return_from_leave", "suspend", "reinstate", "terminate", "rehire"]
TARGETS = ["active", "on_leave", "active", "suspended", "active", "terminated", "pending"]


@pytest.fixture
def reader(auth_client):
    return auth_client("hr")[0]


@pytest.fixture
def lifecycle(employee, transition):
    """The employee's whole lifecycle, one log row per transition, timestamps strictly increasing."""
    rows = [transition(employee, name) for name in SEQUENCE]
    times = [employee.created_at] + [row.created_at for row in rows]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    return rows


def midpoint(a: datetime.datetime, b: datetime.datetime) -> datetime.datetime:
    return a + (b - a) / 2


def state_at(client, employee_id, at):
    value = at.isoformat() if isinstance(at, datetime.datetime) else at
    return client.get(state_at_url(employee_id), {} if at is None else {"at": value})


def test_state_at_each_transition_moment_is_its_target(reader, employee, lifecycle):
    for row, target in zip(lifecycle, TARGETS, strict=True):
        body = state_at(reader, employee.pk, row.created_at).json()
        assert body["state"] == target, row.transition
        assert body["log_entry"] == row.pk
        assert body["employee"] == employee.pk
        assert datetime.datetime.fromisoformat(body["since"]) == row.created_at
        assert datetime.datetime.fromisoformat(body["at"]) == row.created_at


def test_state_between_transitions_is_the_earlier_target(reader, employee, lifecycle):
    for earlier, later, target in zip(lifecycle, lifecycle[1:], TARGETS, strict=False):
        body = state_at(reader, employee.pk, midpoint(earlier.created_at, later.created_at)).json()
        assert (body["state"], body["log_entry"]) == (target, earlier.pk)
        assert datetime.datetime.fromisoformat(body["since"]) == earlier.created_at


def test_state_just_before_a_transition_is_not_yet_its_target(reader, employee, lifecycle):
    suspend = lifecycle[3]
    body = state_at(reader, employee.pk, suspend.created_at - datetime.timedelta(microseconds=1)).json()
    assert (body["state"], body["log_entry"]) == ("active", lifecycle[2].pk)


def test_state_after_the_last_transition_is_the_current_state(reader, employee, lifecycle):
    employee.refresh_from_db()
    body = state_at(reader, employee.pk, timezone.now()).json()
    assert body["state"] == employee.state == "pending"
    assert body["log_entry"] == lifecycle[-1].pk


def test_state_before_the_first_transition_is_the_initial_state(reader, employee, lifecycle):
    for at in (employee.created_at, midpoint(employee.created_at, lifecycle[0].created_at)):
        body = state_at(reader, employee.pk, at).json()
        assert body == {"employee": employee.pk, "at": body["at"], "state": "pending", "since": None, "log_entry": None}


def test_state_before_the_first_transition_is_not_the_current_state(reader, employee, transition):
    """An employee activated since: before that row they were pending, though they are active now."""
    row = transition(employee, "activate")
    body = state_at(reader, employee.pk, midpoint(employee.created_at, row.created_at)).json()
    assert (body["state"], body["since"], body["log_entry"]) == ("pending", None, None)
    assert state_at(reader, employee.pk, row.created_at).json()["state"] == "active"


def test_naive_at_is_utc_whatever_the_server_time_zone(reader, employee, lifecycle, settings):
    settings.TIME_ZONE = "America/New_York"
    moment = lifecycle[1].created_at.astimezone(datetime.UTC)
    body = state_at(reader, employee.pk, moment.replace(tzinfo=None).isoformat()).json()
    assert (body["state"], body["log_entry"]) == ("on_leave", lifecycle[1].pk)


def test_state_of_an_employee_without_transitions_is_their_current_state(reader, employee):
    body = state_at(reader, employee.pk, timezone.now()).json()
    assert (body["state"], body["since"], body["log_entry"]) == ("pending", None, None)


def test_other_employees_rows_do_not_leak(reader, employee, transition, lifecycle):
    other = EmployeeFactory()
    row = transition(other, "activate")
    assert state_at(reader, employee.pk, row.created_at).json()["log_entry"] == lifecycle[-1].pk
    assert state_at(reader, other.pk, row.created_at).json()["state"] == "active"


def test_before_the_employee_existed_is_400_naming_at(reader, employee, lifecycle):
    too_early = employee.created_at - datetime.timedelta(seconds=1)
    error = assert_error(state_at(reader, employee.pk, too_early), 400, "validation_error")
    assert "at" in error["details"]
    assert "did not exist" in error["details"]["at"][0]


def test_future_at_is_400_naming_at(reader, employee, lifecycle):
    error = assert_error(
        state_at(reader, employee.pk, timezone.now() + datetime.timedelta(minutes=5)), 400, "validation_error"
    )
    assert "at" in error["details"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T12:00:00Z",
        "2026-01-01T25:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",
        "1771234567",
    ],
)
def test_missing_malformed_or_out_of_range_at_is_400_naming_at(reader, employee, value):
    error = assert_error(state_at(reader, employee.pk, value), 400, "validation_error")
    assert list(error["details"]) == ["at"]


def test_naive_at_is_read_as_utc_and_offsets_are_honoured(reader, employee, lifecycle):
    moment = midpoint(lifecycle[3].created_at, lifecycle[4].created_at).astimezone(datetime.UTC)
    naive = moment.replace(tzinfo=None).isoformat()
    tokyo = moment.astimezone(datetime.timezone(datetime.timedelta(hours=9))).isoformat()
    for value in (naive, tokyo, moment.isoformat()):
        body = state_at(reader, employee.pk, value).json()
        assert (body["state"], body["log_entry"]) == ("suspended", lifecycle[3].pk), value
        assert datetime.datetime.fromisoformat(body["at"]) == moment


def test_a_naive_value_that_is_really_local_time_is_not_guessed(reader, employee, lifecycle):
    """A naive ``at`` is UTC, so 'the same wall clock time in Tokyo' answers for nine hours later in UTC."""
    moment = lifecycle[0].created_at.astimezone(datetime.timezone(datetime.timedelta(hours=-9)))
    body = state_at(reader, employee.pk, moment.replace(tzinfo=None).isoformat())
    assert_error(body, 400, "validation_error")  # nine hours before the employee existed


@pytest.mark.parametrize("pk", [999999, 0])
def test_unknown_employee_is_404(reader, pk):
    assert_error(state_at(reader, pk, timezone.now()), 404, "not_found")


def test_non_numeric_employee_is_404(reader):
    response = reader.get("/api/audit/employees/abc/state-at/", {"at": timezone.now().isoformat()})
    assert response.status_code == 404


def test_state_at_query_count_does_not_depend_on_history_length(reader, employee, lifecycle):
    with CaptureQueriesContext(connection) as ctx:
        assert state_at(reader, employee.pk, lifecycle[0].created_at).status_code == 200
    assert len(ctx.captured_queries) <= 3  # user, employee, last row


# --- the selector, directly -------------------------------------------------------------------------


def test_selector_walks_the_sequence(employee, lifecycle):
    for row, target in zip(lifecycle, TARGETS, strict=True):
        result = employee_state_at(employee=employee, at=row.created_at)
        assert (result.state, result.since, result.log_entry) == (target, row.created_at, row)


def test_selector_refuses_a_moment_before_creation(employee):
    with pytest.raises(BeforeCreationError):
        employee_state_at(employee=employee, at=employee.created_at - datetime.timedelta(microseconds=1))
