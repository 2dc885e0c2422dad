"""Candidate matching: a crafted case for ranking and reasons, the what-if rules, free hours, scope, query counts."""

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.api.tests.factories import PositionFactory
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.offer.models import LedgerEntry
from apps.tags.models import TagCatalog
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
    # user, (manager's unit), position, its unit's time zone (today), position tags, rules, the pool, their tags,
    # their assignments, supply SQL
    assert many <= 10


def _random_organisation(rng, tree, make_employee, make_assignment, case, n: int) -> None:
    """n employees with random states, contracts, tag levels and validity, assignments and ledger lines."""
    from apps.offer.models import LedgerEntry as Entry

    states = ["active", "active", "active", "pending", "on_leave", "suspended"]
    for i in range(n):
        employee = make_employee(
            tree.dept if i % 3 else tree.team,
            state=rng.choice(states),
            contract=rng.choice([0, 12, 20, 24, 30, 37.5, 40, 45]),
            employee_number=rng.choice(["R", "r", "Ä", "R-", "R_"]) + f"{i:03d}",  # code-point order, not a collation
            termination_date=rng.choice([None, None, D(2026, 3, 20), D(2026, 6, 30)]),
        )
        for tag in (case.forklift, *case.extra_tags):
            if rng.random() < 0.7:
                EmployeeTagFactory(
                    employee=employee,
                    tag=tag,
                    level=rng.randint(1, 4),
                    valid_from=rng.choice([D(2026, 1, 1), D(2026, 3, 10)]),
                    valid_until=rng.choice([None, None, D(2026, 3, 15), D(2026, 12, 31)]),
                )
        # The database allows one open assignment per employee and position at a time: distinct positions.
        for where in rng.sample([case.other, *case.more_positions, case.position], rng.choice([0, 0, 1, 1, 2, 3])):
            start = rng.choice([D(2026, 1, 5), D(2026, 3, 4), D(2026, 3, 20), D(2026, 5, 1)])
            make_assignment(
                employee,
                where,
                state=rng.choice(["proposed", "approved", "active", "completed", "cancelled"]),
                hours=rng.choice([4, 8, 10, 12.5, 16, 19.99, 20, 25, 33.33]),
                start=start,
                end=rng.choice([None, start + datetime.timedelta(days=rng.randrange(3, 60))]),
            )
        if rng.random() < 0.4:
            common = {"employee": employee, "source": "employee"}
            Entry.objects.create(
                kind="contracted", hours=Decimal(rng.choice([20, 36, 40])), period_start=D(2026, 1, 1), **common
            )
            if rng.random() < 0.5:
                Entry.objects.create(
                    kind="leave",
                    hours=Decimal(rng.choice(["8", "13.37"])),
                    period_start=D(2026, 3, rng.randint(1, 20)),
                    period_end=D(2026, 3, 29),
                    **common,
                )
            if rng.random() < 0.5:
                Entry.objects.create(
                    kind="assigned",
                    basis="total",
                    hours=Decimal(rng.choice(["20", "7.77"])),
                    period_start=D(2026, 2, 25),
                    period_end=D(2026, 3, rng.randint(1, 28)),
                    source="assignment",
                    employee=employee,
                )


RULE_SETS = [
    [],
    [("MAXH", "max_weekly_hours", {"max_hours": 40}, "block")],
    [
        ("PCT", "max_weekly_hours", {"max_percent_of_contract": 100, "max_hours": 45}, "block"),
        ("CONC", "max_concurrent_assignments", {"max": 2}, "warn"),
        ("STATE", "employee_state", {"states": ["active", "pending"]}, "warn"),
    ],
    [
        (
            "TAGS",
            "required_tags",
            {"include_optional": True, "extra_tags": [{"tag": "SAFETY", "min_level": 2}]},
            "block",
        ),
        ("ONE", "no_overlap_same_position", {}, "warn"),
        ("END", "before_termination", {}, "block"),
        ("CONC1", "max_concurrent_assignments", {"max": 1, "count_proposed": True}, "warn"),
        ("BOUNDS", "assignment_hours_bounds", {"max_hours": 15}, "warn"),
    ],
    [
        ("GONE", "no_such_type_any_more", {}, "warn"),
        ("BAD", "max_weekly_hours", {"max_hours": "lots"}, "warn"),
        ("PCTW", "max_weekly_hours", {"max_percent_of_contract": 62.5}, "warn"),
    ],
]


