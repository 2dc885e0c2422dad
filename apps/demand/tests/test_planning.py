"""Auto-plan: the solver on crafted cases, the engine's last word, explanations, the API, apply."""

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.api.models import Employee, Position
from apps.api.tests.factories import PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import assignment_transition
from apps.business_rules.tests.factories import BusinessRuleFactory
from apps.demand.models import Plan, PlanStatus
from apps.demand.periods import Period
from apps.demand.planning.compute import plan_compute
from apps.demand.planning.greedy import greedy_plan
from apps.demand.planning.problem import problem_build
from apps.demand.planning.services import plan_apply, plan_run
from apps.demand.planning.solver import solve
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.demand.tests.factories import CoverageRequirementFactory
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory, TagCatalogFactory
from apps.users.tests.factories import UserFactory

URL = "/api/coverage/plans/"
START, END = D(2027, 1, 4), D(2027, 1, 31)  # four whole ISO weeks
PERIOD = Period(START, END)
BODY = {"from": "2027-01-04", "to": "2027-01-31"}


def _compute(**options):
    return plan_compute(
        period=PERIOD,
        positions=Position.objects.all(),
        pool=Employee.objects.all(),
        today=timezone.localdate(),
        **options,
    )


@pytest.fixture
def contested(tree, make_employee):
    """ICU needs ICU-CERT ≥ 2 (priority 3); DESK needs nothing (priority 1). Only ANA holds the cert; BEN does not.

    Greedy (best candidate per position in priority order) gives DESK the first best candidate, ANA, and leaves
    ICU empty; the optimum puts ANA on ICU and BEN on DESK.
    """
    icu = PositionFactory(code="ICU", org_unit=tree.dept)
    desk = PositionFactory(code="DESK", org_unit=tree.dept)
    cert = TagCatalogFactory(code="ICU-CERT")
    PositionTagFactory(position=icu, tag=cert, min_level=2)
    CoverageRequirementFactory(position=icu, valid_from=START, required_weekly_hours=40, priority=3)
    CoverageRequirementFactory(position=desk, valid_from=START, required_weekly_hours=40, priority=1)
    ana = make_employee(tree.dept, employee_number="E-ANA")
    ben = make_employee(tree.dept, employee_number="E-BEN")
    EmployeeTagFactory(employee=ana, tag=cert, level=3)
    return {"icu": icu, "desk": desk, "ana": ana, "ben": ben, "cert": cert}


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """``post(client, url, body)``: a POST whose on-commit work (queueing the solve) runs, as after a real commit."""

    def _post(client, url, body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, format="json")

    return _post


def _pairs(results) -> set:
    return {(p["employee"], p["position"], p["weekly_hours"]) for p in results["proposals"]}


def test_solver_gives_the_scarce_skill_to_the_only_position_that_needs_it(contested):
    results = _compute()
    c = contested
    assert _pairs(results) == {(c["ana"].pk, c["icu"].pk, "40.00"), (c["ben"].pk, c["desk"].pk, "40.00")}
    assert results["metrics"]["gap_hours_closed"] == "320.00"
    assert results["metrics"]["fill_rate"] == 1.0
    assert results["metrics"]["solver_status"] == "OPTIMAL"
    assert results["metrics"]["optimality_gap"] == 0.0
    assert results["gaps"] == []


def test_greedy_baseline_fails_the_contested_case_and_the_solver_does_not(contested):
    problem = problem_build(
        period=PERIOD, positions=Position.objects.all(), pool=Employee.objects.all(), today=timezone.localdate()
    )
    greedy = greedy_plan(problem)
    best = solve(problem, seed=1)
    assert greedy.closed_hours == 160  # DESK only: ANA went there first
    assert sum(best.fill.values()) / 100 == 320


def test_same_input_and_seed_give_the_same_plan(contested, tree, make_employee):
    for number in range(6):  # interchangeable people: only the seed and the order decide between them
        make_employee(tree.dept, employee_number=f"E-X{number}", contract=20)
    first, second = _compute(seed=7), _compute(seed=7)
    assert first["proposals"] == second["proposals"]
    assert first["metrics"]["objective"] == second["metrics"]["objective"]


