"""Writes for coverage requirements (the demand side)."""

from apps.demand.models import CoverageRequirement
from backend.db import atomic_with_retry

EDITABLE_FIELDS = (
    "position",
    "valid_from",
    "valid_to",
    "required_headcount",
    "required_weekly_hours",
    "priority",
    "notes",
)


@atomic_with_retry
def coverage_requirement_create(**fields) -> CoverageRequirement:
    """Record that a position needs people and hours over a period."""
    return CoverageRequirement.objects.create(**{k: v for k, v in fields.items() if k in EDITABLE_FIELDS})


@atomic_with_retry
def coverage_requirement_update(*, requirement: CoverageRequirement, **fields) -> CoverageRequirement:
    """Change a requirement (a fresh, locked read, so concurrent edits do not interleave)."""
    requirement = CoverageRequirement.objects.select_for_update().get(pk=requirement.pk)
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(requirement, name, value)
    requirement.save()
    return requirement


@atomic_with_retry
def coverage_requirement_delete(*, requirement: CoverageRequirement) -> None:
    """Remove a requirement (demand is planning data, not an audit record: nothing else points at it)."""
    CoverageRequirement.objects.filter(pk=requirement.pk).delete()
