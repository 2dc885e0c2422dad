"""The admin's guided transition flow: action or button → preview (rules, cascades) → Confirm performs exactly that."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.api.models import Employee
from apps.api.tests.factories import PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.business_rules.services import rule_create
from apps.fsm import preview as preview_module
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import EMPLOYEE_TRANSITIONS, TransitionRequest, employee_transition
from apps.fsm.tests.admin_flow import fields_of, messages_of, open_preview, run_transition, update_preview
from apps.offer.models import LedgerEntry

pytestmark = pytest.mark.django_db
EMPLOYEES = "/admin/api/employee/"
ASSIGNMENTS = "/admin/assignments/assignment/"


@pytest.fixture
def hr_client(hr):
    client = Client()
    client.force_login(hr)
    return client


@pytest.fixture
def admin_client_(admin):
    client = Client()
    client.force_login(admin)
    return client


def _rows(page) -> dict:
    return {row.instance.pk: row for row in page.context["rows"]}


def test_future_hire_is_refused_today_and_activated_on_the_effective_date_chosen(hr_client, make_employee):
    start = timezone.localdate() + datetime.timedelta(days=30)
    employee = make_employee("pending", hire_date=start)
    page = open_preview(hr_client, EMPLOYEES, "activate", [employee.pk])
    assert page.context["form"]["effective_date"].value() == timezone.localdate().isoformat()  # default: today
    row = _rows(page)[employee.pk]
    assert not row.allowed
    assert "cannot take effect before the hire date" in row.refusal
    assert not page.context["can_confirm"]

    page = update_preview(hr_client, page, effective_date=start.isoformat(), reason="Starts then")
    assert _rows(page)[employee.pk].allowed
    assert page.context["can_confirm"]
    assert Employee.objects.get(pk=employee.pk).state == "pending"  # a preview writes nothing

    response = run_transition(hr_client, EMPLOYEES, "activate", [employee.pk], effective_date=start.isoformat())
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert f"done for 1 of 1 selected employees: {employee}" in messages_of(response)[0][1]
    log = EmployeeTransitionLog.objects.get(employee=employee)
    assert (log.transition, log.effective_date) == ("activate", start)


def test_preview_lists_every_rule_result_named_and_writes_nothing(hr_client, hr, make_employee):
    employee = make_employee("active")
    position = PositionFactory(code="NURSE", title="Night nurse")
    existing = AssignmentFactory(employee=employee, position=position, weekly_hours=30)
    assignment_transition(assignment_id=existing.pk, name="approve", actor=hr)
    proposal = AssignmentFactory(employee=employee, weekly_hours=20)
    rule_create(
        code="MAX-40", name="Forty hours", rule_type="max_weekly_hours", params={"max_hours": 40},
        events=["assignment.approve"],
    )  # fmt: skip
    rule_create(
        code="ACTIVE-ONLY", name="Active people", rule_type="employee_state", params={"states": ["active"]},
        events=["assignment.approve"], severity="warn",
    )  # fmt: skip
    before = (AssignmentTransitionLog.objects.count(), LedgerEntry.objects.count())
    page = open_preview(hr_client, ASSIGNMENTS, "approve", [proposal.pk])
    row = _rows(page)[proposal.pk]
    lines = {line.rule: line for line in row.rules}
    assert (lines["MAX-40"].status, lines["MAX-40"].name) == ("block", "Forty hours")
    assert lines["MAX-40"].observed == 50
    assert lines["MAX-40"].threshold == 40
    assert lines["MAX-40"].remediation
    assert any("NURSE" in text and str(employee) in text for text in lines["MAX-40"].related)  # named, not ids
    assert lines["ACTIVE-ONLY"].status == "pass"
    html = page.content.decode()
    assert "MAX-40" in html
    assert "Forty hours" in html
    assert "observed: 50" in html
    assert f"#{existing.pk}" not in html
    assert (AssignmentTransitionLog.objects.count(), LedgerEntry.objects.count()) == before


def test_termination_preview_shows_its_cascades_and_confirm_performs_them(hr_client, make_employee):
    employee = make_employee("active")
    assignment = AssignmentFactory(employee=employee, position=PositionFactory(code="DESK"))
    page = open_preview(hr_client, EMPLOYEES, "terminate", [employee.pk])
    cascades = _rows(page)[employee.pk].cascades
    assert any("DESK" in line and "cancel (proposed → cancelled)" in line for line in cascades), cascades
    assert Assignment.objects.get(pk=assignment.pk).state == "proposed"  # the preview rolled its simulation back
    assert not EmployeeTransitionLog.objects.filter(transition="terminate").exists()

    response = run_transition(hr_client, EMPLOYEES, "terminate", [employee.pk], reason="Moved away")
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert Assignment.objects.get(pk=assignment.pk).state == "cancelled"
    assert Employee.objects.get(pk=employee.pk).state == "terminated"


def test_confirm_after_something_changed_does_nothing_and_shows_the_new_preview(hr_client, admin, make_employee):
    employee = make_employee("pending")
    page = open_preview(hr_client, EMPLOYEES, "activate", [employee.pk])
    employee_transition(employee_id=employee.pk, name="terminate", actor=admin)  # someone else, meanwhile
    data = {**fields_of(page), "fingerprint": page.context["fingerprint"], "_confirm": "1"}
    response = hr_client.post(page.context["action_url"], data)
    assert response.status_code == 200
    assert any("Something changed since the preview" in note for note in response.context["notes"])
    assert Employee.objects.get(pk=employee.pk).state == "terminated"
    assert not EmployeeTransitionLog.objects.filter(transition="activate").exists()


def test_counts_are_right_on_a_filtered_list_and_every_refusal_is_named(hr_client, make_employee):
    ready = [make_employee("pending") for _ in range(2)]
    refused = [make_employee("active") for _ in range(12)]  # more than the old ten-message cut-off
    # On a list filtered to pending, the count is of the selection, not of what the filter shows afterwards.
    response = run_transition(hr_client, f"{EMPLOYEES}?state__exact=pending", "activate", [e.pk for e in ready])
    assert [text for level, text in messages_of(response)] == [
        f"Activate: done for 2 of 2 selected employees: {ready[0]}, {ready[1]}."
    ]

    response = run_transition(hr_client, EMPLOYEES, "activate", [e.pk for e in refused])
    texts = messages_of(response)
    assert {level for level, _ in texts} == {"error"}
    assert len(texts) == 12
    for employee, (_, text) in zip(refused, texts, strict=True):
        assert text.startswith(f"Activate refused for {employee}: 'activate' is not possible from state 'active'")
    assert Employee.objects.filter(pk__in=[e.pk for e in refused], state="active").count() == 12


def test_blocked_and_warning_rules_are_told_apart_in_refusals(hr_client, make_employee):
    employee = make_employee("pending")
    rule_create(
        code="FROZEN", name="Hiring freeze", rule_type="employee_state", params={"states": ["active"]},
        events=["employee.activate"],
    )  # fmt: skip
    rule_create(
        code="CHECK", name="Double-check", rule_type="employee_state", params={"states": ["active"]},
        events=["employee.activate"], severity="warn",
    )  # fmt: skip
    response = run_transition(hr_client, EMPLOYEES, "activate", [employee.pk])
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert str(employee) in text
    assert "blocked by FROZEN (Hiring freeze)" in text
    assert "warnings not acknowledged: CHECK (Double-check)" in text
    assert Employee.objects.get(pk=employee.pk).state == "pending"


def test_admin_override_with_reason_is_shown_in_the_preview_and_logged(admin_client_, make_employee):
    employee = make_employee("pending")
    rule_create(
        code="FROZEN", name="Hiring freeze", rule_type="employee_state", params={"states": ["active"]},
        events=["employee.activate"],
    )  # fmt: skip
    page = open_preview(admin_client_, EMPLOYEES, "activate", [employee.pk])
    assert [line.status for line in _rows(page)[employee.pk].rules] == ["block"]
    page = update_preview(admin_client_, page, reason="Go", override_reason="Board decision")
    assert [line.status for line in _rows(page)[employee.pk].rules] == ["overridden"]
    response = run_transition(
        admin_client_, EMPLOYEES, "activate", [employee.pk], reason="Go", override_reason="Board decision"
    )
    assert [level for level, _ in messages_of(response)] == ["success"]
    log = EmployeeTransitionLog.objects.get(employee=employee)
    assert log.override_reason == "Board decision"


def test_a_large_selection_is_one_batch(hr_client, make_employee, monkeypatch):
    employees = [make_employee("pending") for _ in range(5)]
    calls = []
    real = preview_module.transition_perform_many

    def spy(**kwargs):
        calls.append((kwargs["request"].name, len(kwargs["pks"])))
        return real(**kwargs)

    monkeypatch.setattr(preview_module, "transition_perform_many", spy)
    run_transition(hr_client, EMPLOYEES, "activate", [e.pk for e in employees])
    # One simulated batch per preview (open, update, the confirm's own) and exactly one real one.
    assert calls[-1] == ("activate", 5)
    assert Employee.objects.filter(pk__in=[e.pk for e in employees], state="active").count() == 5
    assert EmployeeTransitionLog.objects.filter(transition="activate").count() == 5


def test_employee_page_shows_state_and_only_the_transitions_open_to_it(hr_client, make_employee):
    employee = make_employee("active")
    page = hr_client.get(reverse("admin:api_employee_change", args=[employee.pk]))
    buttons = {b["name"] for b in page.context["transition_buttons"]}
    assert buttons == {"start_leave", "suspend", "terminate"}
    html = page.content.decode()
    assert "State: <strong>active</strong>" in html
    button = next(b for b in page.context["transition_buttons"] if b["name"] == "suspend")
    preview = hr_client.get(button["url"])
    assert preview.status_code == 200
    assert [row.instance.pk for row in preview.context["rows"]] == [employee.pk]
    assert preview.context["hidden"]["next"] == reverse("admin:api_employee_change", args=[employee.pk])


def test_the_flow_is_refused_to_users_without_change_permission(client, make_user, make_employee):
    employee = make_employee("pending")
    auditor = make_user("auditor", is_staff=True)
    client.force_login(auditor)
    response = client.get(f"{EMPLOYEES}transition/activate/?ids={employee.pk}")
    assert response.status_code in (302, 403)
    assert Employee.objects.get(pk=employee.pk).state == "pending"


def test_tampered_ids_and_unknown_transitions_are_not_500s(hr_client, make_employee):
    employee = make_employee("pending")
    assert hr_client.get(f"{EMPLOYEES}transition/activate/?ids=abc,,{employee.pk}").status_code == 200
    assert hr_client.get(f"{EMPLOYEES}transition/fly/?ids={employee.pk}").status_code == 302
    assert hr_client.get(f"{EMPLOYEES}transition/activate/?ids=999999").status_code == 302
    data = {"_selected_action": [employee.pk], "fingerprint": "x", "effective_date": "not a date", "_confirm": "1"}
    response = hr_client.post(f"{EMPLOYEES}transition/activate/", data)
    assert response.status_code == 200
    assert "effective_date" in response.context["form"].errors
    assert Employee.objects.get(pk=employee.pk).state == "pending"


def test_preview_service_is_usable_without_the_admin(hr, make_employee):
    employee = make_employee("active")
    AssignmentFactory(employee=employee, position=PositionFactory(code="DESK"))
    request = TransitionRequest(name="terminate", actor=hr, reason="Leaves")
    result = preview_module.transition_preview(kind=EMPLOYEE_TRANSITIONS, pks=[employee.pk], request=request)
    assert [o.allowed for o in result.objects] == [True]
    assert len(result.objects[0].cascades) == 1
    assert Employee.objects.get(pk=employee.pk).state == "active"
    assert Assignment.objects.get(employee=employee).state == "proposed"


def test_the_admin_history_of_an_object_lists_its_admin_transitions(hr_client, make_employee):
    # An employee's History page is the audit trail (apps/audit_log/admin.py): its transitions with their reasons.
    employee = make_employee("active")
    run_transition(hr_client, EMPLOYEES, "suspend", [employee.pk], reason="Inquiry")
    run_transition(hr_client, EMPLOYEES, "reinstate", [employee.pk], reason="Cleared")
    page = hr_client.get(reverse("admin:api_employee_history", args=[employee.pk]))
    html = page.content.decode()
    assert "state: active → suspended" in html
    assert "state: suspended → active" in html
    assert "Inquiry" in html
    assert "Cleared" in html
