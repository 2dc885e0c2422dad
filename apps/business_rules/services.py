"""Writes for the rule catalogue: validation against the type's schema, and versioning on every edit."""

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from jsonschema import Draft202012Validator
from rest_framework import exceptions

from apps.business_rules.choices import KNOWN_EVENTS
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.registry import REGISTRY

VERSIONED_FIELDS = (
    "code",
    "name",
    "description",
    "rule_type",
    "params",
    "severity",
    "events",
    "org_unit_id",
    "position_id",
    "is_active",
    "valid_from",
    "valid_to",
)


def rule_validate(*, rule_type: str, params: Any, events: Any, valid_from=None, valid_to=None) -> None:
    """400 naming the offending field (and the params path) when a rule's definition is not valid."""
    if rule_type not in REGISTRY:
        raise exceptions.ValidationError(
            {"rule_type": [f"Unknown rule type '{rule_type}'. Known: {', '.join(sorted(REGISTRY))}."]}
        )
    if not isinstance(params, dict):
        raise exceptions.ValidationError({"params": ["Must be a JSON object."]})
    errors = sorted(Draft202012Validator(REGISTRY[rule_type].params_schema).iter_errors(params), key=str)
    if errors:
        raise exceptions.ValidationError(
            {
                "params": [
                    f"{'params.' + '.'.join(str(p) for p in e.absolute_path) if e.absolute_path else 'params'}: "
                    f"{e.message}"
                    for e in errors
                ]
            }
        )
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise exceptions.ValidationError({"events": ["A non-empty list of event names."]})
    unknown = [e for e in events if e not in KNOWN_EVENTS]
    if unknown:
        raise exceptions.ValidationError(
            {"events": [f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(KNOWN_EVENTS)}."]}
        )
    if valid_from and valid_to and valid_to < valid_from:
        raise exceptions.ValidationError({"valid_to": ["Must be on or after valid_from."]})


def _snapshot(rule: BusinessRule) -> dict:
    import json

    data = {name: getattr(rule, name) for name in VERSIONED_FIELDS}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _record_version(rule: BusinessRule, actor) -> None:
    BusinessRuleVersion.objects.create(rule=rule, version=rule.version, snapshot=_snapshot(rule), actor=actor)


@transaction.atomic
def rule_create(*, actor=None, **fields) -> BusinessRule:
    """Create a rule at version 1 and keep its snapshot."""
    rule_validate(
        rule_type=fields.get("rule_type"),
        params=fields.get("params", {}),
        events=fields.get("events"),
        valid_from=fields.get("valid_from"),
        valid_to=fields.get("valid_to"),
    )
    rule = BusinessRule.objects.create(**fields)
    _record_version(rule, actor)
    return rule


@transaction.atomic
def rule_update(*, rule: BusinessRule, actor=None, **fields) -> BusinessRule:
    """Apply an edit; any real change bumps the version and keeps a snapshot (logs cite code + version)."""
    rule = BusinessRule.objects.select_for_update().get(pk=rule.pk)
    before = _snapshot(rule)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule_validate(
        rule_type=rule.rule_type,
        params=rule.params,
        events=rule.events,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
    )
    if _snapshot(rule) == before:
        return rule
    rule.version += 1
    rule.save()
    _record_version(rule, actor)
    return rule
