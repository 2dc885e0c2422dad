"""Writes for the tag catalogue, employee tags and position tags.

Every add, change and removal of an employee or position tag writes one ``TagChangeLog`` row in the same
transaction as the change (SPEC §4 Tags). The API and the admin both come through here, so there is one
write path and one audit trail. Validation lives in the ``*_errors`` functions so the admin's forms can
show the same messages before anything is written.
"""

import datetime
from typing import Any

from django.db import IntegrityError, transaction

from apps.api.models import Employee, Position
from apps.api.timezones import employee_today
from apps.tags.choices import TagAction, TagCategory, TagTarget
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from apps.users.models import User
from backend.db import atomic_with_retry
from backend.errors import ConflictError, InvalidInputError, NotFoundError
from backend.request_context import request_id_for_storage

LEVEL_MIN = 1
LEVEL_MAX = 10


class _Unset:
    """Marks a keyword the caller did not pass (``None`` is a real value for ``valid_until``)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

Errors = dict[str, list[str]]


# --- snapshots and the log row ------------------------------------------------------------------


def employee_tag_snapshot(employee_tag: EmployeeTag) -> dict:
    """The employee tag's fields as JSON (dates as ISO strings), as stored in before/after."""
    return {
        "employee": employee_tag.employee_id,
        "tag": employee_tag.tag_id,
        "tag_code": employee_tag.tag.code,
        "level": employee_tag.level,
        "valid_from": employee_tag.valid_from.isoformat(),
        "valid_until": employee_tag.valid_until.isoformat() if employee_tag.valid_until else None,
    }


def position_tag_snapshot(position_tag: PositionTag) -> dict:
    """The position tag's fields as JSON, as stored in before/after."""
    return {
        "position": position_tag.position_id,
        "tag": position_tag.tag_id,
        "tag_code": position_tag.tag.code,
        "min_level": position_tag.min_level,
        "required": position_tag.required,
    }


def _log(
    *,
    action: str,
    target: EmployeeTag | PositionTag,
    target_id: int,
    before: dict | None,
    after: dict | None,
    actor: User | None,
) -> TagChangeLog:
    is_employee = isinstance(target, EmployeeTag)
    return TagChangeLog.objects.create(
        action=action,
        target_type=TagTarget.EMPLOYEE if is_employee else TagTarget.POSITION,
        target_id=target_id,
        employee_id=target.employee_id if is_employee else None,
        position_id=None if is_employee else target.position_id,
        tag_id=target.tag_id,
        before=before,
        after=after,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        request_id=request_id_for_storage(),
    )


def _locked(queryset, pk: int):
    """A fresh, locked read of the row; gone meanwhile (a concurrent removal) is a 404, not a crash."""
    try:
        return queryset.select_for_update(of=("self",)).get(pk=pk)
    except queryset.model.DoesNotExist as exc:
        raise NotFoundError() from exc


def _raise(errors: Errors) -> None:
    if errors:
        raise InvalidInputError(errors)


# --- validation (shared with the admin forms) ---------------------------------------------------


def _level_errors(field: str, level: Any) -> Errors:
    if not isinstance(level, int) or isinstance(level, bool) or not LEVEL_MIN <= level <= LEVEL_MAX:
        return {field: [f"Must be a whole number from {LEVEL_MIN} to {LEVEL_MAX}."]}
    return {}


def _tag_assignable_errors(tag: TagCatalog) -> Errors:
    if not tag.is_active:
        return {"tag": [f"Tag '{tag.code}' is inactive and cannot be newly assigned."]}
    return {}


def employee_tag_errors(
    *,
    employee_id: int,
    tag: TagCatalog,
    level: Any,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    instance_id: int | None = None,
) -> Errors:
    """Why these employee-tag values cannot be stored (empty when they can); ``instance_id``: the row changed."""
    errors: Errors = {}
    errors.update(_level_errors("level", level))
    if instance_id is None:
        errors.update(_tag_assignable_errors(tag))
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = [f"Must be on or after valid_from ({valid_from.isoformat()})."]
    duplicate = EmployeeTag.objects.filter(employee_id=employee_id, tag=tag, valid_from=valid_from)
    if instance_id is not None:
        duplicate = duplicate.exclude(pk=instance_id)
    if "tag" not in errors and duplicate.exists():
        errors["tag"] = [_employee_duplicate_message(tag, valid_from)]
    return errors


def _employee_duplicate_message(tag: TagCatalog, valid_from: datetime.date) -> str:
    return (
        f"This employee already holds tag '{tag.code}' from {valid_from.isoformat()}: "
        "(employee, tag, valid_from) must be unique."
    )


