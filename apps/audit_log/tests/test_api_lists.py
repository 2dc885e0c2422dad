"""The audit lists and details: shape, time order, every filter, bad filter values, and query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.tests.conftest import EMPLOYEE_TRANSITIONS_URL, TAG_CHANGES_URL, assert_error
from apps.tags.models import TagCatalog
from backend.audit.chain import row_hash

PAGE_KEYS = {"count", "total_pages", "page", "page_size", "next", "previous", "results"}


@pytest.fixture
def reader(auth_client):
    return auth_client("auditor")[0]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def iso(value: datetime.datetime) -> str:
    return value.isoformat()


# --- employee transitions -----------------------------------------------------------------------


@pytest.fixture
def history(employee, transition, make_user):
    """Two employees; the first goes activate → start_leave → return_from_leave → terminate, the second activates."""
    other_actor = make_user("admin")
    rows = [
        transition(employee, "activate", request_id="req-1"),
        transition(employee, "start_leave"),
        transition(employee, "return_from_leave", actor=other_actor),
        transition(employee, "terminate", request_id="req-4"),
    ]
    other = EmployeeFactory()
    rows.append(transition(other, "activate"))
    return {"employee": employee, "other": other, "rows": rows, "other_actor": other_actor}


def test_employee_transition_list_is_paginated_and_in_time_order(reader, history):
    response = reader.get(EMPLOYEE_TRANSITIONS_URL)
    body = response.json()
    assert set(body) == PAGE_KEYS
    assert body["count"] == 5
    assert ids(response) == [row.pk for row in history["rows"]]
    created = [row["created_at"] for row in body["results"]]
    assert created == sorted(created)


def test_employee_transition_list_newest_first_on_request(reader, history):
    response = reader.get(EMPLOYEE_TRANSITIONS_URL, {"ordering": "-created_at"})
    assert ids(response) == [row.pk for row in reversed(history["rows"])]


def test_employee_transition_row_carries_every_log_field(reader, history):
    row = history["rows"][2]
    body = reader.get(f"{EMPLOYEE_TRANSITIONS_URL}{row.pk}/").json()
    assert body["id"] == row.pk
    assert body["employee"] == history["employee"].pk
    assert body["transition"] == "return_from_leave"
    assert (body["source"], body["target"]) == ("on_leave", "active")
    assert body["actor"] == history["other_actor"].pk
    assert body["actor_email"] == history["other_actor"].email
    assert body["hash"] == row.hash == row_hash(row)
    assert body["prev_hash"] == history["rows"][1].hash
    for key in ("created_at", "reason", "effective_date", "rule_results", "override_reason", "request_id"):
        assert key in body


@pytest.mark.parametrize("pk", ["999999", "abc", "0"])
def test_unknown_employee_transition_is_404(reader, history, pk):
    assert_error(reader.get(f"{EMPLOYEE_TRANSITIONS_URL}{pk}/"), 404, "not_found")


def test_filter_by_employee(reader, history):
    rows = history["rows"]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"employee": history["employee"].pk})) == [r.pk for r in rows[:4]]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"employee": history["other"].pk})) == [rows[4].pk]


def test_filter_by_actor(reader, history):
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"actor": history["other_actor"].pk})) == [history["rows"][2].pk]


def test_filter_by_transition(reader, history):
    rows = history["rows"]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"transition": "activate"})) == [rows[0].pk, rows[4].pk]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"transition": "terminate"})) == [rows[3].pk]


def test_filter_by_source_and_target_state(reader, history):
    rows = history["rows"]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"source": "pending"})) == [rows[0].pk, rows[4].pk]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"target": "active"})) == [rows[0].pk, rows[2].pk, rows[4].pk]
    both = {"source": "active", "target": "on_leave"}
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, both)) == [rows[1].pk]


def test_filter_by_time_range_is_inclusive(reader, history):
    rows = history["rows"]
    since, until = rows[1].created_at, rows[3].created_at
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"since": iso(since)})) == [r.pk for r in rows[1:]]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"until": iso(until)})) == [r.pk for r in rows[:4]]
    window = {"since": iso(since), "until": iso(until)}
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, window)) == [r.pk for r in rows[1:4]]
    same = {"since": iso(since), "until": iso(since)}
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, same)) == [rows[1].pk]


def test_time_filters_read_offsets_and_treat_naive_as_utc(reader, history):
    rows = history["rows"]
    moment = rows[2].created_at.astimezone(datetime.UTC)
    in_paris_summer = moment.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    naive_utc = moment.replace(tzinfo=None)
    expected = [r.pk for r in rows[2:]]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"since": iso(in_paris_summer)})) == expected
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"since": iso(naive_utc)})) == expected
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"since": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})) == expected


def test_naive_time_filters_are_utc_whatever_the_server_time_zone(reader, history, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    rows = history["rows"]
    naive_utc = rows[2].created_at.astimezone(datetime.UTC).replace(tzinfo=None)
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"since": iso(naive_utc)})) == [r.pk for r in rows[2:]]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"until": iso(naive_utc)})) == [r.pk for r in rows[:3]]


def test_filter_by_request_id(reader, history):
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"request_id": "req-4"})) == [history["rows"][3].pk]
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, {"request_id": "req-none"})) == []


def test_filters_combine(reader, history):
    query = {"employee": history["employee"].pk, "target": "active", "actor": history["other_actor"].pk}
    assert ids(reader.get(EMPLOYEE_TRANSITIONS_URL, query)) == [history["rows"][2].pk]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("employee", "abc"),
        ("employee", "999999"),
        ("employee", "99999999999999999999999"),
        ("actor", "nobody"),
        ("actor", "999999"),
        ("transition", "fly_away"),
        ("source", "retired"),
        ("target", "ACTIVE"),
        ("since", "yesterday"),
        ("since", "2026-13-01T00:00:00Z"),
        ("until", "2026-02-30T10:00:00"),
        ("until", "9999-12-31T23:59:59-14:00"),
        ("since", "0001-01-01T00:00:00+01:00"),
    ],
)
def test_bad_filter_values_are_400_naming_the_filter(reader, history, param, value):
    error = assert_error(reader.get(EMPLOYEE_TRANSITIONS_URL, {param: value}), 400, "validation_error")
    assert param in error["details"]


def test_since_after_until_is_400(reader, history):
    rows = history["rows"]
    query = {"since": iso(rows[3].created_at), "until": iso(rows[1].created_at)}
    error = assert_error(reader.get(EMPLOYEE_TRANSITIONS_URL, query), 400, "validation_error")
    assert "until" in error["details"]


def test_unknown_ordering_falls_back_to_time_order(reader, history):
    response = reader.get(EMPLOYEE_TRANSITIONS_URL, {"ordering": "reason"})
    assert ids(response) == [row.pk for row in history["rows"]]


# --- tag changes ---------------------------------------------------------------------------------


@pytest.fixture
def tag_history(employee, position, tag, tag_change, make_user):
    other_tag = TagCatalog.objects.create(code="french", name="French", category="language")
    other_actor = make_user("hr")
    rows = [
        tag_change(employee=employee, target_id=10, action="add", request_id="req-a"),
        tag_change(employee=employee, target_id=10, action="change", before={"level": 1}, after={"level": 2}),
        tag_change(position=position, target_id=20, action="add", tag=other_tag, actor=other_actor),
        tag_change(employee=employee, target_id=11, action="remove", tag=other_tag, after=None),
    ]
    return {"rows": rows, "employee": employee, "position": position, "tag": tag, "other_tag": other_tag,
            "other_actor": other_actor}  # fmt: skip


def test_tag_change_list_is_in_time_order_with_fields(reader, tag_history):
    response = reader.get(TAG_CHANGES_URL)
    assert set(response.json()) == PAGE_KEYS
    assert ids(response) == [row.pk for row in tag_history["rows"]]
    second = response.json()["results"][1]
    assert second == {
        "id": tag_history["rows"][1].pk,
        "action": "change",
        "target_type": "employee",
        "target_id": 10,
        "employee": tag_history["employee"].pk,
        "position": None,
        "tag": tag_history["tag"].pk,
        "tag_code": "forklift",
        "before": {"level": 1},
        "after": {"level": 2},
        "actor": tag_history["rows"][1].actor_id,
        "actor_email": tag_history["rows"][1].actor_email,
        "created_at": second["created_at"],
        "request_id": "",
    }


def test_tag_change_detail_and_404(reader, tag_history):
    row = tag_history["rows"][2]
    body = reader.get(f"{TAG_CHANGES_URL}{row.pk}/").json()
    assert (body["id"], body["position"], body["tag_code"]) == (row.pk, tag_history["position"].pk, "french")
    assert_error(reader.get(f"{TAG_CHANGES_URL}999999/"), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (lambda h: {"employee": h["employee"].pk}, [0, 1, 3]),
        (lambda h: {"position": h["position"].pk}, [2]),
        (lambda h: {"tag": h["other_tag"].pk}, [2, 3]),
        (lambda h: {"action": "add"}, [0, 2]),
        (lambda h: {"action": "remove"}, [3]),
        (lambda h: {"target_type": "position"}, [2]),
        (lambda h: {"target_id": 10}, [0, 1]),
        (lambda h: {"actor": h["other_actor"].pk}, [2]),
        (lambda h: {"request_id": "req-a"}, [0]),
        (lambda h: {"since": iso(h["rows"][1].created_at), "until": iso(h["rows"][2].created_at)}, [1, 2]),
        (lambda h: {"employee": h["employee"].pk, "tag": h["tag"].pk, "action": "change"}, [1]),
    ],
)
def test_tag_change_filters_narrow(reader, tag_history, query, expected):
    rows = tag_history["rows"]
    assert ids(reader.get(TAG_CHANGES_URL, query(tag_history))) == [rows[i].pk for i in expected]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("employee", "999999"),
        ("position", "x"),
        ("tag", "999999"),
        ("action", "delete"),
        ("target_type", "team"),
        ("target_id", "1.5"),
        ("target_id", "-3"),
        ("actor", "0"),
        ("since", "not-a-date"),
    ],
)
def test_bad_tag_change_filter_values_are_400(reader, tag_history, param, value):
    error = assert_error(reader.get(TAG_CHANGES_URL, {param: value}), 400, "validation_error")
    assert param in error["details"]


def test_tag_change_since_after_until_is_400(reader, tag_history):
    rows = tag_history["rows"]
    query = {"since": iso(rows[2].created_at), "until": iso(rows[0].created_at)}
    assert "until" in assert_error(reader.get(TAG_CHANGES_URL, query), 400, "validation_error")["details"]


# --- query counts ---------------------------------------------------------------------------------


def _count_queries(client, url, query=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("filtered", [False, True])
def test_employee_transition_list_query_count_does_not_grow(reader, transition, hr_user, filtered):
    query = {"actor": hr_user.pk, "transition": "activate", "since": "2000-01-01T00:00:00Z"} if filtered else {}
    transition(EmployeeFactory(), "activate")
    one = _count_queries(reader, EMPLOYEE_TRANSITIONS_URL, query)
    for _ in range(24):
        transition(EmployeeFactory(), "activate")
    assert len(reader.get(EMPLOYEE_TRANSITIONS_URL, query).json()["results"]) == 25
    many = _count_queries(reader, EMPLOYEE_TRANSITIONS_URL, query)
    assert many == one
    assert many <= 4  # user, count, page (+ one lookup for the actor filter)


def test_tag_change_list_query_count_does_not_grow(reader, tag_change, make_user):
    tag_change()
    one = _count_queries(reader, TAG_CHANGES_URL)
    tags = [TagCatalog.objects.create(code=f"t{i}", name=f"T{i}") for i in range(5)]
    actors = [make_user("hr") for _ in range(3)]
    for i in range(24):
        tag_change(tag=tags[i % 5], actor=actors[i % 3])
    assert reader.get(TAG_CHANGES_URL).json()["count"] == 25
    many = _count_queries(reader, TAG_CHANGES_URL)
    assert many == one
    assert many <= 3  # user, count, page with its tags joined


def test_a_date_only_until_includes_that_whole_day(auth_client, employee, transition):
    log = transition(employee, "activate")
    day = log.created_at.date().isoformat()
    client, _ = auth_client("auditor")
    body = client.get(EMPLOYEE_TRANSITIONS_URL, {"since": day, "until": day}).json()
    assert [row["id"] for row in body["results"]] == [log.pk]
