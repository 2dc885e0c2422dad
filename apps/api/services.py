"""Writes for org structure and employees."""

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from rest_framework import exceptions

from apps.api.models import Employee, OrgUnit


def _path_for(unit: OrgUnit, parent: OrgUnit | None) -> str:
    return f"{parent.path if parent else '/'}{unit.pk}/"


@transaction.atomic
def org_unit_create(*, code: str, name: str, parent: OrgUnit | None = None, is_active: bool = True) -> OrgUnit:
    """Create a unit and give it its materialized path."""
    unit = OrgUnit.objects.create(code=code, name=name, parent=parent, is_active=is_active)
    unit.path = _path_for(unit, parent)
    unit.depth = unit.path.count("/") - 2
    unit.save(update_fields=["path", "depth"])
    return unit


@transaction.atomic
def org_unit_update(*, unit: OrgUnit, **fields) -> OrgUnit:
    """Update a unit; moving it rewrites the paths of its whole subtree in one UPDATE, refusing cycles."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    new_parent = fields.pop("parent", unit.parent)
    for name, value in fields.items():
        setattr(unit, name, value)
    if new_parent != unit.parent:
        if new_parent is not None:
            new_parent = OrgUnit.objects.select_for_update().get(pk=new_parent.pk)
            if new_parent.path.startswith(unit.path):
                raise exceptions.ValidationError(
                    {"parent": [f"'{new_parent.code}' is inside '{unit.code}': a unit cannot move under itself."]}
                )
        old_path = unit.path
        new_path = _path_for(unit, new_parent)
        depth_shift = new_path.count("/") - old_path.count("/")
        OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1)), depth=F("depth") + depth_shift
        )
        unit.parent = new_parent
        unit.path = new_path
        unit.depth = new_path.count("/") - 2
    unit.save()
    return unit


def org_unit_subtree(unit: OrgUnit):
    """The unit and every unit below it, in one query (no recursion in Python)."""
    return OrgUnit.objects.filter(path__startswith=unit.path)


@transaction.atomic
def employee_create(**fields) -> Employee:
    """Create an employee; their state starts at ``pending`` and changes only through transitions."""
    fields.pop("state", None)
    return Employee.objects.create(**fields)


@transaction.atomic
def employee_update(*, employee: Employee, **fields) -> Employee:
    """Update an employee's data (never its state)."""
    if "state" in fields:
        raise exceptions.ValidationError(
            {"state": ["State changes only through POST /api/employees/{id}/transitions/."]}
        )
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    for name, value in fields.items():
        setattr(employee, name, value)
    employee.save()
    return employee