def position_tag_errors(*, position_id: int, tag: TagCatalog, min_level: Any, instance_id: int | None = None) -> Errors:
    """Why these position-tag values cannot be stored (empty when they can)."""
    errors: Errors = {}
    errors.update(_level_errors("min_level", min_level))
    if instance_id is None:
        errors.update(_tag_assignable_errors(tag))
    duplicate = PositionTag.objects.filter(position_id=position_id, tag=tag)
    if instance_id is not None:
        duplicate = duplicate.exclude(pk=instance_id)
    if "tag" not in errors and duplicate.exists():
        errors["tag"] = [_position_duplicate_message(tag)]
    return errors


def _position_duplicate_message(tag: TagCatalog) -> str:
    return f"This position already asks for tag '{tag.code}': (position, tag) must be unique."


def tag_catalog_errors(*, code: str, name: str, category: str, instance_id: int | None = None) -> Errors:
    """Why these catalogue values cannot be stored (empty when they can)."""
    errors: Errors = {}
    if not code:
        errors["code"] = ["This field may not be blank."]
    elif TagCatalog.objects.filter(code=code).exclude(pk=instance_id).exists():
        errors["code"] = [f"A tag with code '{code}' already exists."]
    if not name:
        errors["name"] = ["This field may not be blank."]
    if category not in TagCategory.values:
        errors["category"] = [f"'{category}' is not one of: {', '.join(TagCategory.values)}."]
    return errors


# --- catalogue ----------------------------------------------------------------------------------


@atomic_with_retry
def tag_catalog_create(
    *, code: str, name: str, category: str = TagCategory.SKILL, is_active: bool = True
) -> TagCatalog:
    """Add a tag to the catalogue."""
    code, name = code.strip(), name.strip()
    _raise(tag_catalog_errors(code=code, name=name, category=category))
    try:
        with transaction.atomic():
            return TagCatalog.objects.create(code=code, name=name, category=category, is_active=is_active)
    except IntegrityError as exc:  # a concurrent insert of the same code won the race
        raise InvalidInputError({"code": [f"A tag with code '{code}' already exists."]}) from exc


@atomic_with_retry
def tag_catalog_update(
    *,
    tag: TagCatalog,
    code: str | _Unset = UNSET,
    name: str | _Unset = UNSET,
    category: str | _Unset = UNSET,
    is_active: bool | _Unset = UNSET,
) -> TagCatalog:
    """Rename, recategorise, deactivate or reactivate a catalogue tag (its holders keep it)."""
    tag = _locked(TagCatalog.objects, tag.pk)
    changes = {
        key: value.strip() if isinstance(value, str) and key in ("code", "name") else value
        for key, value in {"code": code, "name": name, "category": category, "is_active": is_active}.items()
        if value is not UNSET
    }
    merged = {"code": tag.code, "name": tag.name, "category": tag.category, **changes}
    merged.pop("is_active", None)
    _raise(tag_catalog_errors(**merged, instance_id=tag.pk))
    for key, value in changes.items():
        setattr(tag, key, value)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError as exc:
        raise InvalidInputError({"code": [f"A tag with code '{tag.code}' already exists."]}) from exc
    return tag


@atomic_with_retry
def tag_catalog_delete(*, tag: TagCatalog) -> None:
    """Delete a catalogue tag that was never used; a tag with holders or history can only be deactivated."""
    tag = _locked(TagCatalog.objects, tag.pk)
    in_use = (
        EmployeeTag.objects.filter(tag=tag).exists()
        or PositionTag.objects.filter(tag=tag).exists()
        or TagChangeLog.objects.filter(tag=tag).exists()
    )
    if in_use:
        raise ConflictError(
            f"Tag '{tag.code}' is or was assigned and its history must stay readable: deactivate it instead "
            "(is_active=false).",
            details={"tag": tag.pk},
        )
    tag.delete()


# --- employee tags ------------------------------------------------------------------------------