def test_small_instance_reaches_the_brute_force_optimum(tree, make_employee):
    """Three people, three positions, two tags: every assignment of people to positions enumerated by hand."""
    a, b = TagCatalogFactory(code="A"), TagCatalogFactory(code="B")
    p1, p2, p3 = (PositionFactory(code=f"P{i}", org_unit=tree.dept) for i in (1, 2, 3))
    PositionTagFactory(position=p1, tag=a)
    PositionTagFactory(position=p2, tag=b)
    for p, hours in ((p1, 30), (p2, 30), (p3, 20)):
        CoverageRequirementFactory(position=p, valid_from=START, required_weekly_hours=hours)
    x = make_employee(tree.dept, contract=40)
    y = make_employee(tree.dept, contract=30)
    z = make_employee(tree.dept, contract=20)
    EmployeeTagFactory(employee=x, tag=a)
    EmployeeTagFactory(employee=x, tag=b)
    EmployeeTagFactory(employee=y, tag=b)
    results = _compute(weights={"changes": 0, "fairness": 0, "continuity": 0})
    qualified = {p1.pk: {x.pk}, p2.pk: {x.pk, y.pk}, p3.pk: {x.pk, y.pk, z.pk}}
    capacity = {x.pk: 40, y.pk: 30, z.pk: 20}
    need = {p1.pk: 30, p2.pk: 30, p3.pk: 20}
    best = 0
    # whole hours per (person, position), in steps of 5 (the optimum here lies on them), capacity respected
    keys = [(e, p) for p in need for e in qualified[p]]
    for hours in itertools.product(range(0, 41, 5), repeat=len(keys)):
        load = dict.fromkeys(capacity, 0)
        got = dict.fromkeys(need, 0)
        for (e, p), h in zip(keys, hours, strict=True):
            if h and h < 4:
                break
            load[e] += h
            got[p] += h
        if any(load[e] > capacity[e] for e in load):
            continue
        best = max(best, sum(min(got[p], need[p]) for p in need))
    assert best == 80  # x: 30 on P1 + 10 on P2, y: 20 on P2 + 10 on P3, z: 10 on P3 (or similar)
    assert Decimal(results["metrics"]["gap_hours_closed"]) == best * 4  # four weeks
    assert results["metrics"]["solver_status"] == "OPTIMAL"


def test_every_proposal_of_a_solved_plan_is_approved_by_the_engine(contested, tree, make_employee, make_assignment):
    """Block rules of every kind the solver models or hands to the engine; approving each proposal must pass."""
    c = contested
    BusinessRuleFactory(code="MAX40", rule_type="max_weekly_hours", params={"max_hours": 40})
    BusinessRuleFactory(code="ONE_JOB", rule_type="max_concurrent_assignments", params={"max": 1})
    BusinessRuleFactory(code="BOUNDS", rule_type="assignment_hours_bounds", params={"min_hours": 8, "max_hours": 30})
    BusinessRuleFactory(code="ACTIVE", rule_type="employee_state", params={"states": ["active"]})
    BusinessRuleFactory(code="TAGS", rule_type="required_tags", params={}, events=["assignment.create"])
    BusinessRuleFactory(code="NOT_AFTER_END", rule_type="before_termination", params={})
    BusinessRuleFactory(code="REASON", rule_type="reason_required", params={"min_length": 5})
    busy = make_employee(tree.dept, employee_number="E-BUSY", contract=60)
    make_assignment(busy, c["desk"], hours=30, start=D(2026, 12, 1))  # already 30 h on DESK: MAX40 leaves 10
    for number in range(4):
        make_employee(tree.dept, employee_number=f"E-P{number}", contract=40)
    leaving = make_employee(tree.dept, employee_number="E-LEAVING", termination_date=D(2027, 1, 20))
    EmployeeTagFactory(employee=leaving, tag=c["cert"], level=5)
    actor = UserFactory(role="admin")
    plan = Plan.objects.create(period_start=START, period_end=END, created_by=actor)
    assert plan_run(plan_id=plan.pk) == PlanStatus.SOLVED
    plan.refresh_from_db()
    proposals = plan.results["proposals"]
    assert proposals, plan.results
    assert all(Decimal(p["weekly_hours"]) <= 30 for p in proposals)  # BOUNDS
    assert leaving.pk not in {p["employee"] for p in proposals}  # leaves before the end
    assert len({p["employee"] for p in proposals}) == len(proposals)  # ONE_JOB
    outcome = plan_apply(plan_id=plan.pk, actor=actor)
    for assignment_id in outcome["assignments"]:  # one by one, as a person would
        assignment_transition(assignment_id=assignment_id, name="approve", actor=actor, reason="Auto-plan check")
    assert Assignment.objects.filter(pk__in=outcome["assignments"], state="approved").count() == len(proposals)


