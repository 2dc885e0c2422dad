"""The admin lists, adds, changes and deletes coverage requirements (through the services)."""

import pytest

from apps.demand.models import CoverageRequirement
from apps.demand.tests.conftest import D
from apps.demand.tests.factories import CoverageRequirementFactory

ADMIN_URL = "/admin/demand/coveragerequirement/"


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("hr"))
    return client


def _form(position, **overrides) -> dict:
    return {
        "position": position.pk,
        "valid_from": "2026-04-01",
        "valid_to": "2026-04-30",
        "required_headcount": 2,
        "required_weekly_hours": "60",
        "priority": 2,
        "notes": "",
        **overrides,
    }


def test_changelist_search_and_filters(staff_client, position_in):
    CoverageRequirementFactory(position=position_in)
    for query in ("", "?q=IN", "?priority__exact=3", f"?position__org_unit__id__exact={position_in.org_unit_id}"):
        assert staff_client.get(ADMIN_URL + query).status_code == 200, query


def test_add_change_delete(staff_client, position_in):
    response = staff_client.post(f"{ADMIN_URL}add/", _form(position_in))
    assert response.status_code == 302, response.content.decode()[:2000]
    requirement = CoverageRequirement.objects.get()
    assert (requirement.required_headcount, requirement.valid_to) == (2, D(2026, 4, 30))

    response = staff_client.post(f"{ADMIN_URL}{requirement.pk}/change/", _form(position_in, priority=5, valid_to=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    requirement.refresh_from_db()
    assert (requirement.priority, requirement.valid_to) == (5, None)

    response = staff_client.post(f"{ADMIN_URL}{requirement.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CoverageRequirement.objects.exists()


def test_the_database_refuses_a_reversed_range_from_the_admin(staff_client, position_in):
    response = staff_client.post(f"{ADMIN_URL}add/", _form(position_in, valid_to="2026-03-01"))
    assert response.status_code == 200  # the form comes back with the error
    assert not CoverageRequirement.objects.exists()
