"""Candidate matching: a crafted case for ranking and reasons, the what-if rules, free hours, scope, query counts."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.api.tests.factories import PositionFactory
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.offer.models import LedgerEntry
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory, TagCatalogFactory

URL = "/api/coverage/candidates/"
PERIOD = "from=2026-03-02&to=2026-03-29"  # four whole weeks


@dataclass
class Case:
    position: object
    other: object
    forklift: object
    fit: object
    no_tag: object
    no_hours: object
    breaks_rule: object
    on_leave: object
    terminated: object


@pytest.fixture
def case(tree, make_employee, make_assignment) -> Case:
    """FORK (20 h/week) needs FORKLIFT at level ≥ 2; rule MAX40 blocks approvals over 40 h a week."""
    position = PositionFactory(code="FORK", org_unit=tree.dept, standard_weekly_hours=20)
    other = PositionFactory(code="DESK", org_unit=tree.dept)
    forklift = TagCatalogFactory(code="FORKLIFT")
    PositionTagFactory(position=position, tag=forklift, min_level=2)
    PositionTagFactory(position=position, tag=TagCatalogFactory(code="FRENCH"), required=False)  # nice to have
    BusinessRuleFactory(code="MAX40", rule_type="max_weekly_hours", params={"max_hours": 40})

    def person(number, *, state="active", contract=40, level=None):
        employee = make_employee(tree.dept, state=state, contract=contract, employee_number=number)
        if level:
            EmployeeTagFactory(employee=employee, tag=forklift, level=level, valid_from=D(2026, 1, 1))
        return employee

    fit = person("E-FIT", level=3)
    no_tag = person("E-NOTAG")
    no_hours = person("E-NOHOURS", contract=30, level=2)
    make_assignment(no_hours, other, hours=18, start=D(2026, 1, 5))  # 12 h left; 18 + 20 stays within MAX40
    breaks_rule = person("E-RULE", contract=60, level=2)
    make_assignment(breaks_rule, other, hours=25, start=D(2026, 1, 5))  # 35 h left, but 25 + 20 > 40
    on_leave = person("E-LEAVE", state="on_leave", level=3)
    terminated = person("E-GONE", state="terminated", level=5)
    return Case(position, other, forklift, fit, no_tag, no_hours, breaks_rule, on_leave, terminated)


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_ranking_and_reasons_for_the_crafted_case(case, auth_client):
    client, _ = auth_client("hr")
    body = _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")
    assert body["hours"] == "20.00"  # the position's standard weekly hours
    assert body["considered"] == 5  # the terminated employee is not a candidate
    assert body["fitting"] == 1
    assert body["rules_evaluated"] == ["MAX40"]
    results = body["results"]
    order = [r["employee_number"] for r in results]
    # Fits first; then by score: rule breaker 90, short of hours 88, on leave 85, missing tag 60.
    assert order == ["E-FIT", "E-RULE", "E-NOHOURS", "E-LEAVE", "E-NOTAG"]
    by = {r["employee_number"]: r for r in results}

    fit = by["E-FIT"]
    assert (fit["fits"], fit["score"], fit["free_hours"], fit["free_hours_source"]) == (
        True,
        100.0,
        "40.00",
        "contract",
    )
    assert fit["reasons"] == [
        "employee is active",
        "holds tag FORKLIFT at level 3 (≥ 2)",
        "40 h free of 20 needed",
        "all 1 approval rule(s) pass",
    ]
    assert fit["rule_failures"] == []

    no_tag = by["E-NOTAG"]
    assert (no_tag["fits"], no_tag["score"]) == (False, 60.0)
    assert "missing tag FORKLIFT (level ≥ 2)" in no_tag["reasons"]

    no_hours = by["E-NOHOURS"]
    assert (no_hours["fits"], no_hours["score"], no_hours["free_hours"]) == (False, 88.0, "12.00")
    assert "only 12 h free of 20 needed" in no_hours["reasons"]
    assert no_hours["rule_failures"] == []

    rule = by["E-RULE"]
    assert (rule["fits"], rule["score"], rule["free_hours"]) == (False, 90.0, "35.00")
    assert [f["rule"] for f in rule["rule_failures"]] == ["MAX40"]
    assert any(r.startswith("rule MAX40: Peak load would be 45") for r in rule["reasons"]), rule["reasons"]

    leave = by["E-LEAVE"]
    assert (leave["fits"], leave["score"]) == (False, 85.0)
    assert "employee is on leave: only active employees fit" in leave["reasons"]

    assert {"employee", "score", "fits", "free_hours", "reasons"} <= set(fit)


def test_hours_and_limit_parameters(case, auth_client):
    client, _ = auth_client("hr")
    body = _get(client, f"{URL}?position={case.position.pk}&{PERIOD}&hours=12&limit=2")
    assert body["hours"] == "12.00"
    # At 12 h the one short of hours fits, and so does the rule breaker (25 + 12 ≤ 40): all three score 100,
    # then more free hours rank first; the limit keeps the top two.
    assert [r["employee_number"] for r in body["results"]] == ["E-FIT", "E-RULE"]
    assert [r["score"] for r in body["results"]] == [100.0, 100.0]
    assert body["fitting"] == 3
    assert body["considered"] == 5


def test_tag_level_and_validity_reasons(case, tree, make_employee, auth_client):
    low = make_employee(tree.dept, employee_number="E-LOW")
    EmployeeTagFactory(employee=low, tag=case.forklift, level=1, valid_from=D(2026, 1, 1))
    expiring = make_employee(tree.dept, employee_number="E-EXPIRES")
    EmployeeTagFactory(
        employee=expiring, tag=case.forklift, level=4, valid_from=D(2026, 1, 1), valid_until=D(2026, 3, 15)
    )
    client, _ = auth_client("hr")
    by = {r["employee_number"]: r for r in _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    assert "tag FORKLIFT at level 1, needs level ≥ 2" in by["E-LOW"]["reasons"]
    assert (
        "tag FORKLIFT (level ≥ 2) is not valid over the whole period (valid 2026-01-01–2026-03-15)"
        in (by["E-EXPIRES"]["reasons"])
    )
    assert not by["E-LOW"]["fits"]
    assert not by["E-EXPIRES"]["fits"]
    # Ends before the period does: fine for a shorter period.
    short = _get(client, f"{URL}?position={case.position.pk}&from=2026-03-02&to=2026-03-15")
    assert next(r for r in short["results"] if r["employee_number"] == "E-EXPIRES")["fits"]


def test_already_assigned_to_the_position_does_not_fit(case, make_assignment, auth_client):
    clash = make_assignment(case.fit, case.position, state="proposed", hours=10, start=D(2026, 3, 16))
    client, _ = auth_client("hr")
    by = {r["employee_number"]: r for r in _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    assert not by["E-FIT"]["fits"]
    assert f"already assigned to FORK over overlapping dates (#{clash.pk}, proposed)" in by["E-FIT"]["reasons"]


def test_warning_rules_do_not_stop_a_fit_but_lower_the_score(case, auth_client):
    BusinessRuleFactory(
        code="HOURS_WARN", rule_type="assignment_hours_bounds", params={"max_hours": 16}, severity="warn"
    )
    client, _ = auth_client("hr")
    fit = _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"][0]
    assert (fit["employee_number"], fit["fits"], fit["score"]) == ("E-FIT", True, 95.0)
    assert any(r.startswith("warning from rule HOURS_WARN:") for r in fit["reasons"])


def test_rules_out_of_scope_or_for_other_events_or_about_the_request_are_not_evaluated(case, tree, auth_client):
    BusinessRuleFactory(
        code="ELSEWHERE", rule_type="assignment_hours_bounds", params={"max_hours": 1}, org_unit=tree.other
    )
    BusinessRuleFactory(
        code="ON_CREATE", rule_type="assignment_hours_bounds", params={"max_hours": 1}, events=["assignment.create"]
    )
    BusinessRuleFactory(code="WHY", rule_type="reason_required", params={})
    BusinessRuleFactory(
        code="NOT_YET",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 1},
        valid_from=datetime.date(2999, 1, 1),
    )
    client, _ = auth_client("hr")
    body = _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")
    assert body["rules_evaluated"] == ["MAX40"]
    assert body["fitting"] == 1


def test_required_tags_rule_reads_the_preloaded_tags(case, auth_client):
    BusinessRuleFactory(code="TAGS", rule_type="required_tags", params={"extra_tags": [{"tag": "SAFETY"}]})
    safety = TagCatalogFactory(code="SAFETY")
    EmployeeTagFactory(employee=case.fit, tag=safety, level=1, valid_from=D(2026, 1, 1))
    client, _ = auth_client("hr")
    by = {r["employee_number"]: r for r in _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    assert by["E-FIT"]["fits"]
    assert [f["rule"] for f in by["E-NOHOURS"]["rule_failures"]] == ["TAGS"]  # has FORKLIFT, lacks SAFETY
    assert "SAFETY" in by["E-NOHOURS"]["rule_failures"][0]["message"]


def test_free_hours_come_from_the_ledger_when_the_employee_has_one(case, tree, make_employee, auth_client):
    booked = make_employee(tree.dept, employee_number="E-LEDGER", contract=40)
    EmployeeTagFactory(employee=booked, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    common = {"employee": booked, "source": "employee"}
    LedgerEntry.objects.create(kind="contracted", hours=Decimal(36), period_start=D(2026, 1, 1), **common)
    # 8 h/week of leave over two of the four weeks: 4 h/week on average.
    LedgerEntry.objects.create(
        kind="leave", hours=Decimal(8), period_start=D(2026, 3, 16), period_end=D(2026, 3, 29), **common
    )
    # An assigned total of 20 h spread over 10 days, 5 of them in the period: 10 h, 2.5 h/week.
    LedgerEntry.objects.create(
        kind="assigned",
        basis="total",
        hours=Decimal(20),
        period_start=D(2026, 2, 25),
        period_end=D(2026, 3, 6),
        source="assignment",
        employee=booked,
    )
    # HR corrects the contracted column by −1.5 h/week.
    LedgerEntry.objects.create(
        kind="adjustment",
        adjusts="contracted",
        hours=Decimal("-1.5"),
        period_start=D(2026, 3, 2),
        source="manual",
        reason="correction",
        employee=booked,
    )
    client, _ = auth_client("hr")
    by = {r["employee_number"]: r for r in _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    row = by["E-LEDGER"]
    assert row["free_hours_source"] == "ledger"
    assert row["free_hours"] == "28.00"  # 36 − 1.5 − 4 − 2.5
    assert row["fits"]


def test_manager_candidates_come_from_their_subtree_and_positions_outside_are_unknown(
    case, tree, make_employee, client_for
):
    make_employee(tree.other, employee_number="E-OUTSIDE")
    make_employee(tree.team, employee_number="E-TEAM")
    outside_position = PositionFactory(org_unit=tree.other)
    client = client_for("manager")  # manages DEPT
    numbers = {r["employee_number"] for r in _get(client, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    assert "E-TEAM" in numbers
    assert "E-OUTSIDE" not in numbers
    assert_error(client.get(f"{URL}?position={outside_position.pk}&{PERIOD}"), 400, "validation_error", "position")
    hr = client_for("hr")
    numbers = {r["employee_number"] for r in _get(hr, f"{URL}?position={case.position.pk}&{PERIOD}")["results"]}
    assert "E-OUTSIDE" in numbers
    only_team = _get(hr, f"{URL}?position={case.position.pk}&{PERIOD}&org_unit={tree.team.pk}")["results"]
    assert [r["employee_number"] for r in only_team] == ["E-TEAM"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (PERIOD, "position"),
        ("position={pk}", "from"),
        ("position={pk}&from=2026-03-29&to=2026-03-02", "to"),
        ("position={pk}&from=2026-03-02&to=nope", "to"),
        ("position=999999&" + PERIOD, "position"),
        ("position=x&" + PERIOD, "position"),
        ("position={pk}&hours=-5&" + PERIOD, "hours"),
        ("position={pk}&hours=0&" + PERIOD, "hours"),
        ("position={pk}&hours=200&" + PERIOD, "hours"),
        ("position={pk}&hours=lots&" + PERIOD, "hours"),
        ("position={pk}&limit=0&" + PERIOD, "limit"),
        ("position={pk}&limit=101&" + PERIOD, "limit"),
        ("position={pk}&org_unit=999999&" + PERIOD, "org_unit"),
        ("position={pk}&from=2026-01-05&to=2028-01-03", "to"),
    ],
)
def test_bad_input_is_a_400_in_the_error_shape(case, auth_client, query, field):
    client, _ = auth_client("hr")
    assert_error(client.get(f"{URL}?{query.format(pk=case.position.pk)}"), 400, "validation_error", field)


def _crowd(tree, make_employee, make_assignment, case, n: int, first: int = 0) -> None:
    """n employees, each with the tag, an assignment elsewhere and a ledger line: everything the ranking reads."""
    for i in range(first, first + n):
        employee = make_employee(tree.dept, state="active" if i % 3 else "on_leave", employee_number=f"C{i:04d}")
        EmployeeTagFactory(employee=employee, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
        make_assignment(employee, case.other, state="approved" if i % 2 else "proposed", hours=10)
        if i % 4 == 0:
            LedgerEntry.objects.create(
                employee=employee, kind="contracted", hours=40, period_start=D(2026, 1, 1), source="employee"
            )


@pytest.mark.parametrize("role", ["hr", "manager"])
def test_query_count_does_not_grow_with_the_number_of_employees(
    case, tree, make_employee, make_assignment, client_for, role
):
    BusinessRuleFactory(code="TAGS", rule_type="required_tags", params={})
    BusinessRuleFactory(code="ONE", rule_type="no_overlap_same_position", params={})
    BusinessRuleFactory(code="CONC", rule_type="max_concurrent_assignments", params={"max": 3})
    BusinessRuleFactory(code="STATE", rule_type="employee_state", params={"states": ["active"]})
    BusinessRuleFactory(code="PCT", rule_type="max_weekly_hours", params={"max_percent_of_contract": 100})
    BusinessRuleFactory(code="END", rule_type="before_termination", params={})
    BusinessRuleFactory(code="BOUNDS", rule_type="assignment_hours_bounds", params={"min_hours": 4})
    client = client_for(role)
    url = f"{URL}?position={case.position.pk}&{PERIOD}&limit=100"
    _crowd(tree, make_employee, make_assignment, case, 5)
    few, response = count_queries(client, url)
    assert response.json()["considered"] == 10
    _crowd(tree, make_employee, make_assignment, case, 35, first=5)
    many, response = count_queries(client, url)
    assert response.json()["considered"] == 45
    assert few == many
    # user, (manager's unit), position, position tags, rules, the pool, their tags, their assignments, supply SQL
    assert many <= 9
