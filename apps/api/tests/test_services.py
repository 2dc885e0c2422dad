"""The org-structure services directly: paths on create and move, cycle refusal, lifecycle fields refused."""

import datetime

import pytest
from django.db import connection

from apps.api.models import Employee, OrgUnit
from apps.api.services import (
    employee_create,
    employee_update,
    org_unit_create,
    org_unit_move_refusal,
    org_unit_subtree,
    org_unit_update,
    position_create,
    position_update,
)
from backend.errors import InvalidInputError


def test_org_unit_create_sets_path_and_depth(db):
    root = org_unit_create(code="R", name="Root")
    child = org_unit_create(code="C", name="Child", parent=root)
    assert (root.path, root.depth) == (f"/{root.pk}/", 0)
    assert (child.path, child.depth) == (f"/{root.pk}/{child.pk}/", 1)


def test_org_unit_update_moves_the_whole_subtree_in_one_statement(world, django_assert_max_num_queries):
    # lock unit + lock new parent + one UPDATE of the descendants + save: no per-descendant queries
    # (+ on PostgreSQL the advisory lock that serializes moves).
    with django_assert_max_num_queries(6 + (connection.vendor == "postgresql")):
        org_unit_update(unit=world.root, parent=world.other)
    expected = {
        "ROOT": f"{world.other.path}{world.root.pk}/",
        "SALES": f"{world.other.path}{world.root.pk}/{world.child.pk}/",
        "SALES-N": f"{world.other.path}{world.root.pk}/{world.child.pk}/{world.grandchild.pk}/",
    }
    assert dict(OrgUnit.objects.filter(code__in=expected).values_list("code", "path")) == expected
    assert dict(OrgUnit.objects.filter(code__in=expected).values_list("code", "depth")) == {
        "ROOT": 1,
        "SALES": 2,
        "SALES-N": 3,
    }
    assert sorted(u.code for u in org_unit_subtree(world.other)) == ["OTHER", "ROOT", "SALES", "SALES-N"]


@pytest.mark.parametrize("new_parent", ["root", "child", "grandchild"])
def test_org_unit_update_refuses_cycles(world, new_parent):
    with pytest.raises(InvalidInputError) as exc:
        org_unit_update(unit=world.root, parent=getattr(world, new_parent), name="Changed")
    assert "parent" in exc.value.details
    world.root.refresh_from_db()
    assert world.root.name == "Head office"
    assert world.root.parent_id is None


def test_move_refusal_allows_siblings_and_the_top(world):
    assert org_unit_move_refusal(unit=world.grandchild, new_parent=world.other) is None
    assert org_unit_move_refusal(unit=world.grandchild, new_parent=None) is None
    assert org_unit_move_refusal(unit=world.child, new_parent=world.grandchild)


def test_position_services(world):
    position = position_create(code="P1", title="One", org_unit=world.child, standard_weekly_hours=20)
    updated = position_update(position=position, title="Uno", org_unit=world.other)
    assert (updated.title, updated.org_unit_id) == ("Uno", world.other.pk)


@pytest.mark.parametrize("field", ["state", "termination_date"])
def test_employee_services_refuse_lifecycle_fields(world, field):
    value = "active" if field == "state" else datetime.date(2026, 5, 1)
    fields = {
        "employee_number": "E-S",
        "first_name": "A",
        "last_name": "B",
        "email": "a.b@coveris.test",
        "org_unit": world.child,
        "hire_date": datetime.date(2026, 1, 1),
    }
    with pytest.raises(InvalidInputError) as exc:
        employee_create(**fields, **{field: value})
    assert field in exc.value.details
    assert not Employee.objects.filter(employee_number="E-S").exists()
    with pytest.raises(InvalidInputError) as exc:
        employee_update(employee=world.employee, **{field: value})
    assert f"/api/employees/{world.employee.pk}/transitions/" in str(exc.value.details[field][0])


def test_employee_update_reads_a_fresh_row(world):
    stale = Employee.objects.get(pk=world.employee.pk)
    Employee.objects.filter(pk=world.employee.pk).update(last_name="Byron")
    updated = employee_update(employee=stale, first_name="Augusta")
    assert (updated.first_name, updated.last_name) == ("Augusta", "Byron")


def test_a_unit_created_under_a_parent_loaded_before_a_move_gets_the_current_path(db):
    """The API resolves ``parent`` during validation; if an ancestor moves before the create, the stale copy
    must not decide the new unit's path (it would fall outside its real subtree)."""
    from apps.api.models import OrgUnit
    from apps.api.services import org_unit_create, org_unit_update

    a, b = org_unit_create(code="SA", name="A"), org_unit_create(code="SB", name="B")
    p = org_unit_create(code="SP", name="P", parent=a)
    parent_as_validated = OrgUnit.objects.get(pk=p.pk)
    org_unit_update(unit=a, parent=b)
    child = org_unit_create(code="SN", name="N", parent=parent_as_validated)
    assert child.path == f"{OrgUnit.objects.get(pk=p.pk).path}{child.pk}/"
    assert OrgUnit.objects.filter(path__startswith=b.path, pk=child.pk).exists()
