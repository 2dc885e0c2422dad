"""The employee's and the position's admin pages as their file: state, buttons, logs and related rows, read-only."""

import datetime

import pytest
from django.urls import reverse

from apps.assignments.services import assignment_create, assignment_transition
from apps.demand.services import coverage_requirement_create
from apps.fsm.services import employee_transition
from apps.tags.services import employee_tag_add, position_tag_add, tag_catalog_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_browser(client, make_user):
    user = make_user("hr")
    client.force_login(user)
    client.user = user
    return client


def _file(world, hr, *, assignments: int):
    """The world's employee with ``assignments`` approved assignments, tags and transitions."""
    employee = world.employee
    employee_transition(
        employee_id=employee.pk, name="activate", actor=hr, reason="First day", effective_date=employee.hire_date
    )
    employee_transition(employee_id=employee.pk, name="suspend", actor=hr, reason="Inquiry")
    employee_transition(employee_id=employee.pk, name="reinstate", actor=hr, reason="Cleared")
    tag = tag_catalog_create(code=f"FORKLIFT{assignments}", name="Forklift")
    employee_tag_add(employee=employee, tag=tag, actor=hr, level=2, valid_until=datetime.date(2030, 1, 1))
    position_tag_add(position=world.position, tag=tag, actor=hr, min_level=1)
    coverage_requirement_create(
        position=world.position, valid_from=datetime.date(2026, 1, 5), required_headcount=2, required_weekly_hours=40
    )
    for n in range(assignments):
        assignment, _ = assignment_create(
            actor=hr,
            employee=employee,
            position=world.position,
            start_date=datetime.date(2026, 1, 5 + n),
            end_date=datetime.date(2026, 1, 5 + n),
            weekly_hours=2,
            notes=f"shift {n}",
        )
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr)
    return employee


def test_employee_page_is_the_persons_file(hr_browser, world):
    employee = _file(world, hr_browser.user, assignments=2)
    page = hr_browser.get(reverse("admin:api_employee_change", args=[employee.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "State: <strong>active</strong>" in html
    assert {b["name"] for b in page.context["transition_buttons"]} == {"start_leave", "suspend", "terminate"}
    # Transitions newest first, with reason and actor.
    transitions = html.index("Transitions (newest first)")
    assert (
        html.index("Cleared", transitions) < html.index("Inquiry", transitions) < html.index("First day", transitions)
    )
    assert hr_browser.user.email in html[transitions:]
    for heading in (
        "Assignments (latest start first)",
        "Tags with validity",
        "Tag changes (newest first)",
        "Weekly hours balance",
        "Hours ledger",
    ):
        assert heading in html, heading
    assert "SELLER" in html
    assert "2030-01-01" in html or "Jan. 1, 2030" in html
    panels = {panel["title"]: panel for panel in page.context["file_panels"]}
    balance = panels["Weekly hours balance"]
    assert balance["columns"][0] == "Week (Monday)"
    assert len(balance["rows"]) >= 8
    # Logs are read-only there: no inputs for their rows.
    assert 'name="employeetransitionlog_set-0-reason"' not in html


def test_employee_page_queries_do_not_grow_with_the_file(hr_browser, world, make_user, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    employee = _file(world, hr_browser.user, assignments=1)
    url = reverse("admin:api_employee_change", args=[employee.pk])
    with CaptureQueriesContext(connection) as small:
        assert hr_browser.get(url).status_code == 200
    for n in range(5):
        assignment, _ = assignment_create(
            actor=hr_browser.user,
            employee=employee,
            position=world.position,
            start_date=datetime.date(2026, 2, 2 + n),
            end_date=datetime.date(2026, 2, 2 + n),
            weekly_hours=1,
        )
    with CaptureQueriesContext(connection) as large:
        assert hr_browser.get(url).status_code == 200
    assert len(large) <= len(small) + 2, [q["sql"] for q in large.captured_queries][-30:]


def test_position_page_is_its_file(hr_browser, world):
    _file(world, hr_browser.user, assignments=1)
    page = hr_browser.get(reverse("admin:api_position_change", args=[world.position.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for heading in ("Assigned people", "Coverage requirements", "Required tags", "Coverage of the coming weeks"):
        assert heading in html, heading
    assert str(world.employee) in html
    panels = {panel["title"]: panel for panel in page.context["file_panels"]}
    assert len(panels["Coverage of the coming weeks"]["rows"]) == 8


def test_assignment_page_lists_its_transitions_newest_first(hr_browser, world):
    _file(world, hr_browser.user, assignments=1)
    from apps.assignments.models import Assignment

    assignment = Assignment.objects.get()
    page = hr_browser.get(reverse("admin:assignments_assignment_change", args=[assignment.pk]))
    html = page.content.decode()
    assert "Transitions (newest first)" in html
    assert {b["name"] for b in page.context["transition_buttons"]} == {"activate", "cancel"}


def test_log_changelists_are_newest_first_with_reason_and_actor(hr_browser, world):
    _file(world, hr_browser.user, assignments=0)
    page = hr_browser.get(reverse("admin:fsm_employeetransitionlog_changelist"))
    rows = list(page.context["cl"].result_list)
    assert [row.transition for row in rows] == ["reinstate", "suspend", "activate"]
    html = page.content.decode()
    assert "column-reason" in html
    assert "column-actor_email" in html


def test_employee_list_filters_by_subtree_tag_and_hire_date_range(hr_browser, world):
    changelist = reverse("admin:api_employee_changelist")

    def shown(**params):
        response = hr_browser.get(changelist, params)
        assert response.status_code == 200
        return {e.employee_number for e in response.context["cl"].queryset}

    assert shown(org_unit_subtree=world.child.pk) == {"E-CHILD", "E-GRAND"}
    assert shown(org_unit_subtree=world.grandchild.pk) == {"E-GRAND"}
    assert shown(org_unit_subtree="²") == {"E-CHILD", "E-GRAND", "E-OUT"}  # nonsense is ignored, not a 500
    tag = tag_catalog_create(code="FIRST-AID", name="First aid")
    employee_tag_add(
        employee=world.grand_employee, tag=tag, actor=hr_browser.user, valid_from=datetime.date(2020, 1, 1)
    )
    assert shown(tag=tag.pk) == {"E-GRAND"}
    world.outsider.__class__.objects.filter(pk=world.outsider.pk).update(hire_date=datetime.date(2019, 5, 1))
    assert "E-OUT" in shown(hire_date__range__gte="2019-01-01", hire_date__range__lte="2019-12-31")
    assert shown(hire_date__range__gte="2019-01-01", hire_date__range__lte="2019-12-31") == {"E-OUT"}


def test_state_column_is_in_the_first_columns_of_every_list_with_a_state(hr_browser, world):
    for name in ("admin:api_employee_changelist", "admin:assignments_assignment_changelist"):
        page = hr_browser.get(reverse(name))
        columns = list(page.context["cl"].list_display)
        assert "state" in columns[:5], (name, columns)  # action checkbox, identifiers, then the state
        assert len(columns) <= 7, (name, columns)
