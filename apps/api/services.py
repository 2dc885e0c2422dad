"""Writes for org structure, positions and employees."""

from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr

from apps.api.models import Employee, OrgUnit, Position
from apps.offer.services import ledger_contract_change
from backend.db import atomic_with_retry
from backend.errors import ConflictError, InvalidInputError, NotFoundError


def _path_for(unit: OrgUnit, parent: OrgUnit | None) -> str:
    return f"{parent.path if parent else '/'}{unit.pk}/"


@atomic_with_retry
def org_unit_create(
    *, code: str, name: str, parent: OrgUnit | None = None, is_active: bool = True, time_zone: str = ""
) -> OrgUnit:
    """Create a unit and give it its materialized path (from a fresh, locked read of the parent)."""
    if parent is not None:
        # The caller's copy may predate a move of an ancestor; the lock also makes a concurrent move of the
        # parent's subtree wait for this unit and then rewrite its path with the rest.
        parent = _lock_units(parent.pk)[parent.pk]
    unit = OrgUnit.objects.create(code=code, name=name, parent=parent, is_active=is_active, time_zone=time_zone)
    unit.path = _path_for(unit, parent)
    unit.depth = unit.path.count("/") - 2
    unit.save(update_fields=["path", "depth"])
    return unit


def _lock_units(*pks) -> dict:
    """Lock these units in primary-key order (two crossing moves wait for each other instead of deadlocking)."""
    wanted = {pk for pk in pks if pk is not None}
    locked = {u.pk: u for u in OrgUnit.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
    if set(locked) != wanted:
        raise NotFoundError("The org unit no longer exists.")
    return locked


# pg_advisory_xact_lock key held by every org-unit move until its transaction ends ("coveris" + 1).
ORG_UNIT_MOVE_LOCK = 0x636F7665726973_01


def _serialize_moves() -> None:
    """Moves run one at a time: the first lock every move takes, before any row lock (the global lock order).

    Locking "subtree + new parent in pk order" alone is not enough: while a move waits for its rows, another move
    can commit and put more units under its subtree, and the path rewrite then locks those too, out of order — three
    crossing moves (A→B, B→C, C→A) deadlocked that way. With moves serialized, a move's subtree cannot change under
    it (a concurrent create locks its parent, which is in the set, so it is waited for). Moves are rare admin edits;
    queuing them costs nothing. SQLite serializes every write transaction anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORG_UNIT_MOVE_LOCK])


def _lock_move(unit_pk, new_parent_pk) -> dict:
    """Lock the moving unit's whole subtree and its new parent in one statement, in primary-key order.

    Moves are serialized first (``_serialize_moves``), then lock their rows in primary-key order like every
    create, so crossing moves wait for each other instead of deadlocking. Rows that join the subtree while we
    wait (a concurrent create) are not in this set, but the path rewrite that follows is a new statement and
    sees (and updates) them.
    """
    _serialize_moves()
    for _ in range(3):
        path = OrgUnit.objects.filter(pk=unit_pk).values_list("path", flat=True).first()
        if path is None:
            raise NotFoundError("The org unit no longer exists.")
        scope = Q(path__startswith=path) | Q(pk=unit_pk)
        if new_parent_pk is not None:
            scope |= Q(pk=new_parent_pk)
        locked = {u.pk: u for u in OrgUnit.objects.select_for_update().filter(scope).order_by("pk")}
        if new_parent_pk is not None and new_parent_pk not in locked:
            raise NotFoundError("The new parent org unit no longer exists.")
        if locked[unit_pk].path == path:  # nobody moved it between the read and the lock
            return locked
    raise ConflictError("The org unit is being moved by someone else; try again.")


@atomic_with_retry
def org_unit_update(*, unit: OrgUnit, **fields) -> OrgUnit:
    """Update a unit; moving it rewrites the paths of its whole subtree in one UPDATE, refusing cycles."""
    moving = "parent" in fields
    new_parent = fields.pop("parent", None)
    new_parent_pk = new_parent.pk if new_parent is not None else None
    locked = _lock_move(unit.pk, new_parent_pk) if moving else _lock_units(unit.pk)
    unit = locked[unit.pk]  # a fresh read: paths may have changed since the caller loaded it
    for name, value in fields.items():
        setattr(unit, name, value)
    if moving and new_parent_pk != unit.parent_id:
        new_parent = locked[new_parent_pk] if new_parent_pk is not None else None
        refusal = org_unit_move_refusal(unit=unit, new_parent=new_parent)
        if refusal:
            raise InvalidInputError({"parent": [refusal]})
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


def org_unit_move_refusal(*, unit: OrgUnit, new_parent: OrgUnit | None) -> str | None:
    """Why ``unit`` cannot go under ``new_parent`` (a cycle), or None when it can; shared by the API and the admin."""
    if new_parent is None or unit.pk is None:
        return None
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        return f"'{new_parent.code}' is inside '{unit.code}': a unit cannot move under itself."
    return None


def org_unit_subtree(unit: OrgUnit):
    """The unit and every unit below it, in one query (no recursion in Python)."""
    return OrgUnit.objects.filter(path__startswith=unit.path)


@atomic_with_retry
def position_create(**fields) -> Position:
    """Create a position."""
    return Position.objects.create(**fields)


@atomic_with_retry
def position_update(*, position: Position, **fields) -> Position:
    """Update a position's data."""
    position = Position.objects.select_for_update().get(pk=position.pk)
    for name, value in fields.items():
        setattr(position, name, value)
    position.save()
    return position


# Fields only the lifecycle writes: ``state`` by any transition, ``termination_date`` by terminate/rehire.
EMPLOYEE_LIFECYCLE_FIELDS = ("state", "termination_date")


def employee_lifecycle_refusal(field: str, employee_id: int | None = None) -> str:
    """The message for a CRUD write that tries to set a lifecycle field."""
    where = f"/api/employees/{employee_id or '{id}'}/transitions/"
    return f"'{field}' is read-only: it changes only through a transition (POST {where})."


def _refuse_lifecycle_fields(fields: dict, employee_id: int | None = None) -> None:
    refused = [name for name in EMPLOYEE_LIFECYCLE_FIELDS if name in fields]
    if refused:
        raise InvalidInputError({name: [employee_lifecycle_refusal(name, employee_id)] for name in refused})


@atomic_with_retry
def employee_create(**fields) -> Employee:
    """Create an employee; they start ``pending`` and their state changes only through transitions."""
    _refuse_lifecycle_fields(fields)
    return Employee.objects.create(**fields)


@atomic_with_retry
def employee_update(*, employee: Employee, actor=None, **fields) -> Employee:
    """Update an employee's data (never its state or termination date: those belong to transitions)."""
    _refuse_lifecycle_fields(fields, employee.pk)
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    for name, value in fields.items():
        setattr(employee, name, value)
    employee.save()
    if "contracted_weekly_hours" in fields:  # the hours ledger re-rates the open contract, same transaction
        ledger_contract_change(employee=employee, actor=actor)
    return employee
