"""``manage.py seed_demo``: every state reached through real transitions, chains that verify, a ledger the API
reads, idempotent re-runs, deterministic plans, and a refusal under production-like settings."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from apps.api.management.commands.seed_demo import (
    DEMO_PASSWORD,
    RULES,
    Calendar,
    DemoSeeder,
    OrgView,
    PositionView,
    plan_employee,
)
from apps.api.models import Employee, OrgUnit, Position
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.business_rules.models import BusinessRule
from apps.demand.models import CoverageRequirement
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.selectors import state_drift, transition_log_models
from apps.offer.models import ClockEvent, LedgerEntry
from apps.tags.models import EmployeeTag, PositionTag, TagChangeLog
from apps.users.models import User
from backend.audit.chain import chain_verify_all

N = 30
EMPLOYEE_STATES = {"pending", "active", "on_leave", "suspended", "terminated"}
ASSIGNMENT_STATES = {"proposed", "approved", "active", "completed", "rejected", "cancelled"}
COUNTED = [
    OrgUnit,
    Position,
    Employee,
    EmployeeTag,
    PositionTag,
    TagChangeLog,
    CoverageRequirement,
    BusinessRule,
    User,
    Assignment,
    EmployeeTransitionLog,
    AssignmentTransitionLog,
    LedgerEntry,
    ClockEvent,
]


@pytest.fixture
def debug(settings):
    """``seed_demo`` runs only with DEBUG on (pytest turns it off)."""
    settings.DEBUG = True


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{"employees": N, **options})
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def seeded(db, debug) -> str:
    return seed()


def test_every_employee_and_assignment_state_is_reached_and_the_chains_verify(seeded):
    employees = Employee.objects.filter(employee_number__startswith="DEMO-")
    assert employees.count() == N
    assert set(employees.values_list("state", flat=True)) == EMPLOYEE_STATES
    assert set(Assignment.objects.values_list("state", flat=True)) == ASSIGNMENT_STATES
    assert all(report.ok for report in chain_verify_all())
    # Every state was reached through the transition service: the logs say what the rows say.
    assert all(state_drift(model) == [] for model in transition_log_models())
    assert EmployeeTransitionLog.objects.filter(transition="terminate", reason="").count() == 0  # DEMO_REASON


def test_the_organisation_has_its_tree_positions_demand_tags_rules_and_users(seeded):
    root = OrgUnit.objects.get(code="DEMO")
    divisions = OrgUnit.objects.filter(parent=root)
    assert 3 <= divisions.count() <= 4
    for division in divisions:
        assert 2 <= division.children.count() <= 4
    assert all(p.tags.filter(required=True).exists() for p in Position.objects.all())
    assert CoverageRequirement.objects.count() >= Position.objects.count()
    assert any(r.valid_from.weekday() == 2 for r in CoverageRequirement.objects.all())  # some start mid-week
    assert set(BusinessRule.objects.filter(code__startswith="DEMO_").values_list("code", flat=True)) == {
        code for code, *_ in RULES
    }
    # Every employee and position tag was logged as added.
    assert TagChangeLog.objects.count() == EmployeeTag.objects.count() + PositionTag.objects.count()
    roles = dict(User.objects.filter(email__endswith="@demo.coveris.test").values_list("email", "role"))
    assert roles == {
        "admin@demo.coveris.test": "admin",
        "hr@demo.coveris.test": "hr",
        "manager@demo.coveris.test": "manager",
        "auditor@demo.coveris.test": "auditor",
        "employee@demo.coveris.test": "employee",
    }
    assert User.objects.get(email="manager@demo.coveris.test").org_unit.parent == root
    assert "employee@demo.coveris.test" in seeded
    assert DEMO_PASSWORD in seeded


def test_transitions_posted_to_the_ledger_and_the_employee_user_clocked_its_shifts(seeded):
    own = Employee.objects.get(user__email="employee@demo.coveris.test")
    assert own.state == "active"
    shifts = ClockEvent.objects.filter(employee=own)
    assert shifts.count() == 3
    assert not shifts.filter(clock_out_at__isnull=True).exists()
    assert set(shifts.values_list("clocked_in_by__email", flat=True)) == {"employee@demo.coveris.test"}
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {"contracted", "assigned", "leave", "worked"} <= kinds
    assert LedgerEntry.objects.filter(reverses__isnull=False).exists()  # completions, cancellations, terminations
    assert set(EmployeeTransitionLog.objects.values_list("request_id", flat=True)) == {"seed-demo"}


def test_the_balances_endpoint_answers_the_demo_employee_signed_in_with_the_demo_password(seeded):
    own = Employee.objects.get(user__email="employee@demo.coveris.test")
    client = APIClient()
    login = client.post(
        "/api/auth/login/", {"email": "employee@demo.coveris.test", "password": DEMO_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    day = ClockEvent.objects.filter(employee=own).latest("day").day

    response = client.get("/api/hours-ledger/balances/", {"from": day.isoformat(), "to": day.isoformat()})

    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    assert row["employee"] == own.pk
    assert float(row["contracted"]) == float(own.contracted_weekly_hours)
    assert float(row["worked"]) > 0
    assert float(row["assigned"]) > 0


def test_a_second_run_with_the_same_or_fewer_employees_changes_nothing_and_says_so(seeded):
    before = counts()
    out = seed()
    assert "Nothing to do" in out
    assert "Nothing to do" in seed(employees=5)
    assert counts() == before


def test_a_larger_run_adds_only_the_missing_employees(seeded):
    first = dict(Employee.objects.values_list("employee_number", "state"))
    before = counts()

    out = seed(employees=N + 6)

    assert "found: adding only what is missing" in out
    after = dict(Employee.objects.values_list("employee_number", "state"))
    assert len(after) == N + 6
    assert {k: after[k] for k in first} == first
    assert counts()["OrgUnit"] == before["OrgUnit"]
    assert counts()["BusinessRule"] == before["BusinessRule"]
    assert all(report.ok for report in chain_verify_all())


def test_refuses_with_debug_off_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed(employees=3)
    assert not OrgUnit.objects.filter(code="DEMO").exists()
    assert User.objects.count() == 0

    seed(employees=3, force=True, quiet=True)
    assert Employee.objects.count() == 3


def test_quiet_prints_nothing(db, debug):
    assert seed(employees=3, quiet=True) == ""


def test_bad_sizes_are_refused(db, debug):
    with pytest.raises(CommandError):
        seed(employees=-1)
    with pytest.raises(CommandError):
        seed(batch=0)


def test_batches_do_not_change_what_is_built(db, debug):
    seed(employees=12, batch=5, quiet=True)
    assert set(Employee.objects.values_list("state", flat=True)) == EMPLOYEE_STATES
    assert all(report.ok for report in chain_verify_all())


# --- the plan -------------------------------------------------------------------------------------------------

ORG = OrgView(
    teams=(
        ("T1", (PositionView("T1-P1", (("forklift", 2, True),)), PositionView("T1-P2", (("first-aid", 1, True),)))),
        ("T2", (PositionView("T2-P1", (("cleaning", 1, True), ("lang-nl", 2, False))),)),
    ),
    certifications=frozenset({"first-aid"}),
)
CAL = Calendar(datetime.date(2026, 6, 17))


def test_an_employee_plan_depends_only_on_the_seed_and_its_index():
    assert plan_employee(42, 17, ORG, CAL) == plan_employee(42, 17, ORG, CAL)
    assert plan_employee(42, 17, ORG, CAL) != plan_employee(43, 17, ORG, CAL)
    assert [plan_employee(7, i, ORG, CAL).number for i in (0, 9, 99)] == ["DEMO-00001", "DEMO-00010", "DEMO-00100"]


def test_plans_follow_the_calendar_and_the_lifecycle():
    for index in range(300):
        plan = plan_employee(42, index, ORG, CAL)
        steps = [step.name for step in plan.later]
        if plan.state == "pending":
            assert plan.hire_date > CAL.today
            assert not plan.activate
            assert not steps
        else:
            assert plan.hire_date <= CAL.today - datetime.timedelta(weeks=3)
        for assignment in plan.assignments:
            assert assignment.end is None or assignment.end >= assignment.start
        assert all(step.day <= CAL.today for a in plan.assignments for step in a.steps)
        expected = {"on_leave": ["start_leave"], "terminated": ["terminate"]}.get(plan.state)
        if expected:
            assert steps == expected
        if plan.state == "suspended":
            assert steps[-1] == "suspend"
        assert all(shift_out > shift_in for shift_in, shift_out in plan.shifts)


def test_the_seeder_reports_what_it_built(db, debug):
    lines: list[str] = []
    seeder = DemoSeeder(seed=42, batch=100, say=lines.append)
    assert seeder.ensure_organisation(10) is True
    assert seeder.ensure_organisation(10) is False
    assert seeder.add_employees(10) == 10
    assert seeder.add_employees(10) == 0
    assert any(line.startswith("batch 1/1: 10 employees") for line in lines)


@pytest.mark.postgres
def test_ends_with_analyze_so_the_planner_knows_the_new_rows(db, debug):
    from django.db import connection

    output = seed()
    assert "ANALYZE: planner statistics refreshed" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Employee._meta.db_table])
        assert cursor.fetchone()[0] == N  # -1 (never analyzed) without it


def test_requirements_for_a_huge_organisation_fit_their_column(db, debug):
    """At 100,000 employees a position's base requirement would overflow the 7-digit hours column: it is capped."""
    import random

    from apps.api.management.commands.seed_demo import MAX_REQUIRED_HOURS
    from apps.api.tests.factories import PositionFactory

    positions = [PositionFactory(standard_weekly_hours=40) for _ in range(3)]
    DemoSeeder(seed=1, batch=10, say=lambda line: None)._requirements(random.Random(1), positions, employees=100_000)
    base = CoverageRequirement.objects.filter(notes="Base staffing")
    assert base.count() == 3
    assert all(r.required_weekly_hours <= MAX_REQUIRED_HOURS for r in base)
    assert max(r.required_headcount for r in base) == 2499  # 99,999.99 h // 40 h


