"""/api/coverage-requirements/: CRUD, validation, filters, manager scope, query counts."""

import pytest

from apps.api.tests.factories import PositionFactory
from apps.demand.models import CoverageRequirement
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.demand.tests.factories import CoverageRequirementFactory

URL = "/api/coverage-requirements/"


def _body(target, **overrides) -> dict:
    return {
        "position": target.pk,
        "valid_from": "2026-04-01",
        "valid_to": "2026-06-30",
        "required_headcount": 3,
        "required_weekly_hours": "112.50",
        "priority": 1,
        "notes": "spring peak",
        **overrides,
    }


def test_create_read_update_delete(auth_client, position_in):
    client, _ = auth_client("hr")
    created = client.post(URL, _body(position_in), format="json")
    assert created.status_code == 201, created.content
    row = created.json()
    assert row["position_code"] == "IN"
    assert row["org_unit"] == position_in.org_unit_id
    assert (row["required_headcount"], row["required_weekly_hours"], row["priority"]) == (3, "112.50", 1)
    url = f"{URL}{row['id']}/"
    assert client.get(url).json()["notes"] == "spring peak"
    patched = client.patch(url, {"valid_to": None, "priority": 5}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["valid_to"], patched.json()["priority"]) == (None, 5)
    assert client.delete(url).status_code == 204
    assert not CoverageRequirement.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_to": "2026-03-31"}, "valid_to"),  # before valid_from
        ({"valid_from": "not a date"}, "valid_from"),
        ({"required_headcount": -1}, "required_headcount"),
        ({"required_headcount": 1.5}, "required_headcount"),
        ({"required_weekly_hours": "-0.01"}, "required_weekly_hours"),
        ({"required_weekly_hours": "abc"}, "required_weekly_hours"),
        ({"required_weekly_hours": "1.234"}, "required_weekly_hours"),
        ({"priority": 0}, "priority"),
        ({"priority": 6}, "priority"),
        ({"position": 999999}, "position"),
        ({"position": "x"}, "position"),
        ({"position": None}, "position"),
    ],
)
def test_validation_names_the_field(auth_client, position_in, overrides, field):
    client, _ = auth_client("admin")
    assert_error(client.post(URL, _body(position_in, **overrides), format="json"), 400, "validation_error", field)
    assert not CoverageRequirement.objects.exists()


def test_a_patch_is_checked_against_the_stored_dates(auth_client, position_in):
    requirement = CoverageRequirementFactory(position=position_in, valid_from=D(2026, 4, 1), valid_to=D(2026, 4, 30))
    client, _ = auth_client("hr")
    response = client.patch(f"{URL}{requirement.pk}/", {"valid_from": "2026-05-01"}, format="json")
    assert_error(response, 400, "validation_error", "valid_to")
    requirement.refresh_from_db()
    assert requirement.valid_from == D(2026, 4, 1)


def test_zero_headcount_and_hours_are_allowed(auth_client, position_in):
    client, _ = auth_client("hr")
    body = _body(position_in, required_headcount=0, required_weekly_hours="0")
    assert client.post(URL, body, format="json").status_code == 201


def _ids(client, query="") -> set[int]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_filters(tree, auth_client):
    dept_pos = PositionFactory(org_unit=tree.dept)
    team_pos = PositionFactory(org_unit=tree.team)
    other_pos = PositionFactory(org_unit=tree.other)
    spring = CoverageRequirementFactory(
        position=dept_pos, valid_from=D(2026, 3, 1), valid_to=D(2026, 5, 31), priority=1
    )
    open_ended = CoverageRequirementFactory(position=team_pos, valid_from=D(2026, 4, 1), priority=2)
    summer = CoverageRequirementFactory(position=other_pos, valid_from=D(2026, 6, 1), valid_to=D(2026, 8, 31))
    client, _ = auth_client("auditor")
    assert _ids(client) == {spring.pk, open_ended.pk, summer.pk}
    assert _ids(client, f"position={team_pos.pk}") == {open_ended.pk}
    assert _ids(client, f"org_unit={tree.dept.pk}") == {spring.pk, open_ended.pk}  # DEPT and TEAM below it
    assert _ids(client, f"org_unit={tree.root.pk}") == {spring.pk, open_ended.pk, summer.pk}
    assert _ids(client, "active_on=2026-03-15") == {spring.pk}
    assert _ids(client, "active_on=2026-05-31") == {spring.pk, open_ended.pk}  # both ends inclusive
    assert _ids(client, "active_on=2026-07-01") == {open_ended.pk, summer.pk}
    assert _ids(client, "priority=1&priority=2") == {spring.pk, open_ended.pk}
    assert _ids(client, "priority=3") == {summer.pk}
    assert _ids(client, "search=" + other_pos.code) == {summer.pk}
    ordered = [r["id"] for r in client.get(f"{URL}?ordering=-valid_from").json()["results"]]
    assert ordered == [summer.pk, open_ended.pk, spring.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("position=abc", "position"),
        ("position=99999999999999999999999", "position"),
        ("org_unit=999999", "org_unit"),
        ("active_on=2026-02-30", "active_on"),
        ("priority=9", "priority"),
    ],
)
def test_bad_filters_are_a_400(tree, auth_client, query, field):
    client, _ = auth_client("hr")
    assert_error(client.get(f"{URL}?{query}"), 400, "validation_error", field)


def test_manager_reads_their_subtree_only(tree, client_for, position_in, position_out):
    inside = CoverageRequirementFactory(position=position_in)
    outside = CoverageRequirementFactory(position=position_out)
    client = client_for("manager")
    assert _ids(client) == {inside.pk}
    assert client.get(f"{URL}{inside.pk}/").status_code == 200
    assert_error(client.get(f"{URL}{outside.pk}/"), 404, "not_found")


def test_query_count_does_not_grow_with_rows(tree, client_for):
    client = client_for("manager")
    CoverageRequirementFactory(position=PositionFactory(org_unit=tree.team))
    one, _ = count_queries(client, f"{URL}?org_unit={tree.dept.pk}&active_on=2026-03-02")
    for _ in range(24):
        CoverageRequirementFactory(position=PositionFactory(org_unit=tree.team))
    many, response = count_queries(client, f"{URL}?org_unit={tree.dept.pk}&active_on=2026-03-02")
    assert response.json()["count"] == 25
    assert one == many
    assert many <= 5  # user, manager's unit, org_unit filter lookup, COUNT, page