@pytest.mark.postgres
@pytest.mark.parametrize("rules", range(len(RULE_SETS)))
def test_the_sql_shortlist_ranks_exactly_like_ranking_everyone_in_python(
    case, tree, make_employee, make_assignment, rules
):
    """The oracle for apps/demand/candidate_sql.py: random organisations, every rule type the SQL knows (and some
    it does not), several hours and limits; the bodies must be equal to ranking everyone in Python."""
    import random
    from unittest import mock

    from apps.business_rules.models import BusinessRule
    from apps.demand import candidate_sql, candidates
    from apps.demand.candidates import candidate_rank
    from apps.demand.selectors import candidate_pool
    from apps.demand.tests.test_candidate_bounds import _floor, _table
    from apps.users.models import User

    rng = random.Random(8000 + rules)
    safety = TagCatalogFactory(code="SAFETY")
    case.extra_tags = [safety, TagCatalog.objects.get(code="FRENCH")]
    PositionTagFactory(position=case.position, tag=safety, min_level=1)
    case.more_positions = [PositionFactory(org_unit=tree.dept), PositionFactory(org_unit=tree.other)]
    BusinessRule.objects.update(is_active=False)
    for code, rule_type, params, severity in RULE_SETS[rules]:
        BusinessRule.objects.create(
            code=code, name=code, rule_type=rule_type, params=params, severity=severity, events=["assignment.approve"]
        )
    _random_organisation(rng, tree, make_employee, make_assignment, case, 119)
    # Two 15 h assignments one after the other: their sum plus 20 h is over 40, their peak is not (SQL undecided).
    twice = make_employee(tree.dept, contract=80, employee_number="TWICE")
    for tag in (case.forklift, *case.extra_tags):
        EmployeeTagFactory(employee=twice, tag=tag, level=3, valid_from=D(2026, 1, 1))
    make_assignment(twice, case.other, hours=15, start=D(2026, 2, 2), end=D(2026, 3, 10))
    make_assignment(twice, case.more_positions[0], hours=15, start=D(2026, 3, 16), end=D(2026, 5, 10))
    # Booked on the ledger but for a few free days (3 to 7) inside the periods below: their week bound is below the
    # day's maximum once there is a floor.
    for i, (free_from, free_until, booked) in enumerate(
        [
            (D(2026, 3, 5), D(2026, 3, 8), 40),
            (D(2026, 3, 10), D(2026, 3, 15), 36),
            (D(2026, 3, 20), D(2026, 3, 22), 20),
            (D(2026, 3, 3), D(2026, 3, 9), 40),
        ]
    ):
        gap = make_employee(tree.dept, contract=40, employee_number=f"R{i:03d}-GAP")
        for tag in (case.forklift, *case.extra_tags):
            EmployeeTagFactory(employee=gap, tag=tag, level=3, valid_from=D(2026, 1, 1))
        common = {"employee": gap, "kind": "assigned", "hours": Decimal(booked), "source": "assignment"}
        LedgerEntry.objects.create(
            employee=gap, kind="contracted", hours=Decimal(40), period_start=D(2026, 1, 1), source="employee"
        )
        LedgerEntry.objects.create(
            period_start=D(2026, 1, 1), period_end=free_from - datetime.timedelta(days=1), **common
        )
        LedgerEntry.objects.create(period_start=free_until + datetime.timedelta(days=1), **common)
    # Committed throughout the floor's window (their committed-hours bound, ADR 0049, says max_weekly_hours fails for
    # the longer periods below), or but for 7 days in it (their bound is 0: a week without any committed day).
    booked = []
    plans = [(30, None), (25, None), (40, None), (30, D(2026, 3, 21)), (38, None), (20, None), (32.5, None)]
    for i, (hours, free_from) in enumerate(plans):
        person = make_employee(tree.dept, contract=40, employee_number=f"B{i:03d}-BOOKED")
        for tag in (case.forklift, *case.extra_tags):
            EmployeeTagFactory(employee=person, tag=tag, level=2, valid_from=D(2026, 1, 1))
        last = None if free_from is None else free_from - datetime.timedelta(days=1)
        make_assignment(person, case.other, state="active", hours=hours, start=D(2026, 1, 5), end=last)
        if free_from is not None:
            make_assignment(person, case.more_positions[0], hours=hours, start=free_from + datetime.timedelta(days=7))
        booked.append(person)
    if rules % 2 == 0:
        # Bounds that hold from 2 March (every period below lies inside their window): tighter, and the week bound of
        # ADR 0042 below the day's maximum for people whose rate changes inside it; otherwise bounds over all time.
        _floor(D(2026, 3, 2))
        table = _table()
        assert any(week < day for day, _, week, *_ in table.values())
        assert [table[p.pk][3] for p in booked] == [3000, 2500, 4000, 0, 3800, 2000, 3250]
    admin = User.objects.create(email="oracle@coveris.test", role="admin")
    seen, branches, options = [], [], {}

    def shortlist(**kwargs):
        short = candidate_sql.candidate_shortlist(**kwargs, **options)
        branches.append(short.side)
        return short

    def same(shortlisted: dict, expected: dict) -> bool:
        """Equal bodies; after a bounded visit ``fitting`` is a lower bound (ADR 0036), flagged by ``fitting_exact``."""
        if not shortlisted["fitting_exact"]:
            assert shortlisted["fitting"] <= expected["fitting"]
            shortlisted = shortlisted | {"fitting": expected["fitting"], "fitting_exact": True}
        return shortlisted == expected

    for hours, limit, start, end in [
        (Decimal(20), 25, D(2026, 3, 2), D(2026, 3, 29)),
        (Decimal("7.5"), 5, D(2026, 3, 2), D(2026, 3, 15)),
        (Decimal(40), 100, D(2026, 3, 4), D(2026, 4, 2)),
        (Decimal("12.34"), 1, D(2026, 3, 9), D(2026, 3, 9)),
        (Decimal(0), 3, D(2026, 3, 2), D(2026, 3, 8)),
        (Decimal("0.01"), 12, D(2026, 3, 2), D(2026, 3, 22)),
    ]:
        args = {"position": case.position, "start": start, "end": end, "hours": hours, "limit": limit}
        pool = candidate_pool(user=admin)
        expected = candidate_rank(**args, employees=pool, shortlist=False)
        team = candidate_pool(user=admin, org_unit=tree.team)
        expected_team = candidate_rank(**args, employees=team, shortlist=False)
        # The visits as shipped, visits of exactly the page and of one more (stops at the edge and fallbacks), and one
        # that never decides (the fallbacks of ADR 0012); with and without the holders' visit (ADR 0045), which would
        # otherwise decide most pages the qualified and holders' sides are compared on.
        sizes = (candidate_sql.visit_size, lambda limit: limit, lambda limit: limit + 1, lambda limit: 0)
        # ... and the holders' visit with its best keys read from the period's assignments (ADR 0045, not 0049); and
        # ADR 0049's query (the first visit over every state's rows, the best keys materialized: ADR 0050's flags off).
        ways = ((True, True, True), (True, False, True), (False, True, True), (True, True, False))
        for size, (holders_visit, committed, adr0050) in itertools.product(sizes, ways):
            options.update(holders_visit=holders_visit, committed=committed, active=adr0050, one_pass=adr0050)
            with (
                mock.patch.object(candidates, "candidate_shortlist", shortlist),
                mock.patch.object(candidate_sql, "visit_size", size),
            ):
                assert same(candidate_rank(**args, employees=pool, shortlist=True), expected)
                assert same(candidate_rank(**args, employees=team, shortlist=True), expected_team)
        seen.append((expected["considered"], expected["fitting"], len(expected["results"])))
    # the crowd, the gaps and the case, not the terminated
    assert all(considered == 120 + 4 + 7 + 6 - 1 for considered, _, _ in seen)
    assert any(fitting for _, fitting, _ in seen) or rules == 3  # set 3 blocks everyone without SAFETY at level 2
    # Every way was compared: the page decided by the bounded visit, among the qualified alone (the visit could not
    # decide it), among the holders of every required tag (too few fit, and the page's last row outscores anyone
    # missing a tag) and by everyone's key.
    assert {"visit", "holders visit", "qualified", "holders", "pool"} <= set(branches), branches


