"""The employee's admin shows the audit trail: the History page and a section of the employee's page list field
changes with before/after, transitions and tag changes, newest first, with actor and reason, in a constant number
of queries. PostgreSQL: field changes are captured by triggers."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.api.tests.factories import EmployeeFactory
from apps.fsm.services import employee_transition
from apps.tags.models import TagCatalog
from apps.tags.services import employee_tag_add
from backend.audit.context import audit_context

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def browser(client, admin_user):
    client.force_login(admin_user)
    return client


def history_url(employee) -> str:
    return reverse("admin:api_employee_history", args=[employee.pk])


def edit(employee, *, actor, reason: str, **fields) -> None:
    time.sleep(0.002)  # distinct times, so "newest first" is a real order
    with audit_context(user=actor.pk, reason=reason):
        for name, value in fields.items():
            setattr(employee, name, value)
        employee.save()


def test_the_history_page_is_the_merged_trail_newest_first_with_actor_and_reason(browser, admin_user):
    employee = EmployeeFactory(first_name="Ada", last_name="Lovelace")
    edit(employee, actor=admin_user, reason="typo in the name", first_name="Adah")
    time.sleep(0.002)
    employee_transition(employee_id=employee.pk, name="activate", actor=admin_user, reason="first day")
    time.sleep(0.002)
    tag = TagCatalog.objects.create(code="forklift", name="Forklift licence")
    employee_tag_add(employee=employee, tag=tag, actor=admin_user, level=2)

    response = browser.get(history_url(employee))
    assert response.status_code == 200
    trail = response.context["trail"]
    what = [row[2] for row in trail["rows"]]
    assert [w.split(" (effective")[0] for w in what] == [
        "tag forklift add",
        "transition activate",
        "changed",
        "created",
    ]
    changed = trail["rows"][2]
    assert (changed[1], changed[3], changed[4]) == (admin_user.email, "first_name: Ada → Adah", "typo in the name")
    transition = trail["rows"][1]
    assert (transition[1], transition[3], transition[4]) == (admin_user.email, "state: pending → active", "first day")
    assert trail["rows"][3][1] == "database"  # the factory's insert: no context
    content = response.content.decode()
    assert "first_name: Ada → Adah" in content
    assert "typo in the name" in content


def test_the_employee_page_shows_the_latest_of_the_trail(browser, admin_user):
    employee = EmployeeFactory(first_name="Ada")
    edit(employee, actor=admin_user, reason="name", first_name="Adah")
    response = browser.get(reverse("admin:api_employee_change", args=[employee.pk]))
    assert response.status_code == 200
    [panel] = [p for p in response.context["file_panels"] if p["title"].startswith("Audit trail")]
    assert [row[2] for row in panel["rows"]] == ["changed", "created"]
    assert panel["rows"][0][3] == "first_name: Ada → Adah"


def test_the_history_page_takes_the_same_number_of_queries_however_long_the_trail(browser, admin_user):
    short, long = EmployeeFactory(), EmployeeFactory()
    edit(short, actor=admin_user, reason="one", first_name="One")
    for n in range(12):
        edit(long, actor=admin_user, reason=f"edit {n}", first_name=f"Name {n}")
    for name in ("activate", "start_leave", "return_from_leave"):
        employee_transition(employee_id=long.pk, name=name, actor=admin_user)

    def queries(employee) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(history_url(employee)).status_code == 200
        return len(captured)

    browser.get(history_url(short))  # warm the session and the site's caches
    assert len(browser.get(history_url(long)).context["trail"]["rows"]) == 1 + 12 + 3
    assert queries(long) == queries(short)


def test_the_history_page_needs_admin_access(client, make_user):
    employee = EmployeeFactory()
    assert client.get(history_url(employee)).status_code == 302  # to the login page
