"""Role scoping of the org-structure selectors (SPEC §3): who reads which units, positions and employees."""

import pytest

from apps.api.models import OrgUnit
from apps.api.selectors import employee_list, org_unit_list, position_list
from apps.api.services import org_unit_update
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory


def _codes(qs):
    return sorted(obj.code for obj in qs)


def _numbers(qs):
    return sorted(e.employee_number for e in qs)


@pytest.mark.parametrize("role", ["admin", "hr", "auditor"])
def test_full_readers_see_everything(role, world, make_user):
    user = make_user(role)
    assert _codes(org_unit_list(user=user)) == ["OTHER", "ROOT", "SALES", "SALES-N"]
    assert _codes(position_list(user=user)) == ["OUT-POS", "SELLER"]
    assert _numbers(employee_list(user=user)) == ["E-CHILD", "E-GRAND", "E-OUT"]


def test_manager_sees_the_subtree_of_their_unit(world, make_user):
    manager = make_user("manager", org_unit=world.child)
    assert _codes(org_unit_list(user=manager)) == ["SALES", "SALES-N"]
    assert _codes(position_list(user=manager)) == ["SELLER"]
    assert _numbers(employee_list(user=manager)) == ["E-CHILD", "E-GRAND"]


def test_manager_of_a_leaf_sees_only_the_leaf(world, make_user):
    manager = make_user("manager", org_unit=world.grandchild)
    assert _codes(org_unit_list(user=manager)) == ["SALES-N"]
    assert _numbers(employee_list(user=manager)) == ["E-GRAND"]


def test_manager_without_org_unit_sees_nothing(world, make_user):
    manager = make_user("manager")
    assert not org_unit_list(user=manager).exists()
    assert not position_list(user=manager).exists()
    assert not employee_list(user=manager).exists()


def test_subtree_prefix_does_not_leak_into_sibling_ids(db, make_user):
    # "/7/" must not match "/71/": the trailing slash of the materialized path keeps them apart.
    unit = OrgUnitFactory(code="SHORT")
    lookalike_id = unit.pk * 10 + 1
    lookalike = OrgUnit.objects.create(id=lookalike_id, code="LONG", name="Lookalike", path=f"/{lookalike_id}/")
    EmployeeFactory(employee_number="E-LONG", org_unit=lookalike)
    manager = make_user("manager", org_unit=unit)
    assert _codes(org_unit_list(user=manager)) == ["SHORT"]
    assert not employee_list(user=manager).exists()


def test_employee_sees_own_record_unit_and_its_positions(world):
    user = world.employee_user
    assert _numbers(employee_list(user=user)) == ["E-CHILD"]
    assert _codes(org_unit_list(user=user)) == ["SALES"]
    assert _codes(position_list(user=user)) == ["SELLER"]


def test_employee_without_a_record_sees_nothing(world, make_user):
    user = make_user("employee")
    assert not employee_list(user=user).exists()
    assert not org_unit_list(user=user).exists()
    assert not position_list(user=user).exists()


@pytest.mark.parametrize("role", ["", "unknown"])
def test_no_or_unknown_role_sees_nothing(role, world, make_user):
    user = make_user("admin")
    user.role = role  # bypasses the database's role check: an unknown role must still read nothing
    assert not org_unit_list(user=user).exists()
    assert not position_list(user=user).exists()
    assert not employee_list(user=user).exists()


def test_inactive_user_sees_nothing(world, make_user):
    user = make_user("admin", is_active=False)
    assert not employee_list(user=user).exists()


def test_manager_scope_follows_a_moved_unit(world, make_user):
    manager = make_user("manager", org_unit=world.other)
    assert _numbers(employee_list(user=manager)) == ["E-OUT"]
    org_unit_update(unit=world.child, parent=world.other)
    manager.refresh_from_db()
    assert _codes(org_unit_list(user=manager)) == ["OTHER", "SALES", "SALES-N"]
    assert _numbers(employee_list(user=manager)) == ["E-CHILD", "E-GRAND", "E-OUT"]