def _recording_sides(sides: list, **options):
    """A stand-in for ``candidate_shortlist`` (called with ``options`` too) that records the side each call took."""
    from apps.demand import candidate_sql

    def shortlist(**kwargs):
        short = candidate_sql.candidate_shortlist(**kwargs, **options)
        sides.append(short.side)
        return short

    return shortlist


def _visiting_exactly_the_page(case, *, limit: int, sides: list) -> dict:
    """``_both_ways`` with every bounded visit cut to exactly ``limit`` people (4 × limit + 20 would reach everyone in
    these small cases), recording in ``sides`` the side each shortlist took."""
    from unittest import mock

    from apps.demand import candidate_sql, candidates

    with (
        mock.patch.object(candidate_sql, "visit_size", lambda limit: limit),
        mock.patch.object(candidates, "candidate_shortlist", _recording_sides(sides)),
    ):
        return _both_ways(case, limit=limit)


def _march_shortlist_args(case, limit: int) -> dict:
    """``candidate_shortlist``'s arguments for FORK over March 2026's four weeks at 20 h, everyone's pool."""
    from apps.demand.candidates import _fixed
    from apps.demand.selectors import candidate_pool
    from apps.users.models import User

    start, end, hours = D(2026, 3, 2), D(2026, 3, 29), Decimal(20)
    position_tags, rules, template = _fixed(position=case.position, start=start, end=end, hours=hours, today=start)
    admin, _ = User.objects.get_or_create(email="plan@coveris.test", defaults={"role": "admin"})
    return {
        "position": case.position,
        "position_tags": position_tags,
        "rules": rules,
        "start": start,
        "end": end,
        "hours": hours,
        "employees": candidate_pool(user=admin),
        "limit": limit,
        "template": template,
    }