def test_remaining_gaps_say_why_in_words(tree, make_employee, make_assignment):
    icu = PositionFactory(code="ICU", org_unit=tree.dept)
    ward = PositionFactory(code="WARD", org_unit=tree.dept)
    other = PositionFactory(code="OTHER", org_unit=tree.dept)
    cert, nurse = TagCatalogFactory(code="ICU-CERT"), TagCatalogFactory(code="NURSE")
    PositionTagFactory(position=icu, tag=cert, min_level=2)
    PositionTagFactory(position=ward, tag=nurse)
    CoverageRequirementFactory(position=icu, valid_from=START, required_weekly_hours=40)
    CoverageRequirementFactory(position=ward, valid_from=START, required_weekly_hours=40)
    for number in range(3):
        full = make_employee(tree.dept, employee_number=f"E-FULL{number}")
        EmployeeTagFactory(employee=full, tag=nurse)
        make_assignment(full, other, hours=40, start=D(2026, 12, 1))
    results = _compute()
    reasons = {g["position_code"]: g["reasons"] for g in results["gaps"]}
    assert reasons["ICU"] == [f"no active employee holds ICU-CERT level ≥ 2 valid {START} through {END}"]
    assert reasons["WARD"][0].startswith("the 3 people who qualify are at their 40 h maximum that week")
    assert len(results["gaps"]) == 8  # two positions × four weeks
    assert results["metrics"]["fill_rate"] == 0.0


# --- the API --------------------------------------------------------------------------------------------------


def test_post_answers_202_with_the_plan_url_and_get_shows_it_solved(contested, client_for, post):
    client = client_for("hr")
    response = post(client, URL, {**BODY, "seed": 3, "objective": {"fairness": 0}})
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"{URL}{body['id']}/")
    detail = client.get(body["url"]).json()
    assert detail["status"] == "solved"  # COVERIS_JOBS=inline in tests
    assert detail["progress"] == 100
    assert detail["weights"]["fairness"] == 0
    assert {p["position_code"] for p in detail["proposals"]} == {"ICU", "DESK"}
    assert [p["index"] for p in detail["proposals"]] == [0, 1]
    proposal = detail["proposals"][0]
    assert {"employee", "position", "start", "end", "weekly_hours", "fills", "score", "reasons", "warnings"} <= set(
        proposal
    )
    assert set(proposal["score"]) == {"coverage", "warnings", "continuity", "changes"}
    row = detail["coverage"][0]
    assert {"gap_hours_before", "gap_hours_after", "assigned_hours_before", "assigned_hours_after"} <= set(row)
    metrics = detail["metrics"]
    for key in ("gap_hours_closed", "fill_rate", "utilisation", "solver_status", "optimality_gap", "time_seconds"):
        assert key in metrics


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2027-01-31", "to": "2027-01-04"}, "to"),
        ({"from": "2027-01-04", "to": "2027-12-31"}, "to"),
        ({**BODY, "objective": {"speed": 3}}, "objective"),
        ({**BODY, "objective": {"coverage": -1}}, "objective"),
        ({**BODY, "positions": [999999]}, "positions"),
        ({**BODY, "org_unit": 999999}, "org_unit"),
        ({**BODY, "seed": "x"}, "seed"),
        ({**BODY, "time_limit": 0}, "time_limit"),
        ({"to": "2027-01-31"}, "from"),
    ],
)
def test_bad_plan_requests_are_400_and_write_nothing(client_for, post, tree, body, field):
    response = post(client_for("admin"), URL, body)
    assert_error(response, 400, "validation_error", field)
    assert not Plan.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("auditor", 403), ("employee", 403), ("none", 403), ("anonymous", 401)])
