"""KPIs for the crafted coverage scenario (see conftest ``scenario``), transitions, scope and query counts."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.demand.tests.conftest import D, assert_error, count_queries
from apps.fsm.services import employee_transition
from apps.offer.models import LedgerEntry

URL = "/api/kpis/"
RANGE = "from=2026-03-02&to=2026-03-22"


@pytest.fixture
def kpi_case(scenario, tree, make_employee):
    """The coverage scenario, plus one employee on the ledger who worked overtime and one terminated earlier."""
    ledger = make_employee(tree.dept, employee_number="E-LEDGER")
    common = {"employee": ledger, "source": "employee"}
    LedgerEntry.objects.create(kind="contracted", hours=Decimal(40), period_start=D(2026, 1, 1), **common)
    LedgerEntry.objects.create(
        kind="leave", hours=Decimal(8), period_start=D(2026, 3, 16), period_end=D(2026, 3, 22), **common
    )
    LedgerEntry.objects.create(
        kind="worked",
        basis="total",
        hours=Decimal(130),
        period_start=D(2026, 3, 2),
        period_end=D(2026, 3, 22),
        employee=ledger,
        source="clock_event",
    )
    make_employee(tree.dept, state="terminated", hire_date=D(2026, 1, 5), termination_date=D(2026, 2, 28))
    return scenario


def test_kpis_for_the_crafted_case(kpi_case, auth_client):
    client, _ = auth_client("hr")
    response = client.get(f"{URL}?{RANGE}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": "2026-03-02", "to": "2026-03-22", "weeks": 3}
    # Coverage: P 190 h required / 155 assigned, Q 20 / 60, S 120 / 80 (see test_coverage's EXPECTED).
    assert (body["required_hours"], body["assigned_hours"]) == ("330.00", "295.00")
    assert body["coverage_ratio"] == 0.8939
    # Open gap: only shortfalls count (P 10 + 5 + 20, S 0 + 20 + 20); Q's surplus does not offset them.
    assert body["open_gap_hours"] == "75.00"
    # Supply: six employees on contract (40 h × 3 weeks = 120 h each), one on the ledger (120 h), one terminated
    # before the period (0 h). Assigned: e1 120 + 40, e2 35, e4 60, e5 40 = 295 h.
    assert body["contracted_hours"] == "840.00"
    assert body["employee_assigned_hours"] == "295.00"
    assert body["utilisation"] == 0.3512
    assert (body["leave_hours"], body["worked_hours"]) == ("8.00", "130.00")
    assert body["overtime_hours"] == "10.00"  # 130 worked − 120 contracted, for the one who clocked
    assert body["headcount_by_state"] == {"pending": 0, "active": 7, "on_leave": 0, "suspended": 0, "terminated": 1}
    assert body["headcount"] == 8


def test_kpis_for_an_org_unit_and_for_a_manager(kpi_case, tree, auth_client, client_for):
    client, _ = auth_client("auditor")
    other = client.get(f"{URL}?{RANGE}&org_unit={tree.other.pk}").json()
    assert (other["required_hours"], other["assigned_hours"], other["open_gap_hours"]) == ("120.00", "80.00", "40.00")
    assert other["coverage_ratio"] == 0.6667
    assert other["headcount"] == 0  # nobody is employed in OTHER itself
    assert other["utilisation"] is None  # nothing contracted there
    assert other["org_unit"] == tree.other.pk

    manager = client_for("manager").get(f"{URL}?{RANGE}").json()  # DEPT: P, Q, R and all the employees
    assert (manager["required_hours"], manager["assigned_hours"], manager["open_gap_hours"]) == (
        "210.00",
        "215.00",
        "35.00",
    )
    assert manager["coverage_ratio"] == 1.0238
    assert manager["headcount"] == 8
    assert_error(
        client_for("manager").get(f"{URL}?{RANGE}&org_unit={tree.other.pk}"), 400, "validation_error", "org_unit"
    )


def test_nothing_required_gives_a_null_ratio_and_zero_gap(tree, auth_client):
    client, _ = auth_client("admin")
    body = client.get(f"{URL}?{RANGE}").json()
    assert (body["coverage_ratio"], body["open_gap_hours"], body["utilisation"]) == (None, "0.00", None)
    assert body["transitions"] == {"employee": {}, "assignment": {}, "total": 0}


def test_transitions_in_the_period_by_name(tree, make_employee, make_user, auth_client, client_for):
    hr = make_user("hr")
    starter = make_employee(tree.dept, state="pending")
    employee_transition(employee_id=starter.pk, name="activate", actor=hr)
    worker = make_employee(tree.dept)
    employee_transition(employee_id=worker.pk, name="start_leave", actor=hr)
    employee_transition(employee_id=worker.pk, name="return_from_leave", actor=hr)
    employee_transition(employee_id=worker.pk, name="start_leave", actor=hr)
    proposal = AssignmentFactory(employee=starter, position__org_unit=tree.other)
    assignment_transition(assignment_id=proposal.pk, name="approve", actor=hr)

    today = timezone.localdate().isoformat()
    client, _ = auth_client("hr")
    body = client.get(f"{URL}?from={today}&to={today}").json()
    assert body["transitions"] == {
        "employee": {"activate": 1, "return_from_leave": 1, "start_leave": 2},
        "assignment": {"approve": 1},
        "total": 5,
    }
    # The assignment's position is in OTHER: outside the DEPT manager's scope.
    managed = client_for("manager").get(f"{URL}?from={today}&to={today}").json()
    assert managed["transitions"]["assignment"] == {}
    assert managed["transitions"]["employee"] == {"activate": 1, "return_from_leave": 1, "start_leave": 2}
    assert client.get(f"{URL}?from=2020-01-01&to=2020-01-31").json()["transitions"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "from"),
        ("from=2026-03-22&to=2026-03-02", "to"),
        ("from=2026-13-01&to=2026-03-22", "from"),
        ("from=2026-01-05&to=2028-01-03", "to"),
        (f"{RANGE}&org_unit=999999", "org_unit"),
        (f"{RANGE}&org_unit=-3", "org_unit"),
    ],
)
def test_bad_input_is_a_400_in_the_error_shape(tree, auth_client, query, field):
    client, _ = auth_client("hr")
    assert_error(client.get(f"{URL}?{query}"), 400, "validation_error", field)


@pytest.mark.parametrize("role", ["hr", "manager"])
def test_query_count_is_fixed(kpi_case, tree, make_employee, make_assignment, client_for, role):
    client = client_for(role)
    few, _ = count_queries(client, f"{URL}?{RANGE}")
    for _ in range(10):
        employee = make_employee(tree.team)
        make_assignment(employee, kpi_case.r, hours=8)
    many, _ = count_queries(client, f"{URL}?from=2026-01-05&to=2026-12-27")
    assert few == many
    assert many <= 7  # user, (manager's unit), coverage, supply, headcount, two transition counts
