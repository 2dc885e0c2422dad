from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.business_rules.choices import Severity
from backend.audit.db import append_only_triggers
from backend.audit.models import ChainedModel
from backend.bounds import TEXT_MAX_LENGTH, validate_date_in_range
from backend.instances import FastLoading


class BusinessRule(FastLoading, models.Model):
    """A rule HR edits: a registered rule type with params, the events it guards, its scope and validity."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="", max_length=TEXT_MAX_LENGTH)
    rule_type = models.CharField(max_length=64, help_text="An identifier from GET /api/business-rules/types/.")
    params = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.BLOCK)
    events = models.JSONField(default=list, help_text='Events it applies to, e.g. ["assignment.approve"].')
    org_unit = models.ForeignKey(
        "api.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="business_rules",
        help_text="Applies within this unit's subtree only (blank: everywhere).",
    )
    position = models.ForeignKey(
        "api.Position",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="business_rules",
        help_text="Applies to this position only (blank: every position).",
    )
    is_active = models.BooleanField(default=True)
    valid_from = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    valid_to = models.DateField(null=True, blank=True, validators=[validate_date_in_range])
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="rules_rule_severity_valid"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="rules_rule_validity_range",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="rules_rule_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def applies_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class BusinessRuleVersion(ChainedModel):
    """A snapshot of a rule as it was at one version, so a log's (code, version) can always be read back."""

    rule = models.ForeignKey(BusinessRule, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule_id", "version"]
        triggers = append_only_triggers()
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="rules_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"