def test_only_planners_create_plans(client_for, post, role, status):
    response = post(client_for(role), URL, BODY)
    assert response.status_code == status
    assert not Plan.objects.exists()


def test_managers_plan_within_their_subtree_and_auditors_read(contested, client_for, post, tree, position_out):
    manager = client_for("manager")
    response = post(manager, URL, {**BODY, "positions": [position_out.pk]})
    assert_error(response, 400, "validation_error", "positions")  # OTHER is outside DEPT
    response = post(manager, URL, BODY)
    assert response.status_code == 202
    plan = Plan.objects.get()
    assert plan.org_unit == tree.dept
    other = Plan.objects.create(period_start=START, period_end=END, org_unit=tree.other)
    listed = {p["id"] for p in manager.get(URL).json()["results"]}
    assert listed == {plan.pk}
    assert manager.get(f"{URL}{other.pk}/").status_code == 404
    auditor = client_for("auditor")
    assert {p["id"] for p in auditor.get(URL).json()["results"]} == {plan.pk, other.pk}
    assert post(auditor, f"{URL}{plan.pk}/apply/", {}).status_code == 403


def test_plan_list_filters_and_caps_its_queries(client_for, tree):
    for status in ("queued", "solved", "failed"):
        Plan.objects.create(period_start=START, period_end=END, status=status, org_unit=tree.dept)
    client = client_for("admin")
    few, _ = count_queries(client, f"{URL}?status=solved")
    for _ in range(10):
        Plan.objects.create(period_start=START, period_end=END, status="solved", org_unit=tree.team)
    many, response = count_queries(client, f"{URL}?status=solved")
    assert few == many <= 4
    assert response.json()["count"] == 11
    assert client.get(f"{URL}?org_unit={tree.team.pk}").json()["count"] == 10
    assert client.get(f"{URL}?covers=2027-01-10").json()["count"] == 13
    assert_error(client.get(f"{URL}?status=nope"), 400, "validation_error", "status")


# --- apply ----------------------------------------------------------------------------------------------------