def _plan_lines(shortlist_args: dict) -> list[str]:
    """EXPLAIN ANALYZE of the shortlist query built for ``shortlist_args`` (captured, not run), line by line."""
    import contextlib

    from django.db import connection

    from apps.demand.candidate_sql import candidate_shortlist

    captured = {}

    class Captured(Exception):
        pass

    def grab(execute, sql, params, many, context):
        captured["sql"], captured["params"] = sql, params
        raise Captured

    with connection.execute_wrapper(grab), contextlib.suppress(Captured):
        candidate_shortlist(**shortlist_args)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + captured["sql"], captured["params"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.parametrize("limit", [1, 100])
def test_the_pool_is_not_evaluated_when_enough_of_the_qualified_fit(case, limit):
    """With at least ``limit`` qualified employees fitting, PostgreSQL never starts the pool-wide keys (the gate is a
    one-time filter); with fewer, it does. One fits in the crafted case."""

    lines = _plan_lines(_march_shortlist_args(case, limit))
    pool_wide = [line for line in lines if "CTE Scan on keyed " in line or line.strip().startswith("CTE keyed")]
    qualified = [line for line in lines if "CTE Scan on q_keyed " in line]
    assert pool_wide, lines
    assert qualified, lines
    started = [line for line in pool_wide if "never executed" not in line and "CTE Scan" in line]
    if limit == 1:
        assert not started, "\n".join(lines)
    else:
        assert started, "\n".join(lines)


def _both_ways(case, *, limit: int, days: int = 28) -> dict:
    """The body ranked through the SQL shortlist over ``days`` from 2 March 2026, checked equal to ranking everyone in
    Python."""
    from apps.demand.candidates import candidate_rank
    from apps.demand.selectors import candidate_pool
    from apps.users.models import User

    admin, _ = User.objects.get_or_create(email="both@coveris.test", defaults={"role": "admin"})
    start = D(2026, 3, 2)
    args = {"position": case.position, "start": start, "end": start + datetime.timedelta(days=days - 1)}
    args |= {"hours": Decimal(20), "limit": limit}
    body = candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=True)
    assert body == candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=False)
    return body


