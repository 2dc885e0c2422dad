"""The evaluation engine: every applicable rule for an event, each with an explanation a person can act on.

Called by the transition service (every employee and assignment transition), by assignment creation, by
clock events, by POST /api/business-rules/evaluate/ and by candidate matching. It only reads.
"""

import logging
from typing import Any

from django.db.models import QuerySet

from apps.business_rules.choices import Outcome, Severity
from apps.business_rules.facts import Facts
from apps.business_rules.models import BusinessRule
from apps.business_rules.registry import REGISTRY, Verdict
from apps.users.choices import Role

logger = logging.getLogger("coveris.rules")


def rule_in_scope(rule: BusinessRule, facts: Facts) -> bool:
    """A rule scoped to a position applies to that position only; to an org unit, to its whole subtree."""
    if rule.position_id is not None and (facts.position is None or facts.position.pk != rule.position_id):
        return False
    if rule.org_unit_id is not None:
        unit = facts.scope_org_unit
        if unit is None or not unit.path.startswith(rule.org_unit.path):
            return False
    return True


def applicable_rules(event: str, facts: Facts, rules: list[BusinessRule] | None = None) -> list[BusinessRule]:
    """Active rules for ``event``, valid on the effective date and in scope (one query unless ``rules`` given)."""
    if rules is None:
        rules = list(active_rules())
    day = facts.effective_date
    return [r for r in rules if event in (r.events or []) and r.applies_on(day) and rule_in_scope(r, facts)]


def active_rules() -> QuerySet:
    return BusinessRule.objects.filter(is_active=True).select_related("org_unit").order_by("code")


def result_for(rule: BusinessRule, verdict: Verdict) -> dict[str, Any]:
    return {
        "rule": rule.code,
        "version": rule.version,
        "rule_type": rule.rule_type,
        "outcome": (Outcome.PASS if verdict.passed else Outcome.FAIL).value,
        "severity": rule.severity,
        "message": verdict.message,
        "observed": verdict.observed,
        "threshold": verdict.threshold,
        "remediation": verdict.remediation,
        "related": verdict.related,
    }


def evaluate_rule(rule: BusinessRule, facts: Facts) -> dict[str, Any]:
    rule_type = REGISTRY.get(rule.rule_type)
    if rule_type is None:  # a type removed from code while rules still name it: fail loudly, explainably
        verdict = Verdict(
            False,
            f"Rule type '{rule.rule_type}' is not known to this version of Coveris.",
            rule.rule_type,
            sorted(REGISTRY),
            "Edit or deactivate the rule.",
        )
    else:
        try:
            verdict = rule_type.evaluate(rule.params or {}, facts)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            # Params that bypassed validation (e.g. raw SQL): an explainable failure, not a 500.
            logger.exception("rule %s (v%s) could not be evaluated", rule.code, rule.version)
            verdict = Verdict(
                False,
                f"Rule could not be evaluated: {type(exc).__name__}. Its params may not match its type.",
                rule.params,
                rule_type.params_schema,
                "Edit the rule's params so they match its type's schema, or deactivate it.",
            )
    return result_for(rule, verdict)


def evaluate_event(
    *, event: str, context: dict[str, Any], rules: list[BusinessRule] | None = None
) -> list[dict[str, Any]]:
    """Every applicable rule's result for ``event`` (not just the first failure).

    Queries: one for the rules (none when ``rules`` is passed in), plus at most one per kind of fact the
    rules read (assignments, employee tags, position tags) — not one per rule.
    """
    facts = Facts.from_context(event, context)
    return [evaluate_rule(rule, facts) for rule in applicable_rules(event, facts, rules)]


def rules_decision(
    results: list[dict], *, actor=None, acknowledge_warnings: bool = False, override_reason: str = ""
) -> str | None:
    """None when the change may go ahead; else why not: "rule_violation" or "warnings_not_acknowledged".

    A failing block rule stops it unless an admin overrides with a reason; failing warn rules need an
    explicit acknowledgement.
    """
    blocks = [r for r in results if r["outcome"] == Outcome.FAIL and r["severity"] == Severity.BLOCK]
    warns = [r for r in results if r["outcome"] == Outcome.FAIL and r["severity"] == Severity.WARN]
    if blocks and not (override_reason and getattr(actor, "role", None) == Role.ADMIN):
        return "rule_violation"
    if warns and not acknowledge_warnings:
        return "warnings_not_acknowledged"
    return None


def raise_for_decision(decision: str | None, results: list[dict]) -> None:
    """Raise the 422 that explains ``decision`` (no-op for None)."""
    from backend.errors import RuleViolationError

    if decision is None:
        return
    failing = [r for r in results if r["outcome"] == Outcome.FAIL]
    if decision == "rule_violation":
        raise RuleViolationError(
            "Business rules forbid this change.", details={"violations": failing, "rule_results": results}
        )
    raise RuleViolationError(
        "Warnings must be acknowledged: send acknowledge_warnings=true to proceed.",
        details={"violations": failing, "rule_results": results, "acknowledge_warnings_required": True},
    )


def event_evaluate(*, event: str, context: dict[str, Any]) -> dict[str, Any]:
    """What the rules would say if ``event`` happened with ``context``; reads only, writes nothing.

    ``allowed`` is false only when a block rule fails (failing warn rules merely need an acknowledgement);
    ``decision`` says why a real change would be refused, as ``rules_decision`` does.
    """
    results = evaluate_event(event=event, context=context)
    decision = rules_decision(results, actor=context.get("actor"))
    return {"event": event, "allowed": decision != "rule_violation", "decision": decision, "rule_results": results}
