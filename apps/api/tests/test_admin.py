"""Django admin: pages render, org-unit writes keep paths right, transitions run through the service."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.api.models import Employee, OrgUnit
from apps.api.tests.conftest import EMPLOYEES_URL, detail_url
from apps.api.tests.factories import EmployeeFactory
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from apps.fsm.tests.admin_flow import messages_of, open_preview, run_transition

CHANGELIST = "admin:api_employee_changelist"


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def admin_browser(client, admin_user):
    client.force_login(admin_user)
    return client


def _run_action(browser, action: str, *employees, follow: bool = False, **options):
    """The action's preview page, then Confirm with ``options`` (the admin's guided flow, apps.fsm.admin)."""
    return run_transition(browser, reverse(CHANGELIST), action, [e.pk for e in employees], follow=follow, **options)


_messages = messages_of


@pytest.mark.parametrize("model", ["orgunit", "position", "employee"])
def test_admin_pages_render_with_filters_and_search(admin_browser, world, model):
    changelist = reverse(f"admin:api_{model}_changelist")
    assert admin_browser.get(changelist).status_code == 200
    assert admin_browser.get(changelist, {"q": "sales"}).status_code == 200
    assert admin_browser.get(reverse(f"admin:api_{model}_add")).status_code == 200
    obj = {"orgunit": world.child, "position": world.position, "employee": world.employee}[model]
    assert admin_browser.get(reverse(f"admin:api_{model}_change", args=[obj.pk])).status_code == 200


def test_employee_changelist_filters_by_state_and_unit(admin_browser, world):
    response = admin_browser.get(reverse(CHANGELIST), {"state": "pending", "org_unit__id__exact": world.child.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [world.employee]


def test_admin_transition_writes_the_same_log_row_as_the_api(admin_browser, admin_user, auth_client, world):
    # The API path, for comparison.
    api_client, _ = auth_client(user=admin_user)
    url = f"{detail_url(EMPLOYEES_URL, world.grand_employee.pk)}transitions/"
    assert api_client.post(url, {"transition": "activate", "reason": "admin action"}).status_code == 200

    response = _run_action(admin_browser, "activate", world.employee, reason="admin action")
    assert response.status_code == 302
    world.employee.refresh_from_db()
    assert world.employee.state == "active"

    api_row = EmployeeTransitionLog.objects.get(employee=world.grand_employee)
    admin_row = EmployeeTransitionLog.objects.get(employee=world.employee)
    fields = ("actor_id", "actor_email", "transition", "source_state", "target_state", "reason", "effective_date")
    assert [getattr(admin_row, f) for f in fields] == [getattr(api_row, f) for f in fields]
    assert (admin_row.actor_id, admin_row.transition, admin_row.source_state, admin_row.target_state) == (
        admin_user.pk,
        "activate",
        "pending",
        "active",
    )
    assert admin_row.prev_hash == api_row.hash  # one chain, whichever door the transition came through


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        ("activate", "pending", "active"),
        ("start_leave", "active", "on_leave"),
        ("return_from_leave", "on_leave", "active"),
        ("suspend", "active", "suspended"),
        ("reinstate", "suspended", "active"),
        ("terminate", "active", "terminated"),
        ("rehire", "terminated", "pending"),
    ],
)
def test_every_transition_is_an_admin_action(admin_browser, admin_user, world, action, source, target):
    path = {
        "pending": [],
        "active": ["activate"],
        "on_leave": ["activate", "start_leave"],
        "suspended": ["activate", "suspend"],
        "terminated": ["terminate"],
    }[source]
    for name in path:
        employee_transition(employee_id=world.employee.pk, name=name, actor=admin_user)
    response = _run_action(admin_browser, action, world.employee, follow=True, reason=f"Admin: {action}")
    assert response.status_code == 200
    assert any(level == "success" for level, _ in _messages(response)), _messages(response)
    assert Employee.objects.get(pk=world.employee.pk).state == target
    log = EmployeeTransitionLog.objects.filter(employee=world.employee).latest("id")
    assert (log.transition, log.source_state, log.target_state, log.reason) == (
        action,
        source,
        target,
        f"Admin: {action}",
    )


def test_refused_admin_transition_shows_an_error_message_not_a_500(admin_browser, world):
    response = _run_action(admin_browser, "reinstate", world.employee, follow=True)
    assert response.status_code == 200
    messages = _messages(response)
    assert [level for level, _ in messages] == ["error"], messages
    assert "reinstate" in messages[0][1].lower()
    assert "pending" in messages[0][1]
    assert not EmployeeTransitionLog.objects.exists()
    world.employee.refresh_from_db()
    assert world.employee.state == "pending"


def test_mixed_selection_transitions_what_it_can_and_reports_the_rest(admin_browser, admin_user, world):
    employee_transition(employee_id=world.outsider.pk, name="activate", actor=admin_user)
    response = _run_action(admin_browser, "activate", world.employee, world.outsider, world.grand_employee, follow=True)
    assert response.status_code == 200
    levels = sorted(level for level, _ in _messages(response))
    assert levels == ["error", "success"]
    assert EmployeeTransitionLog.objects.filter(transition="activate").count() == 3  # outsider's earlier one + two


def test_the_preview_page_asks_date_reason_acknowledgement_and_override_for_admins_only(
    admin_browser, make_user, world
):
    page = open_preview(admin_browser, reverse(CHANGELIST), "activate", [world.employee.pk]).content.decode()
    for name in ("effective_date", "reason", "acknowledge_warnings", "override_reason"):
        assert f'name="{name}"' in page
    hr_browser = Client()
    hr_browser.force_login(make_user("hr"))
    page = open_preview(hr_browser, reverse(CHANGELIST), "activate", [world.employee.pk]).content.decode()
    assert 'name="reason"' in page
    assert 'name="override_reason"' not in page


def test_admin_action_sends_no_reason_of_its_own(admin_browser, world):
    response = _run_action(admin_browser, "activate", world.employee, follow=True)
    assert [level for level, _ in _messages(response)] == ["success"]
    assert EmployeeTransitionLog.objects.get(employee=world.employee).reason == ""


@pytest.fixture
def why_suspend(db):
    return rule_create(
        code="WHY-SUSPEND", name="Say why", rule_type="reason_required", params={"min_length": 5},
        events=["employee.suspend"],
    )  # fmt: skip


def test_admin_suspend_without_a_reason_is_refused_by_a_reason_required_rule(
    admin_browser, admin_user, world, why_suspend
):
    employee_transition(employee_id=world.employee.pk, name="activate", actor=admin_user)
    logged = EmployeeTransitionLog.objects.count()
    for options in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "why"}):
        response = _run_action(admin_browser, "suspend", world.employee, follow=True, **options)
        messages = _messages(response)
        assert [level for level, _ in messages] == ["error"], (options, messages)
        assert "A reason of at least 5 character(s) is required." in messages[0][1]
    assert Employee.objects.get(pk=world.employee.pk).state == "active"
    assert EmployeeTransitionLog.objects.count() == logged

    response = _run_action(admin_browser, "suspend", world.employee, follow=True, reason="Policy breach")
    assert [level for level, _ in _messages(response)] == ["success"]
    assert Employee.objects.get(pk=world.employee.pk).state == "suspended"
    log = EmployeeTransitionLog.objects.filter(employee=world.employee).latest("id")
    assert (log.transition, log.reason) == ("suspend", "Policy breach")


def test_admin_warn_rule_needs_the_acknowledgement_checkbox(admin_browser, world):
    rule_create(
        code="WARN-ACT", name="Think twice", rule_type="employee_state", params={"states": ["active"]},
        severity="warn", events=["employee.activate"],
    )  # fmt: skip
    response = _run_action(admin_browser, "activate", world.employee, follow=True, reason="Start")
    messages = _messages(response)
    assert [level for level, _ in messages] == ["error"], messages
    assert "acknowledge" in messages[0][1].lower()
    assert not EmployeeTransitionLog.objects.exists()

    response = _run_action(
        admin_browser, "activate", world.employee, follow=True, reason="Start", acknowledge_warnings="on"
    )
    assert [level for level, _ in _messages(response)] == ["success"]
    log = EmployeeTransitionLog.objects.get(employee=world.employee)
    assert [(r["rule"], r["outcome"]) for r in log.rule_results] == [("WARN-ACT", "fail")]


def test_override_reason_is_refused_to_hr_and_honoured_for_admin(make_user, admin_browser, world):
    rule_create(
        code="NO-ACT", name="Frozen", rule_type="employee_state", params={"states": ["active"]},
        events=["employee.activate"],
    )  # fmt: skip
    hr_browser = Client()
    hr_browser.force_login(make_user("hr"))
    # HR is not offered the override field; one posted anyway is ignored and the block stands.
    response = _run_action(hr_browser, "activate", world.employee, follow=True, reason="Go", override_reason="Urgent")
    messages = _messages(response)
    assert [level for level, _ in messages] == ["error"], messages
    assert "blocked by NO-ACT (Frozen)" in messages[0][1]
    response = _run_action(admin_browser, "activate", world.employee, follow=True, reason="Go")
    assert [level for level, _ in _messages(response)] == ["error"]
    assert "Employee is 'pending'" in _messages(response)[0][1]
    assert not EmployeeTransitionLog.objects.exists()
    assert Employee.objects.get(pk=world.employee.pk).state == "pending"

    response = _run_action(
        admin_browser, "activate", world.employee, follow=True, reason="Go", override_reason="Board decision"
    )
    assert [level for level, _ in _messages(response)] == ["success"], _messages(response)
    assert Employee.objects.get(pk=world.employee.pk).state == "active"
    log = EmployeeTransitionLog.objects.get(employee=world.employee)
    assert (log.reason, log.override_reason) == ("Go", "Board decision")
    assert [(r["rule"], r["outcome"]) for r in log.rule_results] == [("NO-ACT", "fail")]


def test_an_overlong_reason_is_a_form_error_not_a_transition(admin_browser, world):
    response = _run_action(admin_browser, "activate", world.employee, follow=True, reason="x" * 2001)
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not response.context["can_confirm"]
    assert not EmployeeTransitionLog.objects.exists()


def test_superuser_without_workforce_role_is_refused_by_the_service(client, make_user, world):
    superuser = make_user("", is_superuser=True)
    client.force_login(superuser)
    response = _run_action(client, "activate", world.employee, follow=True)
    assert response.status_code == 200
    assert [level for level, _ in _messages(response)] == ["error"]
    assert not EmployeeTransitionLog.objects.exists()


def test_hr_can_run_admin_transitions(client, make_user, world):
    hr = make_user("hr")
    client.force_login(hr)
    response = _run_action(client, "activate", world.employee, follow=True)
    assert response.status_code == 200
    assert EmployeeTransitionLog.objects.get(employee=world.employee).actor_id == hr.pk


def test_state_is_read_only_in_the_employee_form(admin_browser, world):
    url = reverse("admin:api_employee_change", args=[world.employee.pk])
    data = {
        "employee_number": "E-CHILD",
        "first_name": "Ada",
        "last_name": "Byron",
        "email": "ada@coveris.test",
        "org_unit": world.child.pk,
        "contracted_weekly_hours": "40",
        "hire_date": "2026-01-05",
        "state": "terminated",
        "termination_date": "2026-02-01",
    }
    response = admin_browser.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    world.employee.refresh_from_db()
    assert (world.employee.last_name, world.employee.state, world.employee.termination_date) == (
        "Byron",
        "pending",
        None,
    )
    assert not EmployeeTransitionLog.objects.exists()


def test_admin_adds_an_employee_through_the_service(admin_browser, world):
    data = {
        "employee_number": "E-ADMIN",
        "first_name": "Mary",
        "last_name": "Jackson",
        "email": "Mary@Coveris.test",
        "org_unit": world.child.pk,
        "contracted_weekly_hours": "40",
        "hire_date": "2026-01-05",
    }
    response = admin_browser.post(reverse("admin:api_employee_add"), data)
    assert response.status_code == 302
    employee = Employee.objects.get(employee_number="E-ADMIN")
    assert (employee.state, employee.email) == ("pending", "mary@coveris.test")
    duplicate = admin_browser.post(reverse("admin:api_employee_add"), {**data, "employee_number": "E-OTHER"})
    assert duplicate.status_code == 200
    assert "email" in duplicate.context["adminform"].form.errors


def test_admin_adds_and_moves_org_units_with_correct_paths(admin_browser, world):
    response = admin_browser.post(
        reverse("admin:api_orgunit_add"), {"code": "NEW", "name": "New unit", "parent": world.grandchild.pk}
    )
    assert response.status_code == 302
    new = OrgUnit.objects.get(code="NEW")
    assert new.path == f"{world.grandchild.path}{new.pk}/"
    assert new.depth == 3

    url = reverse("admin:api_orgunit_change", args=[world.child.pk])
    response = admin_browser.post(url, {"code": "SALES", "name": "Sales", "parent": world.other.pk, "is_active": "on"})
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.path == f"{world.other.path}{world.child.pk}/{world.grandchild.pk}/{new.pk}/"
    assert new.depth == 3


def test_admin_org_unit_cycle_is_a_form_error(admin_browser, world):
    url = reverse("admin:api_orgunit_change", args=[world.root.pk])
    response = admin_browser.post(
        url, {"code": "ROOT", "name": "Head", "parent": world.grandchild.pk, "is_active": "on"}
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    world.root.refresh_from_db()
    assert world.root.parent_id is None
    assert world.root.path == f"/{world.root.pk}/"


def test_admin_hire_date_after_termination_is_a_form_error(admin_browser, admin_user, world):
    employee = EmployeeFactory(org_unit=world.child)
    employee_transition(employee_id=employee.pk, name="terminate", actor=admin_user)
    employee.refresh_from_db()
    url = reverse("admin:api_employee_change", args=[employee.pk])
    data = {
        "employee_number": employee.employee_number,
        "first_name": "X",
        "last_name": "Y",
        "email": employee.email,
        "org_unit": world.child.pk,
        "contracted_weekly_hours": "40",
        "hire_date": "2999-01-01",
    }
    response = admin_browser.post(url, data)
    assert response.status_code == 200
    assert "hire_date" in response.context["adminform"].form.errors
