"""Transitions in a real browser: an HR person ticks, previews, changes the date, confirms — and what the preview
refuses stays undone (docs/admin.md "Transitions: preview, then confirm")."""

import datetime

import pytest

from apps.api.tests.factories import PositionFactory
from apps.assignments.models import Assignment, AssignmentTransitionLog
from apps.assignments.services import assignment_transition
from apps.assignments.tests.factories import AssignmentFactory
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.offer.models import LedgerEntry
from backend import timezones

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMPLOYEES = "/admin/api/employee/"
ASSIGNMENTS = "/admin/assignments/assignment/"


def _row(browser, pk):
    return browser.find(f'#cv-objects .cv-row[data-pk="{pk}"]')


def test_hr_activates_a_future_hire_with_its_start_date_through_the_preview(browser, hr, make_employee):
    today = timezones.today()
    start = today + datetime.timedelta(days=30)
    employee = make_employee("pending", hire_date=start)
    browser.signed_in_as(hr)

    browser.run_action(EMPLOYEES, "Activate selected employees…", employee.pk)
    assert browser.find("#id_effective_date").get_attribute("value") == today.isoformat()  # default: today
    row = _row(browser, employee.pk).text
    assert "will not happen" in row
    assert "cannot take effect before the hire date" in row
    assert not browser.find_all("#cv-confirm")  # nothing to confirm yet

    browser.set_date("#id_effective_date", start.isoformat())
    browser.fill("#id_reason", "Starts on the first day of the contract")
    browser.submit(browser.find("#cv-update-preview"))
    assert "goes ahead" in _row(browser, employee.pk).text
    assert browser.find("#id_reason").get_attribute("value") == "Starts on the first day of the contract"
    assert EmployeeTransitionLog.objects.filter(employee=employee).count() == 0  # a preview writes nothing

    confirm = browser.find("#cv-confirm")
    assert confirm.get_attribute("value") == "Confirm: activate 1 of 1"
    browser.submit(confirm)
    assert browser.path == EMPLOYEES
    assert browser.messages() == [("success", f"Activate: done for 1 of 1 selected employees: {employee}.")]
    log = EmployeeTransitionLog.objects.get(employee=employee)
    assert (log.transition, log.effective_date, log.actor_id) == ("activate", start, hr.pk)
    assert log.reason == "Starts on the first day of the contract"
    employee.refresh_from_db()
    assert employee.state == "active"
    browser.assert_no_console_errors()


@pytest.fixture
def over_forty(make_employee, admin):
    """An active employee with 30 approved hours a week, a 20-hour proposal, and a rule blocking more than 40."""
    employee = make_employee("active", first_name="Ada", last_name="Byron")
    existing = AssignmentFactory(
        employee=employee, position=PositionFactory(code="NURSE", title="Night nurse"), weekly_hours=30
    )
    assignment_transition(assignment_id=existing.pk, name="approve", actor=admin)
    proposal = AssignmentFactory(employee=employee, position=PositionFactory(code="DESK"), weekly_hours=20)
    rule_create(
        code="MAX-40", name="Forty hours", rule_type="max_weekly_hours", params={"max_hours": 40},
        events=["assignment.approve"],
    )  # fmt: skip
    return proposal


def _footprint(assignment) -> tuple:
    return (
        Assignment.objects.get(pk=assignment.pk).state,
        AssignmentTransitionLog.objects.filter(assignment=assignment).count(),
        LedgerEntry.objects.filter(assignment_id=assignment.pk).count(),
    )


def test_a_blocked_approval_shows_its_rule_by_name_and_changes_nothing(browser, hr, over_forty):
    before = _footprint(over_forty)
    browser.signed_in_as(hr)

    browser.run_action(ASSIGNMENTS, "Approve selected assignments…", over_forty.pk)
    row = _row(browser, over_forty.pk)
    assert "will not happen" in row.text
    [block] = browser.find_all(".cv-rule-block", row)
    assert "MAX-40 — Forty hours" in block.text
    assert "observed: 50" in block.text
    assert "threshold: 40" in block.text
    assert "Ada Byron" in block.text  # the people and positions involved by name, not by id
    assert f"#{over_forty.pk}" not in row.text
    assert "Nothing to confirm" in browser.text("#cv-nothing")
    assert not browser.find_all("#cv-confirm")
    assert not browser.find_all("#id_override_reason")  # HR cannot override a block

    browser.fill("#id_reason", "Please")  # asking again with a reason changes nothing either
    browser.submit(browser.find("#cv-update-preview"))
    assert "will not happen" in _row(browser, over_forty.pk).text
    assert not browser.find_all("#cv-confirm")
    assert _footprint(over_forty) == before == ("proposed", 0, 0)


def test_an_admin_overrides_a_block_with_a_reason_and_it_is_logged(browser, admin, over_forty):
    browser.signed_in_as(admin)

    browser.run_action(ASSIGNMENTS, "Approve selected assignments…", over_forty.pk)
    assert not browser.find_all("#cv-confirm")
    browser.fill("#id_reason", "Covers the winter peak")
    browser.fill("#id_override_reason", "Board decision 12/2026")
    browser.submit(browser.find("#cv-update-preview"))
    row = _row(browser, over_forty.pk)
    assert "goes ahead" in row.text
    [overridden] = browser.find_all(".cv-rule-overridden", row)
    assert "MAX-40 — Forty hours" in overridden.text
    assert _footprint(over_forty) == ("proposed", 0, 0)

    browser.submit(browser.find("#cv-confirm"))
    [(level, text)] = browser.messages()
    assert level == "success"
    assert text.startswith("Approve: done for 1 of 1 selected assignments:")
    log = AssignmentTransitionLog.objects.get(assignment=over_forty)
    assert (log.transition, log.reason, log.override_reason) == (
        "approve",
        "Covers the winter peak",
        "Board decision 12/2026",
    )
    assert Assignment.objects.get(pk=over_forty.pk).state == "approved"
