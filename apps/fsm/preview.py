"""Preview and confirm of a transition on many objects: what the admin's guided flow shows, then performs.

``transition_preview`` asks the transition service itself: a dry run per object (every rule result, or why the
transition cannot happen at all), then — for the objects that would go ahead — the real batched call
(``transition_perform_many``) inside a savepoint that is always rolled back, so the preview lists the cascades the
after-transition hooks would write (assignments ended by a termination, ledger postings) without writing them.
``transition_confirm`` runs the preview again and, only when it is the one the user saw (same ``fingerprint``),
performs it: one batch for every object that may go ahead, the refused ones named. Interface-free (no admin, no
HTTP): the admin, and any later caller, render the ``ObjectPreview`` rows their own way.
"""

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction

from apps.business_rules.choices import Outcome, Severity
from apps.fsm.describe import describe, describe_related, refusal_text
from apps.fsm.services import TransitionKind, TransitionRequest, transition_perform, transition_perform_many
from apps.users.choices import Role
from backend.errors import CoverisError

REFUSALS = (CoverisError, DjangoValidationError, DjangoPermissionDenied)


@dataclass
class RuleLine:
    """One rule result as a person reads it: pass / warn / block (or overridden), with its explanation."""

    rule: str
    name: str
    status: str  # "pass" | "warn" | "block" | "overridden"
    message: str
    observed: Any
    threshold: Any
    remediation: str
    related: list[str]


@dataclass
class ObjectPreview:
    """What the transition would do to one object: go ahead, or why not; its rules and its cascades."""

    instance: models.Model
    label: str
    source: str
    target: str
    allowed: bool
    refusal: str = ""  # not a rule: state, role, effective date ...
    rules: list[RuleLine] = field(default_factory=list)
    cascades: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def key(self):
        """What identifies the row on the page (``data-pk``)."""
        return self.instance.pk

    @property
    def blocked_by(self) -> list[RuleLine]:
        return [line for line in self.rules if line.status == "block"]

    @property
    def warnings(self) -> list[RuleLine]:
        return [line for line in self.rules if line.status == "warn"]

    @property
    def overridden(self) -> list[RuleLine]:
        return [line for line in self.rules if line.status == "overridden"]

    def refusal_summary(self) -> str:
        """Why it will not happen, blocking rules apart from unacknowledged warnings."""
        if self.refusal:
            return self.refusal
        parts = []
        if self.blocked_by:
            parts.append("blocked by " + "; ".join(f"{r.rule} ({r.name}): {r.message}" for r in self.blocked_by))
        if self.warnings:
            parts.append(
                "warnings not acknowledged: " + "; ".join(f"{r.rule} ({r.name}): {r.message}" for r in self.warnings)
            )
        return " — ".join(parts)


@dataclass
class Preview:
    name: str
    objects: list[ObjectPreview]
    batch_refusal: str = ""  # the simulated batch refused (a race between dry run and simulation)

    @property
    def allowed(self) -> list[ObjectPreview]:
        return [o for o in self.objects if o.allowed]

    @property
    def refused(self) -> list[ObjectPreview]:
        return [o for o in self.objects if not o.allowed]

    @property
    def fingerprint(self) -> str:
        """Identifies what the user saw: which objects go ahead, from which state, with which rule outcomes."""
        seen = [
            [o.instance.pk, o.source, o.target, o.allowed, o.refusal, [(r.rule, r.status) for r in o.rules]]
            for o in self.objects
        ]
        return hashlib.sha256(json.dumps([self.name, seen], default=str).encode()).hexdigest()[:32]


class _Rollback(Exception):
    pass


def _status(result: dict, *, actor, override_reason: str) -> str:
    if result.get("outcome") != Outcome.FAIL:
        return "pass"
    if result.get("severity") == Severity.WARN:
        return "warn"
    if override_reason and getattr(actor, "role", None) == Role.ADMIN:
        return "overridden"
    return "block"


