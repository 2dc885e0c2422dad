"""A refused save keeps the form as typed, with the reason at the top and nothing written (employee, org unit).

The services refuse what the form cannot know about (a rule, a conflict with a concurrent change, the service's
own validation, a database constraint); here they are made to refuse, and the admin must show the form again.
"""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from apps.api import admin as api_admin
from apps.api.models import Employee, OrgUnit
from backend.errors import ConflictError, InvalidInputError, NotFoundError, RuleViolationError

pytestmark = pytest.mark.django_db

REFUSALS = {
    "conflict": (ConflictError("The employee was changed by someone else; reload and try again."), "someone else"),
    "validation": (InvalidInputError({"hire_date": ["Before the first transition."]}), "hire_date: Before"),
    "rule": (
        RuleViolationError(
            "Refused by a business rule.",
            details={"violations": [{"rule": "HIRE-FREEZE", "severity": "block", "message": "Hiring is frozen."}]},
        ),
        "Blocked by: HIRE-FREEZE: Hiring is frozen.",
    ),
    "constraint": (IntegrityError("duplicate key"), "a database constraint refused it"),
}


@pytest.fixture
def hr_client(client, make_user):
    client.force_login(make_user("hr"))
    return client


def _refuse(monkeypatch, name: str, exc: Exception, *, after: int = 0) -> list:
    """Make ``apps.api.admin.<name>`` raise ``exc`` from its ``after``-th call on; returns the calls made."""
    calls = []
    real = getattr(api_admin, name)

    def fake(**kwargs):
        calls.append(kwargs)
        if len(calls) > after:
            raise exc
        return real(**kwargs)

    monkeypatch.setattr(api_admin, name, fake)
    return calls


def _employee_form(world, **changes) -> dict:
    data = {
        "employee_number": world.employee.employee_number,
        "first_name": "Augusta",
        "last_name": "King",
        "email": "augusta@coveris.test",
        "org_unit": world.grandchild.pk,
        "contracted_weekly_hours": "32.5",
        "hire_date": "2026-02-02",
    }
    return {**data, **changes}


def _top_error(response) -> str:
    [error] = response.context["adminform"].form.non_field_errors()
    return error


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_a_refused_employee_change_shows_the_form_as_typed_with_the_reason(hr_client, world, monkeypatch, kind):
    exc, words = REFUSALS[kind]
    _refuse(monkeypatch, "employee_update", exc)
    before = Employee.objects.values().get(pk=world.employee.pk)
    url = reverse("admin:api_employee_change", args=[world.employee.pk])
    response = hr_client.post(url, _employee_form(world))
    assert response.status_code == 200
    error = _top_error(response)
    assert error.startswith("Not saved:")
    assert words in error
    page = response.content.decode()
    assert 'value="Augusta"' in page
    assert 'value="32.5"' in page
    assert 'value="2026-02-02"' in page
    assert error.replace("'", "&#x27;") in page  # shown, at the top (Django's errornote + the form's errors)
    assert Employee.objects.values().get(pk=world.employee.pk) == before


def test_a_refused_employee_add_writes_nothing(hr_client, world, monkeypatch):
    _refuse(monkeypatch, "employee_create", ConflictError("Employee number E-NEW was just taken."))
    count = Employee.objects.count()
    response = hr_client.post(reverse("admin:api_employee_add"), _employee_form(world, employee_number="E-NEW"))
    assert response.status_code == 200
    assert "E-NEW was just taken" in _top_error(response)
    assert 'value="E-NEW"' in response.content.decode()
    assert Employee.objects.count() == count


def test_a_refusal_between_the_check_and_the_save_shows_the_form_again(hr_client, world, monkeypatch):
    """The form's trial run passes, then the real save is refused (someone changed something meanwhile): the admin
    asks again, the trial run now meets the refusal, and the form comes back as typed; nothing is written."""
    calls = _refuse(monkeypatch, "employee_update", ConflictError("Changed meanwhile."), after=1)
    before = Employee.objects.values().get(pk=world.employee.pk)
    url = reverse("admin:api_employee_change", args=[world.employee.pk])
    response = hr_client.post(url, _employee_form(world))
    assert response.status_code == 200
    assert "Changed meanwhile." in _top_error(response)
    assert len(calls) == 3  # trial (passes), save (refused, rolled back), trial again (refused)
    assert Employee.objects.values().get(pk=world.employee.pk) == before


def test_an_unrefused_employee_change_is_saved_once_through_the_service(hr_client, world, monkeypatch):
    calls = _refuse(monkeypatch, "employee_update", AssertionError("never"), after=2)
    url = reverse("admin:api_employee_change", args=[world.employee.pk])
    response = hr_client.post(url, _employee_form(world))
    assert response.status_code == 302
    assert len(calls) == 2  # the trial run (rolled back) and the save
    employee = Employee.objects.get(pk=world.employee.pk)
    assert (employee.first_name, str(employee.contracted_weekly_hours)) == ("Augusta", "32.50")


@pytest.mark.parametrize("kind", ["conflict", "validation"])
def test_a_refused_org_unit_change_shows_the_form_as_typed_with_the_reason(hr_client, world, monkeypatch, kind):
    exc, words = REFUSALS[kind]
    _refuse(monkeypatch, "org_unit_update", exc)
    before = list(OrgUnit.objects.order_by("pk").values())
    url = reverse("admin:api_orgunit_change", args=[world.child.pk])
    data = {"code": "SALES-EU", "name": "Sales Europe", "parent": world.other.pk, "is_active": "on"}
    response = hr_client.post(url, data)
    assert response.status_code == 200
    error = _top_error(response)
    assert error.startswith("Not saved:")
    assert words in error
    page = response.content.decode()
    assert 'value="SALES-EU"' in page
    assert 'value="Sales Europe"' in page
    assert list(OrgUnit.objects.order_by("pk").values()) == before


def test_a_refused_org_unit_add_writes_nothing(hr_client, world, monkeypatch):
    _refuse(monkeypatch, "org_unit_create", NotFoundError("The parent org unit no longer exists."))
    count = OrgUnit.objects.count()
    data = {"code": "NEW", "name": "New unit", "parent": world.child.pk, "is_active": "on"}
    response = hr_client.post(reverse("admin:api_orgunit_add"), data)
    assert response.status_code == 200
    assert "The parent org unit no longer exists." in _top_error(response)
    assert OrgUnit.objects.count() == count
