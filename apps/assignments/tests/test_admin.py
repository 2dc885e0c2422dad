import pytest
from django.contrib.messages import get_messages

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.tests.factories import AssignmentFactory
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.tests.admin_flow import run_transition

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/assignments/assignment/"


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("hr")
    client.force_login(user)
    client.user = user
    return client


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _act(client, action, *assignments, **fields):
    return run_transition(client, CHANGELIST, action, [a.pk for a in assignments], **fields)


def test_transition_action_goes_through_the_service(admin_client):
    assignment = AssignmentFactory()
    response = _act(admin_client, "approve", assignment, reason="Fits the plan")
    assert response.status_code == 200
    assert Assignment.objects.get(pk=assignment.pk).state == "approved"
    log = AssignmentTransitionLog.objects.get()
    assert log.actor == admin_client.user
    assert log.reason == "Fits the plan"
    assert (log.source_state, log.target_state) == ("proposed", "approved")


def test_refused_action_is_a_message_not_a_500(admin_client):
    assignment = AssignmentFactory()
    response = _act(admin_client, "complete", assignment)
    assert response.status_code == 200
    assert any("refused" in text and "proposed" in text for text in _messages(response))
    assert AssignmentTransitionLog.objects.count() == 0


def test_reason_required_refuses_an_action_without_a_reason(admin_client):
    assignment = AssignmentFactory()
    rule_create(
        code="WHY-REJECT", name="Say why", rule_type="reason_required", params={}, events=["assignment.reject"]
    )  # fmt: skip
    response = _act(admin_client, "reject", assignment)
    assert any(
        "refused" in text and "A reason of at least 1 character(s) is required." in text for text in _messages(response)
    )
    assert Assignment.objects.get(pk=assignment.pk).state == "proposed"
    assert AssignmentTransitionLog.objects.count() == 0

    response = _act(admin_client, "reject", assignment, reason="Wrong position")
    assert Assignment.objects.get(pk=assignment.pk).state == "rejected"
    assert AssignmentTransitionLog.objects.get().reason == "Wrong position"


def test_warn_rule_needs_the_acknowledgement_checkbox(admin_client):
    assignment = AssignmentFactory()
    rule_create(
        code="WARN-APPROVE", name="Check", rule_type="employee_state", params={"states": ["active"]},
        severity="warn", events=["assignment.approve"],
    )  # fmt: skip
    response = _act(admin_client, "approve", assignment, reason="ok")
    assert any("refused" in text and "acknowledge" in text.lower() for text in _messages(response))
    assert AssignmentTransitionLog.objects.count() == 0

    _act(admin_client, "approve", assignment, reason="ok", acknowledge_warnings="on")
    assert Assignment.objects.get(pk=assignment.pk).state == "approved"
    assert AssignmentTransitionLog.objects.get().transition == "approve"


def test_add_through_the_admin_uses_the_service_and_its_rules(admin_client):
    form = {
        "employee": EmployeeFactory().pk,
        "position": PositionFactory().pk,
        "start_date": "2026-03-02",
        "weekly_hours": "12",
        "notes": "via admin",
    }
    response = admin_client.post("/admin/assignments/assignment/add/", form, follow=True)
    assert response.status_code == 200
    assert Assignment.objects.get(notes="via admin").created_by == admin_client.user

    rule_create(
        code="ACTIVE", name="Active only", rule_type="employee_state", params={"states": ["active"]},
        events=["assignment.create"],
    )  # fmt: skip
    response = admin_client.post("/admin/assignments/assignment/add/", {**form, "notes": "refused"})
    assert response.status_code == 200  # the form again, as typed, with the refusal at the top
    assert not Assignment.objects.filter(notes="refused").exists()
    adminform = response.context["adminform"].form
    [error] = adminform.non_field_errors()
    assert error.startswith("Not saved:")
    assert "ACTIVE" in error
    assert "pending" in error
    page = response.content.decode()
    assert "refused</textarea>" in page
    assert 'value="12"' in page


def test_a_warning_on_save_asks_for_the_acknowledgement_and_keeps_the_form(admin_client):
    rule_create(
        code="CHECK", name="Double-check", rule_type="employee_state", params={"states": ["active"]},
        events=["assignment.create"], severity="warn",
    )  # fmt: skip
    form = {
        "employee": EmployeeFactory().pk,
        "position": PositionFactory().pk,
        "start_date": "2026-03-02",
        "weekly_hours": "12",
        "notes": "warned",
    }
    response = admin_client.post("/admin/assignments/assignment/add/", form)
    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors()
    assert "Warnings: CHECK" in error
    assert not Assignment.objects.filter(notes="warned").exists()
    response = admin_client.post("/admin/assignments/assignment/add/", {**form, "acknowledge_warnings": "on"})
    assert response.status_code == 302
    assert Assignment.objects.filter(notes="warned").exists()


def test_the_assignment_form_uses_autocomplete_for_employee_and_position(admin_client):
    page = admin_client.get("/admin/assignments/assignment/add/").content.decode()
    assert page.count("admin-autocomplete") >= 2


def test_approved_assignments_are_not_editable_in_the_admin(admin_client):
    assignment = AssignmentFactory()
    _act(admin_client, "approve", assignment)
    page = admin_client.get(f"{CHANGELIST}{assignment.pk}/change/")
    assert page.status_code == 200
    assert 'name="weekly_hours"' not in page.content.decode()


def test_logs_are_read_only_in_the_admin(admin_client):
    assignment = AssignmentFactory()
    _act(admin_client, "reject", assignment)
    log = AssignmentTransitionLog.objects.get()
    assert admin_client.get("/admin/assignments/assignmenttransitionlog/").status_code == 200
    assert admin_client.get(f"/admin/assignments/assignmenttransitionlog/{log.pk}/change/").status_code == 200
    assert admin_client.get("/admin/assignments/assignmenttransitionlog/add/").status_code == 403
    assert admin_client.post(f"/admin/assignments/assignmenttransitionlog/{log.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/fsm/employeetransitionlog/").status_code == 200
    assert admin_client.get("/admin/fsm/employeetransitionlog/add/").status_code == 403
    assert EmployeeTransitionLog.objects.count() == 0
