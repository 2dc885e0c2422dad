"""Org units over the API: creation and moves keep materialized paths right; cycles, duplicates, deletes."""

import pytest

from apps.api.models import OrgUnit
from apps.api.tests.conftest import ORG_UNITS_URL, assert_error, detail_url
from apps.api.tests.factories import OrgUnitFactory


@pytest.fixture
def hr_client(auth_client):
    return auth_client("hr")[0]


def test_create_root_and_child_get_their_paths(hr_client, db):
    root = hr_client.post(ORG_UNITS_URL, {"code": "HQ", "name": "Headquarters"})
    assert root.status_code == 201, root.content
    root_id = root.json()["id"]
    assert root.json()["path"] == f"/{root_id}/"
    assert root.json()["depth"] == 0
    child = hr_client.post(ORG_UNITS_URL, {"code": "IT", "name": "IT", "parent": root_id})
    assert child.status_code == 201, child.content
    body = child.json()
    assert body["path"] == f"/{root_id}/{body['id']}/"
    assert body["depth"] == 1
    assert body["parent_code"] == "HQ"
    assert OrgUnit.objects.get(pk=body["id"]).path == body["path"]


def test_path_and_depth_in_the_body_are_ignored(hr_client, world):
    response = hr_client.patch(detail_url(ORG_UNITS_URL, world.child.pk), {"path": "/1/", "depth": 7, "name": "S"})
    assert response.status_code == 200, response.content
    world.child.refresh_from_db()
    assert world.child.path == f"{world.root.path}{world.child.pk}/"
    assert world.child.depth == 1


def test_moving_a_unit_rewrites_its_subtree(hr_client, world):
    response = hr_client.patch(detail_url(ORG_UNITS_URL, world.child.pk), {"parent": world.other.pk})
    assert response.status_code == 200, response.content
    assert response.json()["path"] == f"{world.other.path}{world.child.pk}/"
    assert response.json()["parent_code"] == "OTHER"
    world.grandchild.refresh_from_db()
    assert world.grandchild.path == f"{world.other.path}{world.child.pk}/{world.grandchild.pk}/"
    assert world.grandchild.depth == 2
    world.root.refresh_from_db()
    assert world.root.path == f"/{world.root.pk}/"


def test_moving_a_unit_to_the_top(hr_client, world):
    response = hr_client.patch(detail_url(ORG_UNITS_URL, world.child.pk), {"parent": None})
    assert response.status_code == 200, response.content
    world.grandchild.refresh_from_db()
    assert world.grandchild.path == f"/{world.child.pk}/{world.grandchild.pk}/"
    assert world.grandchild.depth == 1


@pytest.mark.parametrize("new_parent", ["child", "grandchild"])
def test_cycle_is_400_naming_parent_and_changes_nothing(hr_client, world, new_parent):
    paths_before = dict(OrgUnit.objects.values_list("pk", "path"))
    target = getattr(world, new_parent)
    response = hr_client.patch(detail_url(ORG_UNITS_URL, world.child.pk), {"parent": target.pk, "name": "Renamed"})
    error = assert_error(response, 400, "validation_error", "parent")
    assert "cannot move under itself" in error["details"]["parent"][0]
    assert dict(OrgUnit.objects.values_list("pk", "path")) == paths_before
    world.child.refresh_from_db()
    assert world.child.name == "Sales"
    assert world.child.parent_id == world.root.pk


def test_root_cannot_move_under_its_own_descendant(hr_client, world):
    response = hr_client.put(
        detail_url(ORG_UNITS_URL, world.root.pk), {"code": "ROOT", "name": "HQ", "parent": world.grandchild.pk}
    )
    assert_error(response, 400, "validation_error", "parent")


def test_duplicate_code_is_400_naming_code(hr_client, world):
    assert_error(hr_client.post(ORG_UNITS_URL, {"code": "SALES", "name": "Again"}), 400, "validation_error", "code")
    response = hr_client.patch(detail_url(ORG_UNITS_URL, world.other.pk), {"code": "ROOT"})
    assert_error(response, 400, "validation_error", "code")
    assert OrgUnit.objects.filter(code="SALES").count() == 1


def test_keeping_its_own_code_is_not_a_duplicate(hr_client, world):
    response = hr_client.put(detail_url(ORG_UNITS_URL, world.child.pk), {"code": "SALES", "name": "Sales & more"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No code"}, "code"),
        ({"code": "", "name": "Blank"}, "code"),
        ({"code": "X" * 33, "name": "Too long"}, "code"),
        ({"code": "OK"}, "name"),
        ({"code": "OK", "name": "Bad parent", "parent": 999999}, "parent"),
        ({"code": "OK", "name": "Bad parent", "parent": "abc"}, "parent"),
        ({"code": "OK", "name": "Bad flag", "is_active": "perhaps"}, "is_active"),
    ],
)
def test_bad_create_bodies_are_400_naming_the_field(hr_client, world, body, field):
    count = OrgUnit.objects.count()
    assert_error(hr_client.post(ORG_UNITS_URL, body), 400, "validation_error", field)
    assert OrgUnit.objects.count() == count


def test_malformed_json_is_400(hr_client, db):
    response = hr_client.post(ORG_UNITS_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_list_body_is_400(hr_client, db):
    assert_error(hr_client.post(ORG_UNITS_URL, [{"code": "A", "name": "A"}]), 400, "validation_error")


def test_delete_empty_leaf(hr_client, world):
    leaf = OrgUnitFactory(parent=world.grandchild)
    assert hr_client.delete(detail_url(ORG_UNITS_URL, leaf.pk)).status_code == 204
    assert not OrgUnit.objects.filter(pk=leaf.pk).exists()


@pytest.mark.parametrize("unit", ["root", "grandchild"])
def test_delete_unit_with_children_or_people_is_409(hr_client, world, unit):
    target = getattr(world, unit)
    error = assert_error(hr_client.delete(detail_url(ORG_UNITS_URL, target.pk)), 409, "conflict")
    assert error["details"]["protected_by"]
    assert OrgUnit.objects.filter(pk=target.pk).exists()


def test_manager_reads_their_subtree_only(auth_client, world):
    client, _ = auth_client("manager", org_unit=world.child)
    rows = client.get(ORG_UNITS_URL).json()["results"]
    assert sorted(r["code"] for r in rows) == ["SALES", "SALES-N"]
    assert_error(client.get(detail_url(ORG_UNITS_URL, world.root.pk)), 404, "not_found")


def test_patch_answers_the_same_representation_as_get(auth_client):
    """A PATCH of a top-level unit still says ``parent_code: null`` (DRF drops default=None fields on PATCH)."""
    from apps.api.tests.factories import OrgUnitFactory

    client, _ = auth_client("hr")
    unit = OrgUnitFactory()
    patched = client.patch(f"/api/org-units/{unit.pk}/", {"name": "Renamed"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json() == client.get(f"/api/org-units/{unit.pk}/").json()
    assert patched.json()["parent_code"] is None
