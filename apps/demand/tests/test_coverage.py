"""The coverage report and org-unit roll-up against hand-computed numbers (docs/coverage.md)."""

from decimal import Decimal

import pytest

from apps.api.tests.factories import PositionFactory
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.demand.tests.factories import CoverageRequirementFactory

URL = "/api/coverage/"
ROLLUP_URL = "/api/coverage/org-units/"
RANGE = "from=2026-03-02&to=2026-03-22"  # three ISO weeks: Mar 2, Mar 9, Mar 16
W1, W2, W3 = "2026-03-02", "2026-03-09", "2026-03-16"


def _h(value: float) -> str:
    """Hours as the API writes them: a decimal string to the cent."""
    return f"{value:.2f}"


def _row(hc_req, hc_asg, h_req, h_asg, gap, ratio, status) -> dict:
    return {
        "required_headcount": hc_req,
        "assigned_headcount": hc_asg,
        "required_hours": _h(h_req),
        "assigned_hours": _h(h_asg),
        "gap_hours": _h(gap),
        "coverage_ratio": ratio,
        "status": status,
    }


EXPECTED = {
    # P week 1: the requirement covers Wed–Sun = 5/7 of 70 h = 50 h; e1 gives 40 h.
    ("P", W1): _row(2, 1, 50.0, 40.0, 10.0, 0.8, "under"),
    # P week 2: 70 h required; e1 40 h + e2 from Wednesday (5/7 of 35 h = 25 h).
    ("P", W2): _row(2, 2, 70.0, 65.0, 5.0, 0.9286, "under"),
    # P week 3: e2 ends Tuesday (2/7 of 35 h = 10 h).
    ("P", W3): _row(2, 2, 70.0, 50.0, 20.0, 0.7143, "under"),
    # Q: 30 h against 20 h required: a surplus, so the gap is negative.
    ("Q", W1): _row(1, 1, 20.0, 30.0, -10.0, 1.5, "over"),
    # Q week 2: nothing required (ratio null), someone assigned: over.
    ("Q", W2): _row(0, 1, 0.0, 30.0, -30.0, None, "over"),
    ("Q", W3): _row(0, 0, 0.0, 0.0, 0.0, None, "met"),
    ("R", W1): _row(0, 0, 0.0, 0.0, 0.0, None, "met"),
    ("R", W2): _row(0, 0, 0.0, 0.0, 0.0, None, "met"),
    ("R", W3): _row(0, 0, 0.0, 0.0, 0.0, None, "met"),
    # S week 1: the completed assignment covered it exactly.
    ("S", W1): _row(1, 1, 40.0, 40.0, 0.0, 1.0, "met"),
    ("S", W2): _row(1, 1, 40.0, 20.0, 20.0, 0.5, "under"),
    ("S", W3): _row(1, 1, 40.0, 20.0, 20.0, 0.5, "under"),
}


def _by_key(rows, key="position_code") -> dict:
    return {(row[key], row["week"]): {k: row[k] for k in _row(0, 0, 0, 0, 0, 0, 0)} for row in rows}