def _solved(client, post):
    response = post(client, URL, BODY)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_apply_creates_proposed_assignments_citing_the_plan_and_can_approve(contested, client_for, post):
    client = client_for("hr")
    plan_id = _solved(client, post)
    response = post(client, f"{URL}{plan_id}/apply/", {"approve": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "applied"
    ids = [row["assignment"] for row in body["applied"]["assignments"]]
    assigned = Assignment.objects.filter(pk__in=ids)
    assert {a.state for a in assigned} == {"approved"}
    assert all(f"Auto-plan #{plan_id}" in a.notes for a in assigned)
    logs = AssignmentTransitionLog.objects.filter(assignment__in=ids)
    assert logs.count() == 2
    assert {log.reason for log in logs} == {f"Auto-plan #{plan_id}"}
    again = post(client, f"{URL}{plan_id}/apply/", {})
    assert_error(again, 409, "conflict")


def test_apply_keeps_the_callers_reason_and_effective_date_and_only_admins_override(contested, client_for, post):
    client = client_for("hr")
    plan_id = _solved(client, post)
    refused = post(client, f"{URL}{plan_id}/apply/", {"override_reason": "urgent"})
    assert_error(refused, 403, "permission_denied")
    assert not Assignment.objects.exists()
    body = {"approve": True, "reason": "January cover", "effective_date": "2027-01-04"}
    response = post(client, f"{URL}{plan_id}/apply/", body)
    assert response.status_code == 200, response.content
    logs = AssignmentTransitionLog.objects.all()
    assert {(log.reason, str(log.effective_date)) for log in logs} == {
        (f"Auto-plan #{plan_id}: January cover", "2027-01-04")
    }


def test_apply_a_subset_leaves_the_rest(contested, client_for, post):
    client = client_for("admin")
    plan_id = _solved(client, post)
    response = post(client, f"{URL}{plan_id}/apply/", {"proposals": [1]})
    assert response.status_code == 200, response.content
    assert Assignment.objects.count() == 1
    assert_error(
        post(client, f"{URL}{_solved(client, post)}/apply/", {"proposals": [7]}), 400, "validation_error", "proposals"
    )


def test_apply_answers_what_is_stale_then_force_revalidate_rechecks(contested, client_for, post, make_assignment):
    client = client_for("admin")
    plan_id = _solved(client, post)
    make_assignment(contested["ben"], contested["icu"], state="proposed", hours=8)  # BEN got busier meanwhile
    response = post(client, f"{URL}{plan_id}/apply/", {})
    error = assert_error(response, 409, "conflict", "stale")
    assert error["details"]["stale"] == [
        {
            "kind": "employee",
            "employee": contested["ben"].pk,
            "message": f"employee {contested['ben'].pk}: state, assignments, hours ledger or tags changed",
        }
    ]
    assert Plan.objects.get(pk=plan_id).status == PlanStatus.STALE
    assert Assignment.objects.count() == 1
    response = post(client, f"{URL}{plan_id}/apply/", {"force_revalidate": True})
    assert response.status_code == 200, response.content
    assert Assignment.objects.count() == 3


def test_apply_is_all_or_nothing_when_a_rule_now_refuses_one(contested, client_for, post):
    client = client_for("admin")
    plan_id = _solved(client, post)
    BusinessRuleFactory(
        code="NO_DESK",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 10},
        events=["assignment.create"],
        position=contested["desk"],
    )
    stale = post(client, f"{URL}{plan_id}/apply/", {})
    assert assert_error(stale, 409, "conflict")["details"]["stale"][0]["rule"] == "NO_DESK"
    refused = post(client, f"{URL}{plan_id}/apply/", {"force_revalidate": True})
    error = assert_error(refused, 422, "rule_violation")
    assert error["details"]["violations"][0]["blocks"][0]["rule"] == "NO_DESK"
    assert not Assignment.objects.exists()


# --- warnings ---------------------------------------------------------------------------------------------------


def test_a_proposal_that_trips_a_warn_rule_says_so_and_applying_needs_the_acknowledgement(contested, client_for, post):
    BusinessRuleFactory(
        code="SHORT_WEEKS",
        rule_type="assignment_hours_bounds",
        params={"max_hours": 30},
        severity="warn",
        events=["assignment.create", "assignment.approve"],
    )
    client = client_for("admin")
    plan_id = _solved(client, post)
    proposals = client.get(f"{URL}{plan_id}/").json()["proposals"]
    flagged = [p for p in proposals if p["warnings"]]
    assert flagged
    assert {w["rule"] for p in flagged for w in p["warnings"]} == {"SHORT_WEEKS"}
    refused = post(client, f"{URL}{plan_id}/apply/", {})
    assert assert_error(refused, 422, "rule_violation")["details"]["acknowledge_warnings_required"] is True
    assert not Assignment.objects.exists()
    done = post(client, f"{URL}{plan_id}/apply/", {"acknowledge_warnings": True})
    assert done.status_code == 200, done.content
    assert Assignment.objects.count() == len(proposals)


def test_serving_the_api_and_the_admin_does_not_import_the_solver_library():
    """OR-Tools (and the pandas and numpy it brings) is imported by the solve only: a process that loads the URLs, the
    admin and the plan endpoints' modules, as every server worker does, does not pay for it. Run in a fresh
    interpreter (this one may have solved already); it fails if any module imports ``ortools`` at import time."""
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "import apps.demand.planning.services, apps.demand.planning.compute, apps.demand.planning.solver; "
        "print(sorted(m for m in ('ortools', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