@pytest.mark.postgres
def test_free_hours_on_an_exact_half_cent_tie_rank_like_python(case, tree, make_employee, make_assignment):
    """Contract-source free hours are computed in integers except at an exact half-cent tie, where the numeric
    expression decides — and it need not round up. Over 6 days, 40 h contracted and 0.03 h assigned on one day are
    exactly 39.995 h a week; the numeric quotients (40 × 6 / 7 and 0.03 / 7, rounded) give 39.99499… → 39.99, as in
    Python. E-FIT has 40.00: first, though E-A-TIE's number sorts before it. With limit 1 only the SQL's key picks
    who is shown, so rounding the tie up in integers would show E-A-TIE."""
    tie = make_employee(tree.dept, employee_number="E-A-TIE", contract=40)
    EmployeeTagFactory(employee=tie, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    make_assignment(tie, case.other, hours="0.03", start=D(2026, 3, 4), end=D(2026, 3, 4))
    results = _both_ways(case, limit=1, days=6)["results"]
    assert [(r["employee_number"], r["free_hours"]) for r in results] == [("E-FIT", "40.00")]
    second = _both_ways(case, limit=2, days=6)["results"][1]
    assert (second["employee_number"], second["free_hours"]) == ("E-A-TIE", "39.99")


def test_the_hours_the_sql_counts_in_integer_cents_have_two_decimals():
    """apps/demand/candidate_sql.py sums assignment and contract hours as integer cents (ADR 0033): exact only while
    both columns keep two decimals. A third decimal must change that code, not round silently."""
    from apps.api.models import Employee
    from apps.assignments.models import Assignment

    assert Assignment._meta.get_field("weekly_hours").decimal_places == 2
    assert Employee._meta.get_field("contracted_weekly_hours").decimal_places == 2


@pytest.mark.postgres
def test_without_a_rollup_horizon_the_ledger_itself_says_who_is_on_it(case, tree, make_employee):
    """The SQL reads the maintained list of ledgerless employees only while the rollups hold a horizon (during a bulk
    load they do not, and a ledger posting then leaves its employee listed): without one it probes the ledger."""
    from django.db import connection

    from apps.demand.rollups import HORIZON, LEDGERLESS

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {HORIZON}")  # noqa: S608 -- a constant table name
    booked = make_employee(tree.dept, employee_number="E-A-BOOKED", contract=40)
    EmployeeTagFactory(employee=booked, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    # A contract line of last year only: on the ledger, with nothing in the period.
    LedgerEntry.objects.create(
        kind="contracted",
        hours=Decimal(36),
        period_start=D(2025, 1, 1),
        period_end=D(2025, 12, 31),
        employee=booked,
        source="employee",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {LEDGERLESS} WHERE employee_id = %s", [booked.pk])  # noqa: S608
        assert cursor.fetchone(), "the list is stale without a horizon (what this test is about)"
    by = {r["employee_number"]: r for r in _both_ways(case, limit=100)["results"]}
    assert (by["E-A-BOOKED"]["free_hours_source"], by["E-A-BOOKED"]["free_hours"]) == ("ledger", "0.00")


@pytest.mark.postgres
def test_without_a_horizon_the_triggers_wait_for_the_rebuild_and_candidates_do_not_visit(case, tree, make_employee):
    """During a bulk load (no horizon) the triggers do nothing, so the table may be stale: the candidates query then
    computes every qualified person's key (no bounded visit); ``rollup_rebuild`` writes every bound again."""
    from unittest import mock

    from django.db import connection

    from apps.demand import candidate_sql, candidates
    from apps.demand.candidates import candidate_rank
    from apps.demand.rollups import HORIZON, default_horizon, rollup_rebuild
    from apps.demand.selectors import candidate_pool
    from apps.demand.tests.test_candidate_bounds import _from_scratch, _table
    from apps.users.models import User

    forklift = case.forklift
    for i in range(6):
        person = make_employee(tree.dept, contract=40, employee_number=f"V-{i}")
        EmployeeTagFactory(employee=person, tag=forklift, level=2, valid_from=D(2026, 1, 1))
    admin = User.objects.create(email="visit@coveris.test", role="admin")
    args = {"position": case.position, "start": D(2026, 3, 2), "end": D(2026, 3, 29), "hours": Decimal(20), "limit": 1}
    sides = []

    def shortlist(**kwargs):
        short = candidate_sql.candidate_shortlist(**kwargs)
        sides.append(short.visited_only)
        return short

    # A visit of three (E-RULE's 60 h, then E-FIT and V-0 at 40 h) decides a page of one before V-1.
    mock.patch.object(candidate_sql, "visit_size", return_value=3).start()
    with mock.patch.object(candidates, "candidate_shortlist", shortlist):
        body = candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=True)
    assert sides == [True]
    assert body["fitting_exact"] is False
    assert body["fitting"] == 2  # E-FIT and V-0 found, of 7 who fit
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {HORIZON}")  # noqa: S608
    late = make_employee(tree.dept, contract=60, employee_number="V-LATE")
    EmployeeTagFactory(employee=late, tag=forklift, level=2, valid_from=D(2026, 1, 1))
    LedgerEntry.objects.create(
        employee=case.fit, kind="contracted", hours=Decimal(80), period_start=D(2026, 1, 1), source="employee"
    )
    assert late.pk not in _table()
    assert _table()[case.fit.pk][0] == 4000
    with mock.patch.object(candidates, "candidate_shortlist", shortlist):
        stale = candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=True)
    assert sides[-1] is False
    assert stale["fitting_exact"] is True
    assert stale == candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=False)
    assert stale["results"][0]["employee_number"] == "E-FIT"  # 80 h contracted on the ledger, 40 on the contract
    first, last = default_horizon(datetime.date(2026, 3, 2))
    rollup_rebuild(first_week=first, last_week=last, bounds_from=D(2026, 3, 2))
    assert _table() == _from_scratch()
    assert _table()[late.pk][0] == 6000
    assert _table()[case.fit.pk][0] == 8000
    with mock.patch.object(candidates, "candidate_shortlist", shortlist):
        assert (
            candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=True)["results"] == stale["results"]
        )
    assert sides[-1] is True
    mock.patch.stopall()