# --- the demo shows the product (issue 9): proposals an HR user can approve, and some that explain a refusal ------


def _dry_run_approvals() -> list:
    """Every demo proposal's ``approve``, dry-run by the demo HR user through the transition service and its rules."""
    from apps.assignments.services import ASSIGNMENT_TRANSITIONS
    from apps.fsm.services import TransitionRequest, transition_perform

    hr = User.objects.get(email="hr@demo.coveris.test")
    request = TransitionRequest(name="approve", actor=hr, dry_run=True)
    proposals = Assignment.objects.filter(state="proposed").order_by("pk").values_list("pk", flat=True)
    return [transition_perform(kind=ASSIGNMENT_TRANSITIONS, pk=pk, request=request) for pk in proposals]


def _failing(outcome, severity: str) -> set[str]:
    return {r["rule"] for r in outcome.rule_results if r["outcome"] == "fail" and r["severity"] == severity}


def test_most_demo_proposals_are_approvable_and_the_others_name_the_rule_that_blocks_them(db, debug):
    seed(employees=100, quiet=True)
    before = counts()

    outcomes = _dry_run_approvals()

    assert len(outcomes) >= 5
    approvable = [o for o in outcomes if not _failing(o, "block")]
    blocked = [o for o in outcomes if _failing(o, "block")]
    warned = [o for o in outcomes if _failing(o, "warn")]
    assert len(approvable) > len(outcomes) / 2, [(o.instance.pk, o.blocked_by, o.rule_results) for o in outcomes]
    # The first proposal an HR user approves can succeed as it is: some pass every rule, warnings included.
    assert any(o.allowed and o.blocked_by is None for o in approvable)
    assert blocked
    assert all(o.blocked_by == "rule_violation" and o.allowed is False for o in blocked)
    assert {rule for o in blocked for rule in _failing(o, "block")} <= {code for code, *_ in RULES}
    assert warned
    assert all(o.blocked_by == "warnings_not_acknowledged" for o in warned if not _failing(o, "block"))
    assert counts() == before  # dry runs write nothing


