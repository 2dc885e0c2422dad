"""Writes for the rule catalogue: validation against the type's schema, and versioning on every edit."""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from jsonschema import Draft202012Validator

from apps.business_rules.choices import KNOWN_EVENTS
from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.registry import REGISTRY
from backend.db import atomic_with_retry
from backend.errors import InvalidInputError

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


def _params_path(parts) -> str:
    return ".".join(["params", *(str(p) for p in parts)])


def params_errors(rule_type: str, params: Any) -> dict[str, list[str]]:
    """``params`` checked against the type's JSON schema: {"params.<path>": [messages]} (empty when valid)."""
    if not isinstance(params, dict):
        return {"params": ["Must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    validator = Draft202012Validator(REGISTRY[rule_type].params_schema)
    for error in sorted(validator.iter_errors(params), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = list(error.absolute_path)
        if error.validator == "required":
            # Name the missing param itself, not the object that lacks it.
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    errors.setdefault(_params_path([*path, name]), []).append("This param is required.")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in sorted(set(error.instance) - known):
                allowed = ", ".join(sorted(known)) or "none"
                errors.setdefault(_params_path([*path, name]), []).append(f"Unknown param (allowed: {allowed}).")
            continue
        if error.validator == "anyOf" and all(set(s) == {"required"} for s in error.validator_value):
            names = ", ".join(name for s in error.validator_value for name in s["required"])
            errors.setdefault(_params_path(path), []).append(f"Give at least one of: {names}.")
            continue
        errors.setdefault(_params_path(path), []).append(error.message)
    check = REGISTRY[rule_type].check
    if not errors and check is not None:
        errors.update(check(params))
    return errors


def rule_errors(*, rule_type: Any, params: Any, events: Any, valid_from=None, valid_to=None) -> dict[str, list[str]]:
    """Every problem with a rule definition, by field (params by their path, e.g. ``params.max_hours``)."""
    errors: dict[str, list[str]] = {}
    if rule_type not in REGISTRY:
        errors["rule_type"] = [f"Unknown rule type '{rule_type}'. Known: {', '.join(sorted(REGISTRY))}."]
    else:
        errors.update(params_errors(rule_type, params))
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors["events"] = ["A non-empty list of event names."]
    else:
        unknown = [e for e in events if e not in KNOWN_EVENTS]
        if unknown:
            errors["events"] = [f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(KNOWN_EVENTS)}."]
        elif len(set(events)) != len(events):
            errors["events"] = ["Each event may be listed once."]
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = ["Must be on or after valid_from."]
    return errors


def rule_validate(*, rule_type: Any, params: Any, events: Any, valid_from=None, valid_to=None) -> None:
    """400 naming every offending field (and each bad param by its path) when a rule's definition is not valid."""
    errors = rule_errors(rule_type=rule_type, params=params, events=events, valid_from=valid_from, valid_to=valid_to)
    if errors:
        raise InvalidInputError(errors)


def _snapshot(rule: BusinessRule) -> dict:
    data = {name: getattr(rule, name) for name in VERSIONED_FIELDS}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _record_version(rule: BusinessRule, actor) -> None:
    BusinessRuleVersion.objects.create(
        rule=rule, version=rule.version, snapshot=_snapshot(rule), actor=actor if getattr(actor, "pk", None) else None
    )


@atomic_with_retry
def rule_create(*, actor=None, **fields) -> BusinessRule:
    """Create a rule at version 1 and keep its snapshot."""
    fields.setdefault("params", {})
    rule_validate(
        rule_type=fields.get("rule_type"),
        params=fields["params"],
        events=fields.get("events"),
        valid_from=fields.get("valid_from"),
        valid_to=fields.get("valid_to"),
    )
    rule = BusinessRule.objects.create(**fields)
    _record_version(rule, actor)
    return rule


@atomic_with_retry
def rule_update(*, rule: BusinessRule, actor=None, **fields) -> BusinessRule:
    """Apply an edit; any real change bumps the version and keeps a snapshot (logs cite code + version).

    The code is the rule's identity in every log row, so it cannot change (400).
    """
    rule = BusinessRule.objects.select_for_update().get(pk=rule.pk)
    if "code" in fields and fields["code"] != rule.code:
        raise InvalidInputError({"code": ["A rule's code cannot change: logs cite it. Create a new rule."]})
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