@atomic_with_retry
def employee_tag_add(
    *,
    employee: Employee,
    tag: TagCatalog,
    actor: User | None,
    level: int = 1,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> EmployeeTag:
    """Give an employee a tag at a level over a validity period, and log the addition."""
    valid_from = valid_from or employee_today(employee)
    _raise(
        employee_tag_errors(
            employee_id=employee.pk, tag=tag, level=level, valid_from=valid_from, valid_until=valid_until
        )
    )
    employee_tag = EmployeeTag(employee=employee, tag=tag, level=level, valid_from=valid_from, valid_until=valid_until)
    try:
        with transaction.atomic():
            employee_tag.save()
    except IntegrityError as exc:  # a concurrent add of the same (employee, tag, valid_from)
        raise InvalidInputError({"tag": [_employee_duplicate_message(tag, valid_from)]}) from exc
    _log(
        action=TagAction.ADD,
        target=employee_tag,
        target_id=employee_tag.pk,
        before=None,
        after=employee_tag_snapshot(employee_tag),
        actor=actor,
    )
    return employee_tag


@atomic_with_retry
def employee_tag_change(
    *,
    employee_tag: EmployeeTag,
    actor: User | None,
    level: int | _Unset = UNSET,
    valid_from: datetime.date | _Unset = UNSET,
    valid_until: datetime.date | None | _Unset = UNSET,
) -> EmployeeTag:
    """Change an employee tag's level or validity; logs before/after, and nothing when nothing changed.

    The employee and the tag are the row's identity: to change them, remove the tag and add another.
    """
    current = _locked(EmployeeTag.objects.select_related("tag"), employee_tag.pk)
    before = employee_tag_snapshot(current)
    changes = {
        key: value
        for key, value in {"level": level, "valid_from": valid_from, "valid_until": valid_until}.items()
        if value is not UNSET
    }
    for key, value in changes.items():
        setattr(current, key, value)
    after = employee_tag_snapshot(current)
    if after == before:
        return current
    _raise(
        employee_tag_errors(
            employee_id=current.employee_id,
            tag=current.tag,
            level=current.level,
            valid_from=current.valid_from,
            valid_until=current.valid_until,
            instance_id=current.pk,
        )
    )
    try:
        with transaction.atomic():
            current.save(update_fields=list(changes))
    except IntegrityError as exc:
        raise InvalidInputError({"tag": [_employee_duplicate_message(current.tag, current.valid_from)]}) from exc
    _log(action=TagAction.CHANGE, target=current, target_id=current.pk, before=before, after=after, actor=actor)
    return current


@atomic_with_retry
def employee_tag_remove(*, employee_tag: EmployeeTag, actor: User | None) -> None:
    """Take a tag away from an employee, and log the removal with what was there."""
    current = _locked(EmployeeTag.objects.select_related("tag"), employee_tag.pk)
    target_id = current.pk
    before = employee_tag_snapshot(current)
    current.delete()
    _log(action=TagAction.REMOVE, target=current, target_id=target_id, before=before, after=None, actor=actor)


# --- position tags ------------------------------------------------------------------------------


@atomic_with_retry
def position_tag_add(
    *, position: Position, tag: TagCatalog, actor: User | None, min_level: int = 1, required: bool = True
) -> PositionTag:
    """Make a position ask for a tag at a minimum level, and log the addition."""
    _raise(position_tag_errors(position_id=position.pk, tag=tag, min_level=min_level))
    position_tag = PositionTag(position=position, tag=tag, min_level=min_level, required=required)
    try:
        with transaction.atomic():
            position_tag.save()
    except IntegrityError as exc:  # a concurrent add of the same (position, tag)
        raise InvalidInputError({"tag": [_position_duplicate_message(tag)]}) from exc
    _log(
        action=TagAction.ADD,
        target=position_tag,
        target_id=position_tag.pk,
        before=None,
        after=position_tag_snapshot(position_tag),
        actor=actor,
    )
    return position_tag


@atomic_with_retry
def position_tag_change(
    *,
    position_tag: PositionTag,
    actor: User | None,
    min_level: int | _Unset = UNSET,
    required: bool | _Unset = UNSET,
) -> PositionTag:
    """Change a position tag's minimum level or whether it is required; logs before/after unless a no-op."""
    current = _locked(PositionTag.objects.select_related("tag"), position_tag.pk)
    before = position_tag_snapshot(current)
    changes = {
        key: value for key, value in {"min_level": min_level, "required": required}.items() if value is not UNSET
    }
    for key, value in changes.items():
        setattr(current, key, value)
    after = position_tag_snapshot(current)
    if after == before:
        return current
    _raise(
        position_tag_errors(
            position_id=current.position_id, tag=current.tag, min_level=current.min_level, instance_id=current.pk
        )
    )
    current.save(update_fields=list(changes))
    _log(action=TagAction.CHANGE, target=current, target_id=current.pk, before=before, after=after, actor=actor)
    return current


@atomic_with_retry
def position_tag_remove(*, position_tag: PositionTag, actor: User | None) -> None:
    """Stop a position asking for a tag, and log the removal with what was there."""
    current = _locked(PositionTag.objects.select_related("tag"), position_tag.pk)
    target_id = current.pk
    before = position_tag_snapshot(current)
    current.delete()
    _log(action=TagAction.REMOVE, target=current, target_id=target_id, before=before, after=None, actor=actor)