def test_coverage_matches_the_hand_computed_scenario(scenario, auth_client):
    client, _ = auth_client("hr")
    response = client.get(f"{URL}?{RANGE}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 4  # paginated by position
    rows = body["results"]
    assert [(r["position_code"], r["week"]) for r in rows] == list(EXPECTED)  # by code, then week
    assert _by_key(rows) == EXPECTED
    assert {r["position"] for r in rows} == {scenario.p.pk, scenario.q.pk, scenario.r.pk, scenario.s.pk}


def test_coverage_rows_have_the_names_the_front_end_relies_on(scenario, auth_client):
    client, _ = auth_client("admin")
    row = client.get(f"{URL}?{RANGE}").json()["results"][0]
    expected = {"position", "week", "required_headcount", "assigned_headcount", "required_hours", "assigned_hours"}
    assert expected | {"gap_hours", "coverage_ratio", "status"} <= set(row)


def test_weeks_are_whole_iso_weeks_touching_the_range(scenario, auth_client):
    client, _ = auth_client("hr")
    # Thursday Mar 5 to Tuesday Mar 10 touches the weeks of Mar 2 and Mar 9, each computed whole.
    rows = client.get(f"{URL}?from=2026-03-05&to=2026-03-10&position={scenario.p.pk}").json()["results"]
    assert [r["week"] for r in rows] == [W1, W2]
    assert rows[0]["required_hours"] == "50.00"
    assert rows[1]["assigned_hours"] == "65.00"


def test_filters_position_and_org_unit_subtree(scenario, tree, auth_client):
    client, _ = auth_client("auditor")
    codes = lambda url: sorted({r["position_code"] for r in client.get(url).json()["results"]})  # noqa: E731
    assert codes(f"{URL}?{RANGE}&org_unit={tree.dept.pk}") == ["P", "Q", "R"]  # TEAM is inside DEPT
    assert codes(f"{URL}?{RANGE}&org_unit={tree.team.pk}") == ["R"]
    assert codes(f"{URL}?{RANGE}&position={scenario.s.pk}") == ["S"]
    assert codes(f"{URL}?{RANGE}&org_unit={tree.elsewhere.pk}") == []
    assert codes(f"{URL}?{RANGE}&org_unit={tree.dept.pk}&position={scenario.p.pk}") == ["P"]
    assert codes(f"{URL}?{RANGE}&org_unit={tree.dept.pk}&position={scenario.s.pk}") == []  # both filters apply


def test_inactive_positions_show_only_while_they_have_demand_or_people(tree, auth_client):
    idle = PositionFactory(code="IDLE", org_unit=tree.dept, is_active=False)
    retiring = PositionFactory(code="RETIRING", org_unit=tree.dept, is_active=False)
    CoverageRequirementFactory(position=retiring, valid_from=D(2026, 3, 2), valid_to=D(2026, 3, 8))
    client, _ = auth_client("hr")
    codes = {r["position_code"] for r in client.get(f"{URL}?{RANGE}").json()["results"]}
    assert "RETIRING" in codes
    assert "IDLE" not in codes
    assert client.get(f"{URL}?{RANGE}&position={idle.pk}").json()["count"] == 1  # asked for by id: shown


def test_pagination_is_by_position(scenario, auth_client):
    client, _ = auth_client("hr")
    body = client.get(f"{URL}?{RANGE}&page_size=2&page=2").json()
    assert (body["count"], body["total_pages"], body["page"]) == (4, 2, 2)
    assert [(r["position_code"], r["week"]) for r in body["results"]] == list(EXPECTED)[6:]


def test_headcount_overlapping_requirements_add_up_and_hours_prorate(tree, make_employee, make_assignment, auth_client):
    p = PositionFactory(code="P2", org_unit=tree.dept)
    # Two requirements overlap in week 1: 2 + 1 people; 40 h for the whole week + 14 h from Saturday (2/7 × 49).
    CoverageRequirementFactory(position=p, valid_from=D(2026, 3, 2), valid_to=D(2026, 3, 8), required_headcount=2)
    CoverageRequirementFactory(
        position=p, valid_from=D(2026, 3, 7), valid_to=D(2026, 3, 8), required_headcount=1, required_weekly_hours=49
    )
    one = make_employee(tree.dept)
    # The same employee twice in one week counts once; hours add up: Mon–Wed of 21 h = 9 h, Thu–Sun of 28 h = 16 h.
    make_assignment(one, p, hours=21, start=D(2026, 3, 2), end=D(2026, 3, 4))
    make_assignment(one, p, hours=28, start=D(2026, 3, 5), end=D(2026, 3, 8))
    client, _ = auth_client("hr")
    (row,) = client.get(f"{URL}?from=2026-03-02&to=2026-03-08&position={p.pk}").json()["results"]
    assert _by_key([row])[("P2", W1)] == _row(3, 1, 54.0, 25.0, 29.0, 0.463, "under")


def test_status_compares_hours_and_headcount(tree, make_employee, make_assignment, auth_client):
    many, few = PositionFactory(code="MANY", org_unit=tree.dept), PositionFactory(code="FEW", org_unit=tree.dept)
    CoverageRequirementFactory(position=many, required_headcount=1, required_weekly_hours=40)
    CoverageRequirementFactory(position=few, required_headcount=2, required_weekly_hours=40)
    for _ in range(2):
        make_assignment(make_employee(tree.dept), many, hours=20)
    make_assignment(make_employee(tree.dept), few, hours=40)
    client, _ = auth_client("hr")
    rows = _by_key(client.get(f"{URL}?from=2026-03-02&to=2026-03-08").json()["results"])
    # Hours met, more people than asked for: over. Hours met, fewer people: under.
    assert (rows[("MANY", W1)]["status"], rows[("MANY", W1)]["gap_hours"]) == ("over", "0.00")
    assert (rows[("FEW", W1)]["status"], rows[("FEW", W1)]["coverage_ratio"]) == ("under", 1.0)
    # The roll-up counts FEW as under too, though no hours are missing anywhere.
    dept = client.get(f"{ROLLUP_URL}?from=2026-03-02&to=2026-03-08&org_unit={tree.dept.pk}").json()["results"][0]
    assert (dept["org_unit_code"], dept["positions_under"], dept["open_gap_hours"]) == ("DEPT", 1, "0.00")
    assert (dept["required_headcount"], dept["assigned_headcount"], dept["status"]) == (3, 3, "met")


# --- roll-up -----------------------------------------------------------------------------------------------

ROLLUP_EXPECTED = {
    # DEPT = P + Q + TEAM's R. Week 1: 70 h both sides, but only 2 of 3 people: under.
    ("DEPT", W1): {**_row(3, 2, 70.0, 70.0, 0.0, 1.0, "under"), "open_gap_hours": _h(10.0), "positions_under": 1},
    # Week 2: Q's 30 h without demand outweighs P's 5 h shortfall; the shortfall stays visible in open_gap_hours.
    ("DEPT", W2): {**_row(2, 3, 70.0, 95.0, -25.0, 1.3571, "over"), "open_gap_hours": _h(5.0), "positions_under": 1},
    ("DEPT", W3): {**_row(2, 2, 70.0, 50.0, 20.0, 0.7143, "under"), "open_gap_hours": _h(20.0), "positions_under": 1},
    ("TEAM", W1): {**_row(0, 0, 0.0, 0.0, 0.0, None, "met"), "open_gap_hours": _h(0.0), "positions_under": 0},
    ("OTHER", W2): {**_row(1, 1, 40.0, 20.0, 20.0, 0.5, "under"), "open_gap_hours": _h(20.0), "positions_under": 1},
    # ROOT, week 2: e1 works on P and on S but counts once: 3 distinct people.
    ("ROOT", W1): {**_row(4, 3, 110.0, 110.0, 0.0, 1.0, "under"), "open_gap_hours": _h(10.0), "positions_under": 1},
    ("ROOT", W2): {**_row(3, 3, 110.0, 115.0, -5.0, 1.0455, "over"), "open_gap_hours": _h(25.0), "positions_under": 2},
    ("ROOT", W3): {**_row(3, 2, 110.0, 70.0, 40.0, 0.6364, "under"), "open_gap_hours": _h(40.0), "positions_under": 2},
}


def test_org_unit_rollup_sums_the_whole_subtree(scenario, auth_client):
    client, _ = auth_client("hr")
    response = client.get(f"{ROLLUP_URL}?{RANGE}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5  # ROOT, DEPT, TEAM, OTHER, ELSEWHERE
    rows = {(r["org_unit_code"], r["week"]): r for r in body["results"]}
    assert len(rows) == 15
    for key, expected in ROLLUP_EXPECTED.items():
        assert {k: rows[key][k] for k in expected} == expected, key
    assert [r["org_unit_code"] for r in body["results"][::3]] == ["ROOT", "DEPT", "TEAM", "OTHER", "ELSEWHERE"]


def test_org_unit_rollup_equals_the_sum_of_its_position_rows(scenario, tree, auth_client):
    client, _ = auth_client("hr")
    positions = client.get(f"{URL}?{RANGE}&org_unit={tree.dept.pk}").json()["results"]
    units = client.get(f"{ROLLUP_URL}?{RANGE}&org_unit={tree.dept.pk}").json()["results"]
    assert {r["org_unit_code"] for r in units} == {"DEPT", "TEAM"}
    for week in (W1, W2, W3):
        dept = next(r for r in units if r["org_unit_code"] == "DEPT" and r["week"] == week)
        mine = [r for r in positions if r["week"] == week]
        for field in ("required_hours", "assigned_hours", "gap_hours"):
            assert Decimal(dept[field]) == sum(Decimal(r[field]) for r in mine), (week, field)
        assert dept["required_headcount"] == sum(r["required_headcount"] for r in mine), week
        assert Decimal(dept["open_gap_hours"]) == sum(max(Decimal(r["gap_hours"]), 0) for r in mine)


def test_manager_sees_only_their_subtree(scenario, tree, client_for):
    client = client_for("manager")  # manages DEPT
    codes = {r["position_code"] for r in client.get(f"{URL}?{RANGE}").json()["results"]}
    assert codes == {"P", "Q", "R"}
    units = {r["org_unit_code"] for r in client.get(f"{ROLLUP_URL}?{RANGE}").json()["results"]}
    assert units == {"DEPT", "TEAM"}
    # Outside the subtree is "unknown" to them: 400, the same as an id that does not exist.
    assert_error(client.get(f"{URL}?{RANGE}&position={scenario.s.pk}"), 400, "validation_error", "position")
    assert_error(client.get(f"{ROLLUP_URL}?{RANGE}&org_unit={tree.root.pk}"), 400, "validation_error", "org_unit")


def test_manager_without_an_org_unit_sees_nothing(scenario, auth_client, make_user):
    client, _ = auth_client(user=make_user("manager"))
    assert client.get(f"{URL}?{RANGE}").json()["count"] == 0
    assert client.get(f"{ROLLUP_URL}?{RANGE}").json()["count"] == 0


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, ROLLUP_URL])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "from"),
        ("from=2026-03-02", "to"),
        ("to=2026-03-02", "from"),
        ("from=2026-02-30&to=2026-03-10", "from"),
        ("from=yesterday&to=2026-03-10", "from"),
        ("from=2026-03-02&to=03/10/2026", "to"),
        ("from=2026-03-10&to=2026-03-02", "to"),  # reversed
        ("from=2026-01-05&to=2028-01-03", "to"),  # 105 ISO weeks
        ("from=0001-01-01&to=0001-01-07", "from"),
        ("from=9999-12-20&to=9999-12-31", "from"),
        (f"{RANGE}&position=abc", "position"),
        (f"{RANGE}&position=-1", "position"),
        (f"{RANGE}&position=1.5", "position"),
        (f"{RANGE}&position=99999999999999999999999", "position"),
        (f"{RANGE}&position=999999", "position"),  # unknown
        (f"{RANGE}&org_unit=999999", "org_unit"),
        (f"{RANGE}&org_unit=x", "org_unit"),
    ],
)
def test_bad_input_is_a_400_in_the_error_shape(tree, auth_client, url, query, field):
    client, _ = auth_client("hr")
    assert_error(client.get(f"{url}?{query}"), 400, "validation_error", field)