def rule_lines(results: list[dict], *, actor, override_reason: str = "") -> list[RuleLine]:
    """The engine's results as a person reads them (names of rules and related objects: two queries at most);
    a failing block rule is ``overridden`` when an admin gives ``override_reason``."""
    from apps.business_rules.models import BusinessRule

    names = dict(BusinessRule.objects.filter(code__in={r["rule"] for r in results}).values_list("code", "name"))
    related = describe_related([ref for r in results for ref in (r.get("related") or [])])
    return [
        RuleLine(
            rule=r["rule"],
            name=names.get(r["rule"], ""),
            status=_status(r, actor=actor, override_reason=override_reason),
            message=r.get("message") or "",
            observed=r.get("observed"),
            threshold=r.get("threshold"),
            remediation=r.get("remediation") or "",
            related=[related.get((ref.get("type"), ref.get("id")), str(ref)) for ref in (r.get("related") or [])],
        )
        for r in results
    ]


def transition_preview(*, kind: TransitionKind, pks, request: TransitionRequest) -> Preview:
    """What ``request`` would do to each object of ``pks`` (pk order); writes nothing."""
    dry = replace(request, dry_run=True)
    objects = []
    instances = kind.model.objects.in_bulk(list(pks))
    for pk in sorted(instances):
        instance = instances[pk]
        try:
            outcome = transition_perform(kind=kind, pk=pk, request=dry)
        except REFUSALS as exc:
            objects.append(ObjectPreview(instance, describe(instance), instance.state, "", False, refusal_text(exc)))
            continue
        refusal = ""
        if outcome.blocked_by == "transition_not_allowed":
            refusal = f"'{request.name}' is not possible from state '{outcome.source}'."
        objects.append(
            ObjectPreview(
                outcome.instance,
                describe(outcome.instance),
                outcome.source,
                outcome.target,
                outcome.allowed,
                refusal,
                rule_lines(outcome.rule_results, actor=request.actor, override_reason=request.override_reason),
            )
        )
    preview = Preview(request.name, objects)
    _simulate_cascades(kind, preview, request)
    return preview


def _simulate_cascades(kind: TransitionKind, preview: Preview, request: TransitionRequest) -> None:
    """The real batched call on the objects that go ahead, rolled back: what the hooks would write, described."""
    going = preview.allowed
    if not going:
        return
    by_pk = {o.instance.pk: o for o in going}
    try:
        with transaction.atomic():
            outcomes = transition_perform_many(kind=kind, pks=list(by_pk), request=replace(request, dry_run=False))
            for outcome in outcomes:
                by_pk[outcome.instance.pk].cascades = [describe(row) for row in outcome.cascaded]
            raise _Rollback
    except _Rollback:
        pass
    except REFUSALS as exc:
        preview.batch_refusal = refusal_text(exc) + "".join(f" {note}" for note in getattr(exc, "__notes__", []))


@dataclass
class Confirmation:
    performed: list[ObjectPreview]
    refused: list[ObjectPreview]
    preview: Preview
    changed: bool = False  # the preview is not the one the user confirmed: nothing was done


def transition_confirm(*, kind: TransitionKind, pks, request: TransitionRequest, fingerprint: str) -> Confirmation:
    """Perform what the preview identified by ``fingerprint`` showed: one batch of every object that may go ahead.

    The preview is computed again first (a dry run); when it differs from the one the user saw, nothing is done
    and the new preview is returned to be shown (``changed``). Refusals of the batch itself propagate (nothing
    written).
    """
    preview = transition_preview(kind=kind, pks=pks, request=request)
    if preview.fingerprint != fingerprint or preview.batch_refusal:
        return Confirmation([], preview.refused, preview, changed=True)
    going = preview.allowed
    if going:
        outcomes = transition_perform_many(
            kind=kind, pks=[o.instance.pk for o in going], request=replace(request, dry_run=False)
        )
        for item, outcome in zip(going, outcomes, strict=True):
            item.cascades = [describe(row) for row in outcome.cascaded]
    return Confirmation(going, preview.refused, preview)
