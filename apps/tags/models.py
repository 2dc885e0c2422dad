from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tags.choices import TagAction, TagCategory, TagTarget
from backend import timezones
from backend.audit.db import append_only_triggers
from backend.audit.models import ChainedModel
from backend.bounds import validate_date_in_range
from backend.instances import FastLoading


class TagCatalog(FastLoading, models.Model):
    """A skill, certification or language that employees hold and positions require."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=TagCategory.choices, default=TagCategory.SKILL)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "tag"
        constraints = [
            models.CheckConstraint(condition=Q(category__in=TagCategory.values), name="tags_catalog_category_valid"),
        ]

    def __str__(self) -> str:
        return self.code


class EmployeeTag(FastLoading, models.Model):
    """An employee holds a tag at a level, valid over a date range (open-ended when valid_until is null)."""

    employee = models.ForeignKey("api.Employee", on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(TagCatalog, on_delete=models.PROTECT, related_name="employee_tags")
    level = models.PositiveSmallIntegerField(default=1)
    valid_from = models.DateField(default=timezones.today, validators=[validate_date_in_range])
    valid_until = models.DateField(null=True, blank=True, validators=[validate_date_in_range])

    class Meta:
        ordering = ["employee_id", "tag__code"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "tag", "valid_from"], name="tags_employeetag_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="tags_employeetag_valid_range",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=10), name="tags_employeetag_level_range"),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "open-ended"
        return f"{self.employee.employee_number} {self.tag.code} level {self.level}, {self.valid_from}–{until}"


class PositionTag(FastLoading, models.Model):
    """A position asks for a tag at a minimum level; ``required`` false means "nice to have"."""

    position = models.ForeignKey("api.Position", on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey(TagCatalog, on_delete=models.PROTECT, related_name="position_tags")
    min_level = models.PositiveSmallIntegerField(default=1)
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["position_id", "tag__code"]
        constraints = [
            models.UniqueConstraint(fields=["position", "tag"], name="tags_positiontag_unique"),
            models.CheckConstraint(
                condition=Q(min_level__gte=1, min_level__lte=10), name="tags_positiontag_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position.code} needs {self.tag.code} ≥ {self.min_level}"


class TagChangeLog(ChainedModel):
    """One add, change or removal of an employee or position tag, with before/after (append-only)."""

    action = models.CharField(max_length=16, choices=TagAction.choices)
    target_type = models.CharField(max_length=16, choices=TagTarget.choices)
    target_id = models.BigIntegerField(help_text="The EmployeeTag or PositionTag id (kept after removal).")
    employee = models.ForeignKey("api.Employee", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.ForeignKey("api.Position", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tag = models.ForeignKey(TagCatalog, on_delete=models.PROTECT, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]
        triggers = append_only_triggers()
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="tags_log_target"),
            models.Index(fields=["created_at", "id"], name="tags_log_time_order"),  # the audit list's order
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} tag {self.tag.code}"