# --- the bulk load keeps every guarantee (issue 8): chains verify, rollups equal the live computation -----------


@pytest.mark.postgres
def test_after_the_load_every_chain_verifies_and_the_rollups_equal_the_live_computation(db, debug, monkeypatch):
    from django.db import connection

    from apps.audit_log.models import EmployeeEvent, EmployeeTagEvent
    from apps.demand import coverage, kpis, supply
    from apps.demand.models import RollupHorizon
    from apps.demand.tests.conftest import transitions_from_scratch, transitions_held
    from apps.demand.tests.test_rollups import _from_scratch, _held, _supply_from_scratch, _supply_held

    output = seed(employees=40)

    assert "Weekly rollups rebuilt from" in output
    reports = {report.table: report for report in chain_verify_all()}
    assert {"audit_log_employeeevent", "audit_log_employeetagevent", "offer_ledgerentry"} <= set(reports)
    assert all(report.ok for report in reports.values()), [r.as_dict() for r in reports.values() if not r.ok]
    # The change history of the bulk inserts: one sealed insert event per employee and per tag, as the triggers write.
    assert EmployeeEvent.objects.filter(pgh_label="insert").count() == Employee.objects.count()
    assert EmployeeTagEvent.objects.filter(pgh_label="insert").count() == EmployeeTag.objects.count()
    assert set(EmployeeTagEvent.objects.values_list("pgh_obj_id", flat=True)) == set(
        EmployeeTag.objects.values_list("pk", flat=True)
    )
    # ... and the per-row history trigger still fires inside a batch (its ignore check reads '{}': ignore nothing,
    # ADR 0037): every termination's UPDATE wrote one update event with the termination date, in the transition's
    # context.
    terminated = Employee.objects.filter(state="terminated")
    assert terminated.exists()
    updates = EmployeeEvent.objects.filter(pgh_label="update")
    assert sorted(updates.values_list("pgh_obj_id", "termination_date")) == sorted(
        terminated.values_list("pk", "termination_date")
    )
    assert {event.pgh_context["transition"] for event in updates} == {"terminate"}
    # The rollups hold a horizon again and equal a recomputation from the base tables ...
    assert RollupHorizon.objects.count() == 1
    assert _held()
    assert _held() == _from_scratch()
    assert _supply_held() == _supply_from_scratch()
    assert transitions_held() == transitions_from_scratch()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM api_employee e WHERE NOT EXISTS "
            "(SELECT 1 FROM offer_ledgerentry l WHERE l.employee_id = e.id)"
        )
        without_ledger = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM demand_ledgerlessemployee")
        assert cursor.fetchone()[0] == without_ledger
    # ... and the reports read from them equal the live computation, for the weeks around today.
    client = APIClient()
    client.force_authenticate(User.objects.get(email="hr@demo.coveris.test"))
    today = Calendar(datetime.date.today()).monday
    query = {
        "from": (today - datetime.timedelta(weeks=6)).isoformat(),
        "to": (today + datetime.timedelta(weeks=6)).isoformat(),
    }
    rolled = {url: client.get(url, query).json() for url in ("/api/kpis/", "/api/coverage/")}
    monkeypatch.setattr(coverage, "_from_rollup", lambda *args: None)
    monkeypatch.setattr(supply, "supply_totals_rolled", lambda **kwargs: None)
    monkeypatch.setattr(kpis, "supply_totals_rolled", lambda **kwargs: None)
    monkeypatch.setattr(kpis, "_transitions_rolled", lambda *args: None)
    assert {url: client.get(url, query).json() for url in rolled} == rolled
    monkeypatch.undo()
    # The triggers maintain the rollups again after the load: an approval moves them as a recomputation does.
    from apps.assignments.services import assignment_transition

    proposal = next(o.instance for o in _dry_run_approvals() if o.allowed)
    assignment_transition(
        assignment_id=proposal.pk, name="approve", actor=User.objects.get(email="hr@demo.coveris.test")
    )
    assert _held() == _from_scratch()
    assert _supply_held() == _supply_from_scratch()
    assert transitions_held() == transitions_from_scratch()


