"""Signing in to the HR workspace in a real browser: HR gets in; an auditor is told why not, in words."""

import pytest

from apps.users.tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_signs_in_with_the_form_and_sees_the_workspace(browser, make_user):
    hr = make_user("hr", first_name="Hana")
    browser.sign_in(hr.email, DEFAULT_PASSWORD)
    assert browser.path == "/admin/"
    assert browser.find("#user-tools").text.upper().startswith("WELCOME")
    apps = browser.text("#content-main")
    for section in ("Employees", "Assignments", "Positions"):
        assert section in apps
    browser.assert_no_console_errors()


def test_an_auditor_is_told_the_workspace_is_not_for_their_role_not_that_the_password_is_wrong(browser, make_user):
    auditor = make_user("auditor")
    browser.sign_in(auditor.email, DEFAULT_PASSWORD)
    assert browser.path.startswith("/admin/login/")
    note = browser.text(".errornote")
    assert "Your password was accepted" in note
    assert "open to HR staff and admins only" in note
    assert "role is Auditor" in note
    assert "correct" not in note.lower()

    browser.sign_in(auditor.email, "a wrong password")
    assert "correct" in browser.text(".errornote").lower()