@pytest.mark.postgres
@pytest.mark.parametrize(("days", "side", "first"), [(6, "visit", "A-GAP"), (7, "visit", "E-FIT")])
def test_periods_of_a_week_or_more_visit_by_the_week_bound_shorter_ones_by_the_day(
    case, tree, make_employee, days, side, first
):
    """A-GAP is booked 40 h a week but for six days (10–15 March): 40 h free over those six days, 34.29 h over any
    week (ADR 0042), so the week bound (3,429) is below the day's maximum (4,000). With a visit of two, a request for
    the six days must visit by the day's maximum (A-GAP ties E-FIT at 40 h and comes first by number; visited by the
    week bound it would come after E-FIT, and the page would wrongly be E-FIT); one for the seven days 9–15 March by
    the week bound, which decides the page at E-FIT (by the day's maximum A-GAP and E-RULE, 34.29 h and 35 h, would be
    visited first and the visit could not decide). The bodies equal ranking everyone in Python."""
    from unittest import mock

    from apps.demand import candidate_sql, candidates
    from apps.demand.candidates import candidate_rank
    from apps.demand.selectors import candidate_pool
    from apps.demand.tests.test_candidate_bounds import _floor, _table
    from apps.users.models import User

    gap = make_employee(tree.dept, contract=40, employee_number="A-GAP")
    EmployeeTagFactory(employee=gap, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    common = {"employee": gap, "period_start": D(2026, 1, 1)}
    LedgerEntry.objects.create(kind="contracted", hours=Decimal(40), source="employee", **common)
    LedgerEntry.objects.create(
        kind="assigned", hours=Decimal(40), period_end=D(2026, 3, 9), source="assignment", **common
    )
    LedgerEntry.objects.create(
        kind="assigned", hours=Decimal(40), period_start=D(2026, 3, 16), source="assignment", employee=gap
    )
    _floor(D(2026, 3, 2))
    assert _table()[gap.pk][0:3:2] == (4000, 3429)
    admin = User.objects.create(email="week@coveris.test", role="admin")
    start = D(2026, 3, 16) - datetime.timedelta(days=days)
    args = {"position": case.position, "start": start, "end": D(2026, 3, 15), "hours": Decimal(4), "limit": 1}
    sides = []
    with (
        mock.patch.object(candidate_sql, "visit_size", return_value=2),
        mock.patch.object(candidates, "candidate_shortlist", _recording_sides(sides)),
    ):
        body = candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=True)
    assert sides == [side]
    assert body["fitting_exact"] is False
    assert [r["employee_number"] for r in body["results"]] == [first]
    expected = candidate_rank(**args, employees=candidate_pool(user=admin), shortlist=False)
    assert body["results"] == expected["results"]


@pytest.mark.postgres
def test_a_visit_that_decides_the_page_starts_neither_the_qualified_nor_the_pool(case, tree, make_employee):
    """When the bounded visit decides the page, PostgreSQL never starts the keys of all the qualified or of the pool."""

    for i in range(4):
        person = make_employee(tree.dept, contract=40, employee_number=f"P-{i}")
        EmployeeTagFactory(employee=person, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    lines = _plan_lines(_march_shortlist_args(case, 2))
    scans = {
        name: [line for line in lines if f"CTE Scan on {name} " in line] for name in ("t_keyed", "q_keyed", "keyed")
    }
    assert all(scans.values()), lines
    assert any("never executed" not in line for line in scans["t_keyed"]), "\n".join(lines)
    assert all("never executed" in line for line in scans["q_keyed"] + scans["keyed"]), "\n".join(lines)


def _holders_case(case, tree, make_employee) -> None:
    """A pending holder of FORKLIFT with no free hours: 40 (tags) + 0 (hours) + 10 (pending) + 10 (rules) = 60, the
    most anyone missing a required tag of FORK can score — and E-NOTAG scores that too, with 40 h free."""
    pending = make_employee(tree.dept, state="pending", contract=0, employee_number="E-PENDING")
    EmployeeTagFactory(employee=pending, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))


@pytest.mark.postgres
@pytest.mark.parametrize(("limit", "side"), [(4, "holders"), (5, "pool"), (6, "pool")])
def test_a_page_of_non_fitters_is_decided_among_the_holders_when_nobody_without_a_tag_can_reach_it(
    case, tree, make_employee, limit, side
):
    """One fits (E-FIT), so pages of 4 and more reach non-fitters. The holders of FORKLIFT at level 2 rank E-FIT, E-RULE
    (90), E-NOHOURS (88), E-LEAVE (85), E-PENDING (60); nobody without the tag scores over 60. A page of 4 ends at 85:
    decided among the holders. A page of 5 ends at 60, which E-NOTAG (no tag, 60, 40 h free) reaches and beats on free
    hours: the gate must not decide it (a strict comparison), and E-NOTAG is fifth. Without the holders' visit (ADR
    0045), which would decide the page of 4 first."""
    from unittest import mock

    from apps.demand import candidates

    _holders_case(case, tree, make_employee)
    sides = []
    with mock.patch.object(candidates, "candidate_shortlist", _recording_sides(sides, holders_visit=False)):
        body = _both_ways(case, limit=limit)
    assert sides == [side]
    assert body["fitting"] == 1
    assert body["fitting_exact"] is True
    numbers = [r["employee_number"] for r in body["results"]]
    assert numbers[:4] == ["E-FIT", "E-RULE", "E-NOHOURS", "E-LEAVE"]
    assert [r["score"] for r in body["results"][1:4]] == [90.0, 88.0, 85.0]
    if limit >= 5:
        assert numbers[4:] == ["E-NOTAG", "E-PENDING"][: limit - 4]
        assert [r["score"] for r in body["results"][4:]] == [60.0, 60.0][: limit - 4]