@pytest.mark.postgres
def test_a_load_that_fails_half_way_still_leaves_the_rollups_rebuilt(db, debug, monkeypatch):
    from apps.demand.models import RollupHorizon
    from apps.demand.tests.test_rollups import _from_scratch, _held

    horizon = RollupHorizon.objects.values_list("first_week", "last_week").get()

    def fail(self, plans):
        raise RuntimeError("disk full")

    seed(employees=12, batch=6, quiet=True)
    monkeypatch.setattr(DemoSeeder, "_write", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        seed(employees=24, batch=6, quiet=True)

    assert RollupHorizon.objects.values_list("first_week", "last_week").get() == horizon
    assert _held() == _from_scratch()


@pytest.mark.postgres  # ANALYZE and planner statistics are PostgreSQL's
def test_each_batch_analyses_what_its_transitions_read_inside_its_own_transaction(db, debug):
    """ADR 0043: the batch's rows are analysed before its assignment transitions and between their rounds, in the
    batch's transaction (nobody else can see them yet), so their queries are planned with statistics."""
    from django.db import connection

    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        output = seed(batch=20)
    assert "statistics in the load (ANALYZE)" in output
    in_load = [i for i, (sql, atomic) in enumerate(seen) if sql.startswith("ANALYZE ") and atomic]
    updates = [i for i, (sql, _) in enumerate(seen) if sql.startswith('UPDATE "assignments_assignment" SET "state"')]
    before = [i for i in in_load if '"api_employee"' in seen[i][0]]  # before the transitions: employees too
    between = [i for i in in_load if i not in before]
    assert len(before) == 2  # two batches (20 + 10 employees), each analysed once before its transitions
    assert len(between) >= 2  # ... and between their rounds
    assert all('"assignments_assignment"' in seen[i][0] and '"offer_ledgerentry"' in seen[i][0] for i in in_load)
    assert updates
    assert before[0] < updates[0]  # the first batch's statistics come before its first transition's update
    assert any(updates[0] < i < before[1] for i in between)  # and again after its first round


def test_each_batch_runs_with_the_cyclic_collector_paused_and_it_is_back_afterwards(db, debug, monkeypatch):
    """ADR 0052: the batch's objects live until it commits, so the collector does not walk them while it runs."""
    import gc

    seen = []
    write = DemoSeeder._write

    def recording(self, plans):
        seen.append(gc.isenabled())
        return write(self, plans)

    monkeypatch.setattr(DemoSeeder, "_write", recording)
    seed(batch=20)
    assert seen == [False, False]  # two batches (20 + 10 employees)
    assert gc.isenabled()


def test_a_phase_inside_another_counts_in_its_own_seconds_only(monkeypatch):
    """The printed phases add up to the load: seconds spent in a nested phase (the in-load ``ANALYZE`` inside a batch's
    transitions) are not counted in the phase around it too."""
    clock = iter([0.0, 1.0, 4.0, 10.0, 10.0, 12.0])  # outer starts, inner 1-4, inner again 10-10, outer ends at 12
    monkeypatch.setattr("apps.api.management.commands.seed_demo.time.perf_counter", lambda: next(clock))
    seeder = DemoSeeder(seed=1, batch=10, say=lambda _: None, today=datetime.date(2026, 3, 2))

    with seeder._phase("outer"):
        with seeder._phase("inner"):
            pass
        with seeder._phase("inner"):
            pass

    assert seeder.seconds == {"outer": 9.0, "inner": 3.0}
