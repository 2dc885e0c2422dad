"""Positions over the API: validation, duplicates, scope and deletes."""

import datetime

import pytest

from apps.api.models import Position
from apps.api.tests.conftest import POSITIONS_URL, assert_error, detail_url
from apps.assignments.models import Assignment


@pytest.fixture
def hr_client(auth_client):
    return auth_client("hr")[0]


def test_create_and_update_a_position(hr_client, world):
    body = {"code": "CASHIER", "title": "Cashier", "org_unit": world.grandchild.pk, "standard_weekly_hours": "37.5"}
    response = hr_client.post(POSITIONS_URL, body)
    assert response.status_code == 201, response.content
    assert response.json()["org_unit_code"] == "SALES-N"
    assert response.json()["standard_weekly_hours"] == "37.50"
    pk = response.json()["id"]
    response = hr_client.patch(detail_url(POSITIONS_URL, pk), {"org_unit": world.other.pk, "is_active": False})
    assert response.status_code == 200, response.content
    assert response.json()["org_unit_code"] == "OTHER"
    position = Position.objects.get(pk=pk)
    assert position.org_unit_id == world.other.pk
    assert not position.is_active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "SELLER"}, "code"),
        ({"standard_weekly_hours": "0"}, "standard_weekly_hours"),
        ({"standard_weekly_hours": "-4"}, "standard_weekly_hours"),
        ({"standard_weekly_hours": "168.01"}, "standard_weekly_hours"),
        ({"standard_weekly_hours": "lots"}, "standard_weekly_hours"),
        ({"org_unit": 999999}, "org_unit"),
        ({"org_unit": None}, "org_unit"),
    ],
)
def test_bad_position_bodies_are_400_naming_the_field(hr_client, world, body, field):
    full = {"code": "NEW", "title": "New", "org_unit": world.child.pk, "standard_weekly_hours": "40", **body}
    count = Position.objects.count()
    assert_error(hr_client.post(POSITIONS_URL, full), 400, "validation_error", field)
    assert Position.objects.count() == count


def test_duplicate_code_on_update_is_400(hr_client, world):
    response = hr_client.patch(detail_url(POSITIONS_URL, world.outside_position.pk), {"code": "SELLER"})
    assert_error(response, 400, "validation_error", "code")


def test_delete_position_in_use_is_409(hr_client, world):
    Assignment.objects.create(
        employee=world.employee, position=world.position, start_date=datetime.date(2026, 2, 1), weekly_hours=10
    )
    assert_error(hr_client.delete(detail_url(POSITIONS_URL, world.position.pk)), 409, "conflict")
    assert Position.objects.filter(pk=world.position.pk).exists()


def test_delete_unused_position(hr_client, world):
    assert hr_client.delete(detail_url(POSITIONS_URL, world.outside_position.pk)).status_code == 204
    assert not Position.objects.filter(pk=world.outside_position.pk).exists()


def test_manager_reads_positions_in_their_subtree(auth_client, world):
    client, _ = auth_client("manager", org_unit=world.root)
    assert [r["code"] for r in client.get(POSITIONS_URL).json()["results"]] == ["SELLER"]
    assert_error(client.get(detail_url(POSITIONS_URL, world.outside_position.pk)), 404, "not_found")