def test_104_weeks_is_the_limit(tree, auth_client):
    client, _ = auth_client("hr")
    PositionFactory(org_unit=tree.dept)
    body = client.get(f"{URL}?from=2026-01-05&to=2027-12-31").json()  # Monday to the Friday of week 104
    assert len(body["results"]) == 104


# --- query counts ------------------------------------------------------------------------------------------


def _positions_with_data(tree, make_employee, make_assignment, n: int) -> None:
    for _ in range(n):
        position = PositionFactory(org_unit=tree.dept)
        CoverageRequirementFactory(position=position, valid_from=D(2026, 1, 1), required_headcount=2)
        make_assignment(make_employee(tree.dept), position, hours=30, start=D(2026, 1, 14))


@pytest.mark.parametrize("url", [URL, ROLLUP_URL])
def test_query_count_does_not_grow_with_positions_or_weeks(tree, make_employee, make_assignment, client_for, url):
    client = client_for("manager")
    _positions_with_data(tree, make_employee, make_assignment, 1)
    scope = f"org_unit={tree.dept.pk}"
    one_one, _ = count_queries(client, f"{url}?from=2026-03-02&to=2026-03-08&{scope}")
    one_many, _ = count_queries(client, f"{url}?from=2026-03-02&to=2026-07-19&{scope}")  # 20 weeks
    _positions_with_data(tree, make_employee, make_assignment, 9)
    ten_many, response = count_queries(client, f"{url}?from=2026-03-02&to=2026-07-19&{scope}")
    assert len(response.json()["results"]) == (10 if url == URL else 2) * 20  # positions (or DEPT, TEAM) × weeks
    assert one_one == one_many == ten_many
    assert ten_many <= 6  # user, manager's unit, org_unit lookup, COUNT, page, the report