@pytest.mark.postgres
def test_a_page_decided_among_the_holders_never_starts_the_pool(case, tree, make_employee):
    """When the holders decide the page, PostgreSQL never starts the pool-wide keys; it does start the holders'
    (without the holders' visit, ADR 0045, which would decide it first)."""
    _holders_case(case, tree, make_employee)
    lines = _plan_lines(_march_shortlist_args(case, 4) | {"holders_visit": False})
    scans = {name: [line for line in lines if f"CTE Scan on {name} " in line] for name in ("h_keyed", "keyed")}
    assert all(scans.values()), lines
    assert any("never executed" not in line for line in scans["h_keyed"]), "\n".join(lines)
    assert all("never executed" in line for line in scans["keyed"]), "\n".join(lines)


def _holders_visit_case(case, tree, make_employee, make_assignment) -> None:
    """Beside the crafted case (E-FIT 100, E-RULE 90, E-NOHOURS 88, E-LEAVE, E-NOTAG), a STATE rule blocking anyone not
    active, six active holders B-0..B-5 booked 25 h of their 40 (15 h free; 25 + 20 > MAX40: blocked, 82.5, tied but
    for their numbers; B-0, B-2 and B-4 on the ledger, where only the bound orders them before the visit) and two
    pending holders P-0, P-1 with 40 h free (blocked by STATE: 80; P-1 on the ledger: its bound for a non-active person
    ties it with P-0, ADR 0045). Bounds from 2 March."""
    from apps.demand.tests.test_candidate_bounds import _floor

    BusinessRuleFactory(code="STATE", rule_type="employee_state", params={"states": ["active"]})
    for i in range(6):
        booked = make_employee(tree.dept, contract=40, employee_number=f"B-{i}")
        EmployeeTagFactory(employee=booked, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
        make_assignment(booked, case.other, hours=25, start=D(2026, 1, 5))
        if i % 2 == 0:
            common = {"employee": booked, "period_start": D(2026, 1, 1)}
            LedgerEntry.objects.create(kind="contracted", hours=Decimal(40), source="employee", **common)
            LedgerEntry.objects.create(kind="assigned", hours=Decimal(25), source="assignment", **common)
    for i in range(2):
        pending = make_employee(tree.dept, state="pending", contract=40, employee_number=f"P-{i}")
        EmployeeTagFactory(employee=pending, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    LedgerEntry.objects.create(
        employee=pending, kind="contracted", hours=Decimal(40), period_start=D(2026, 1, 1), source="employee"
    )
    _floor(D(2026, 3, 2))


@pytest.mark.postgres
@pytest.mark.parametrize(("limit", "last"), [(5, "B-1"), (10, "P-0")])
def test_a_page_of_non_fitters_is_decided_by_visiting_the_holders_in_order_of_their_best_key(
    case, tree, make_employee, make_assignment, limit, last
):
    """Visiting exactly the page (4 × limit + 20 would reach everyone), the holders' visit decides it where the first
    visit cannot (one fits): a page of 5 ends at B-1 (82.5, 15 h), before B-2's best possible key only by number — had
    the ledger's bound put B-2 or B-4 below B-3 or B-5, the visit would have taken the wrong two; a page of 10 ends at
    P-0 (80, 40 h), before P-1 by number, which needs P-1's bound although it is not active. ``fitting`` is exact:
    nobody unvisited could fit. The bodies equal ranking everyone in Python."""
    _holders_visit_case(case, tree, make_employee, make_assignment)
    sides = []
    body = _visiting_exactly_the_page(case, limit=limit, sides=sides)
    assert sides == ["holders visit"]
    assert body["fitting"] == 1
    assert body["fitting_exact"] is True
    numbers = [r["employee_number"] for r in body["results"]]
    assert numbers[:5] == ["E-FIT", "E-RULE", "E-NOHOURS", "B-0", "B-1"]
    assert numbers[-1] == last
    assert [r["score"] for r in body["results"][3:]] == [82.5] * min(6, limit - 3) + [80.0] * (limit == 10)


@pytest.mark.postgres
def test_a_page_decided_by_the_holders_visit_starts_neither_the_qualified_nor_the_holders_nor_the_pool(
    case, tree, make_employee, make_assignment
):
    """When the holders' visit decides the page, PostgreSQL never starts the exact keys of all the qualified, of all
    the holders or of the pool; it does start the holders' best possible keys and the visited ones' exact keys."""
    _holders_visit_case(case, tree, make_employee, make_assignment)
    lines = _plan_lines(_march_shortlist_args(case, 5))
    # the holders' best keys stream into the visit's top-N (ADR 0050: not materialized), read as ``hv_visit``
    names = ("hv_visit", "hv_keyed", "q_keyed", "h_keyed", "keyed")
    scans = {name: [line for line in lines if f"CTE Scan on {name} " in line] for name in names}
    assert all(scans.values()), lines
    assert any("never executed" not in line for line in scans["hv_visit"] + scans["hv_keyed"]), "\n".join(lines)
    assert all("never executed" in line for name in names[2:] for line in scans[name]), "\n".join(lines)


@pytest.mark.postgres
def test_a_holder_booked_exactly_to_the_limit_keeps_the_rules_part_in_their_best_key(
    case, tree, make_employee, make_assignment
):
    """Beside the holders' visit case, E-EDGE (contract 36, one 20 h assignment over the whole window: committed-hours
    bound 20 h) passes MAX40 exactly (20 + 20 = 40 h) but has 16 h free: it does not fit and scores 94, second after
    E-FIT. Its best possible key must keep the rules part (ADR 0049: surely failing only when the bound plus the
    request's hours is *above* the limit); counted as blocked it would sit at 84, below E-RULE and E-NOHOURS, and a
    visit of exactly the page would stop before it. Visiting exactly the page for every limit from 1 to 6, the body
    equals ranking everyone in Python, with E-EDGE second."""
    from apps.demand.tests.test_candidate_bounds import _table

    _holders_visit_case(case, tree, make_employee, make_assignment)
    edge = make_employee(tree.dept, contract=36, employee_number="E-EDGE")
    EmployeeTagFactory(employee=edge, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    make_assignment(edge, case.other, hours=20, start=D(2026, 1, 5))
    assert _table()[edge.pk][3] == 2000  # the committed-hours bound, in cents
    sides = []
    for limit in range(1, 7):
        body = _visiting_exactly_the_page(case, limit=limit, sides=sides)
        numbers = [r["employee_number"] for r in body["results"]]
        assert numbers[:2] == ["E-FIT", "E-EDGE"][:limit]
        if limit >= 2:
            assert body["results"][1]["score"] == 94.0
    assert "holders visit" in sides, sides


@pytest.mark.postgres
@pytest.mark.parametrize("extra", ["B-9", "U-TWICE"])
def test_the_holders_visit_stops_only_before_every_unvisited_holders_best_key(
    case, tree, make_employee, make_assignment, extra
):
    """Beside the holders' visit case, either B-9 (booked 25 h like B-0..B-5, on the ledger, three free days in April:
    week bound 25.72 h, so it is visited among the 90s although it scores 82.5 — last of the tie by number) or U-TWICE
    (80 h, two 15 h assignments one after the other: MAX40 undecided in SQL, 20 + 15 fits in Python, 65 h free, the
    first of the page). Visiting exactly the page for every limit from 1 to 12, the body equals ranking everyone in
    Python: the gate must not stop at B-9 before B-1 (same score and free hours, a smaller number: a page of 5), nor at
    E-FIT before U-TWICE (undecided: it could fit; a page of 1)."""
    from apps.demand.tests.test_candidate_bounds import _floor, _table

    _holders_visit_case(case, tree, make_employee, make_assignment)
    person = make_employee(tree.dept, contract=40 if extra == "B-9" else 80, employee_number=extra)
    EmployeeTagFactory(employee=person, tag=case.forklift, level=2, valid_from=D(2026, 1, 1))
    if extra == "B-9":
        make_assignment(person, case.other, hours=25, start=D(2026, 1, 5))
        common = {"employee": person, "source": "assignment", "kind": "assigned", "hours": Decimal(25)}
        LedgerEntry.objects.create(
            employee=person, kind="contracted", hours=Decimal(40), period_start=D(2026, 1, 1), source="employee"
        )
        LedgerEntry.objects.create(period_start=D(2026, 1, 1), period_end=D(2026, 4, 9), **common)
        LedgerEntry.objects.create(period_start=D(2026, 4, 13), **common)
    else:
        make_assignment(person, case.other, hours=15, start=D(2026, 2, 2), end=D(2026, 3, 10))
        make_assignment(person, case.other, hours=15, start=D(2026, 3, 16), end=D(2026, 5, 10))
    _floor(D(2026, 3, 2))
    if extra == "B-9":
        assert _table()[person.pk][2] == 2572  # (3 × 40 + 4 × 15) / 7 h, rounded up to the cent
    sides = []
    for limit in range(1, 13):
        body = _visiting_exactly_the_page(case, limit=limit, sides=sides)
        numbers = [r["employee_number"] for r in body["results"]]
        assert numbers[0] == ("E-FIT" if extra == "B-9" else "U-TWICE")
        assert (extra in numbers) == (limit >= (10 if extra == "B-9" else 1))
    # B-9 undecides pages 4 to 9 (it ends each of them once visited), U-TWICE every page (visited first, undecided)
    assert ("holders visit" in sides) == (extra == "B-9"), sides
