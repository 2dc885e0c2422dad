"""The write side of every state machine: lock, check role/FSM/rules, transition, save, log — one transaction.

Employees use it here; assignments plug in their own ``TransitionKind`` (no second copy of the machinery).
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed
from rest_framework import exceptions

from apps.api.models import Employee
from apps.business_rules.engine import active_rules, evaluate_event, raise_for_decision, rules_decision
from apps.fsm.chain import chain_append, chain_append_many
from apps.fsm.choices import EmployeeTransition
from apps.fsm.models import EmployeeTransitionLog
from apps.users.choices import Role
from backend.exceptions import TransitionNotAllowedError
from backend.request_context import request_id_for_storage


@dataclass(frozen=True)
class TransitionRequest:
    """What the caller asks for; the same for the API, the admin and cascades."""

    name: str
    actor: Any
    reason: str = ""
    effective_date: datetime.date | None = None
    acknowledge_warnings: bool = False
    override_reason: str = ""
    dry_run: bool = False


@dataclass
class TransitionOutcome:
    instance: models.Model
    name: str
    source: str
    target: str
    allowed: bool
    rule_results: list[dict]
    dry_run: bool = False
    log_entry: models.Model | None = None
    blocked_by: str | None = None
    cascaded: list[models.Model] = field(default_factory=list)


@dataclass(frozen=True)
class TransitionKind:
    """Describes one state machine: its model, log table, event prefix and who may drive it."""

    model: type[models.Model]
    log_model: type[models.Model]
    event_prefix: str
    names: tuple[str, ...]
    roles: frozenset[str]
    rule_context: Callable[[models.Model, TransitionRequest], dict]
    validate: Callable[[models.Model, TransitionRequest], None] | None = None
    # Extra role check per object (e.g. a manager's subtree); returns True when allowed.
    actor_may: Callable[[Any, models.Model, str], bool] | None = None
    # Called with the pk before the instance is locked: locks the rows that rules spanning several objects
    # read (an assignment's employee), so two concurrent changes cannot together break a limit each alone
    # respects (no write skew). Locking the parent first keeps one lock order with cascades (no deadlock).
    lock_related: Callable[[Any], None] | None = None
    # The batched path's ``lock_related``: called with every pk of a batch (sorted) before the batch is locked; locks
    # all the related rows in one query, ordered by their own pk. Without it the batch calls ``lock_related`` per pk.
    lock_related_many: Callable[[list], None] | None = None

    @property
    def subject_field(self) -> str:
        return self.log_model.subject_field


# event → functions run after the transition, inside its transaction (cascades between apps).
_after_hooks: dict[str, list[Callable[[models.Model, TransitionRequest, models.Model], list]]] = defaultdict(list)


def register_after_transition(event: str, hook: Callable) -> None:
    """Run ``hook(instance, request, log_entry) -> [log rows]`` after ``event``, in the same transaction."""
    if hook not in _after_hooks[event]:
        _after_hooks[event].append(hook)


def _declared_transitions(instance: models.Model) -> dict[str, Any]:
    return {t.name: t for t in instance.get_all_state_transitions()}


def transition_target(instance: models.Model, name: str) -> str:
    declared = _declared_transitions(instance).get(name)
    return str(declared.target) if declared else ""


def available_names(instance: models.Model) -> list[str]:
    return [t.name for t in instance.get_available_state_transitions()]


def actor_allowed(kind: TransitionKind, actor, instance: models.Model, name: str) -> bool:
    role = getattr(actor, "role", None)
    if not actor or not getattr(actor, "is_active", False) or role not in kind.roles:
        return False
    return kind.actor_may(actor, instance, name) if kind.actor_may else True


def _rules_decision(results: list[dict], request: TransitionRequest) -> str | None:
    return rules_decision(
        results,
        actor=request.actor,
        acknowledge_warnings=request.acknowledge_warnings,
        override_reason=request.override_reason,
    )


def transition_perform(*, kind: TransitionKind, pk: Any, request: TransitionRequest) -> TransitionOutcome:
    """Perform (or dry-run) one transition. Raises 400/403/404/409/422 API errors; writes nothing on refusal."""
    if request.name not in kind.names:
        raise exceptions.ValidationError(
            {"transition": [f"Unknown transition '{request.name}'. Known: {', '.join(kind.names)}."]}
        )
    if request.override_reason and getattr(request.actor, "role", None) != Role.ADMIN:
        raise exceptions.PermissionDenied("Only an admin may override a blocking rule.")

    with transaction.atomic():
        if kind.lock_related:
            kind.lock_related(pk)
        # A fresh, locked read: never refresh_from_db on a protected FSM field (docs/adr/0005).
        try:
            instance = kind.model.objects.select_for_update().get(pk=pk)
        except kind.model.DoesNotExist as exc:
            raise exceptions.NotFound() from exc
        if not actor_allowed(kind, request.actor, instance, request.name):
            raise exceptions.PermissionDenied(f"Your role may not perform '{request.name}'.")

        source = instance.state
        target = transition_target(instance, request.name)
        allowed_now = available_names(instance)
        if request.name not in allowed_now:
            if request.dry_run:
                return TransitionOutcome(
                    instance, request.name, source, target, False, [], True, blocked_by="transition_not_allowed"
                )
            raise TransitionNotAllowedError(
                f"'{request.name}' is not allowed from state '{source}'.",
                details={"current_state": source, "allowed_transitions": allowed_now},
            )
        if kind.validate:
            kind.validate(instance, request)

        results = evaluate_event(
            event=f"{kind.event_prefix}.{request.name}", context=kind.rule_context(instance, request)
        )
        decision = _rules_decision(results, request)
        if request.dry_run:
            return TransitionOutcome(
                instance, request.name, source, target, decision is None, results, True, blocked_by=decision
            )
        if decision:
            raise_for_decision(decision, results)

        effective_date = request.effective_date or timezone.localdate()
        try:
            getattr(instance, request.name)(effective_date=effective_date)
        except FSMTransitionNotAllowed as exc:  # a condition on the transition refused it
            raise TransitionNotAllowedError(
                str(exc), details={"current_state": source, "allowed_transitions": allowed_now}
            ) from exc
        instance.save()
        actor = request.actor
        log_entry = chain_append(
            kind.log_model,
            **{kind.subject_field: instance},
            transition=request.name,
            source_state=source,
            target_state=instance.state,
            actor=actor,
            actor_email=getattr(actor, "email", "") or "",
            reason=request.reason,
            effective_date=effective_date,
            # The full results (message, observed, threshold...), so the log says why, not only which rules.
            rule_results=results,
            override_reason=request.override_reason,
            request_id=request_id_for_storage(),
        )
        cascaded: list[models.Model] = []
        for hook in _after_hooks.get(f"{kind.event_prefix}.{request.name}", []):
            cascaded.extend(hook(instance, request, log_entry) or [])
    return TransitionOutcome(
        instance, request.name, source, instance.state, True, results, False, log_entry, cascaded=cascaded
    )


def _related_for_rules(model: type[models.Model]) -> list[str]:
    """Foreign keys two levels deep (an assignment's employee, position and the position's org unit), so the rules
    of a batch read them from the locking query instead of one lazy query per object and relation."""
    paths = []
    for first in model._meta.concrete_fields:
        if not first.many_to_one:
            continue
        paths.append(first.name)
        paths += [
            f"{first.name}__{second.name}"
            for second in first.related_model._meta.concrete_fields
            if second.many_to_one and second.related_model is not first.related_model
        ]
    return paths


def _lock_batch_related(kind: TransitionKind, pks: list) -> None:
    if kind.lock_related_many:
        kind.lock_related_many(pks)
    elif kind.lock_related:
        for pk in pks:
            kind.lock_related(pk)


def transition_perform_many(*, kind: TransitionKind, pks, request: TransitionRequest) -> list[TransitionOutcome]:
    """Perform one transition on many objects in one transaction, all or nothing; outcomes in pk order.

    Each object gets exactly the checks of ``transition_perform`` — role, FSM, ``kind.validate``, every applicable
    rule — in pk order, and its own log row and after-transition hooks. The first refusal raises the error
    ``transition_perform`` would have raised for that object (a note names it) and nothing of the batch is
    written: a batch is one decision, the caller fixes the input and sends it again.

    What is batched: the related rows are locked first, then the objects in one ``select_for_update`` ordered by
    pk (one lock order with ``transition_perform``, parents first); the rules are loaded once; the log rows are
    chained and inserted together (``chain_append_many``). Each object's state is saved as it transitions, so the
    rules of a later object see the earlier ones done (two approvals of one employee's assignments are judged as
    one-by-one calls would judge them). The hooks (ledger postings, the termination cascade) run per object after
    all log rows, inside the same transaction: a hook whose writes a later object's rules would read would be the
    one difference from one-by-one calls; none does (each touches only its own object's rows). No dry run.
    """
    if request.name not in kind.names:
        raise exceptions.ValidationError(
            {"transition": [f"Unknown transition '{request.name}'. Known: {', '.join(kind.names)}."]}
        )
    if request.override_reason and getattr(request.actor, "role", None) != Role.ADMIN:
        raise exceptions.PermissionDenied("Only an admin may override a blocking rule.")
    if request.dry_run:
        raise ValueError("transition_perform_many does not dry-run; use transition_perform per object.")
    pks = list(pks)
    ordered = sorted(set(pks))
    if len(ordered) != len(pks):
        raise ValueError("Each object may appear once in a batch.")
    if not ordered:
        return []

    event = f"{kind.event_prefix}.{request.name}"
    effective_date = request.effective_date or timezone.localdate()
    actor = request.actor
    with transaction.atomic():
        _lock_batch_related(kind, ordered)
        instances = list(
            kind.model.objects.select_for_update(of=("self",))
            .select_related(*_related_for_rules(kind.model))
            .filter(pk__in=ordered)
            .order_by("pk")
        )
        if len(instances) != len(ordered):
            missing = sorted(set(ordered) - {instance.pk for instance in instances})
            shown = ", ".join(map(str, missing[:20]))
            raise exceptions.NotFound(f"No {kind.model._meta.verbose_name} with id {shown}.")
        rules = list(active_rules())
        outcomes: list[TransitionOutcome] = []
        log_rows: list[dict] = []
        for instance in instances:
            try:
                outcome = _transition_one_of_batch(kind, instance, request, event, effective_date, rules)
            except exceptions.APIException as exc:
                exc.add_note(f"Refused for {kind.model.__name__} {instance.pk}; nothing of the batch was written.")
                raise
            outcomes.append(outcome)
            log_rows.append(
                {
                    kind.subject_field: instance,
                    "transition": request.name,
                    "source_state": outcome.source,
                    "target_state": outcome.target,
                    "actor": actor,
                    "actor_email": getattr(actor, "email", "") or "",
                    "reason": request.reason,
                    "effective_date": effective_date,
                    "rule_results": outcome.rule_results,
                    "override_reason": request.override_reason,
                    "request_id": request_id_for_storage(),
                }
            )
        hooks = _after_hooks.get(event, [])
        for outcome, log_entry in zip(outcomes, chain_append_many(kind.log_model, log_rows), strict=True):
            outcome.log_entry = log_entry
            for hook in hooks:
                outcome.cascaded.extend(hook(outcome.instance, request, log_entry) or [])
    return outcomes


def _transition_one_of_batch(
    kind: TransitionKind, instance, request: TransitionRequest, event: str, effective_date, rules: list
) -> TransitionOutcome:
    """``transition_perform``'s checks and state change for one locked object of a batch (the log row comes later)."""
    if not actor_allowed(kind, request.actor, instance, request.name):
        raise exceptions.PermissionDenied(f"Your role may not perform '{request.name}'.")
    source = instance.state
    allowed_now = available_names(instance)
    if request.name not in allowed_now:
        raise TransitionNotAllowedError(
            f"'{request.name}' is not allowed from state '{source}'.",
            details={"current_state": source, "allowed_transitions": allowed_now, "object": instance.pk},
        )
    if kind.validate:
        kind.validate(instance, request)
    results = evaluate_event(event=event, context=kind.rule_context(instance, request), rules=rules)
    raise_for_decision(_rules_decision(results, request), results)
    try:
        getattr(instance, request.name)(effective_date=effective_date)
    except FSMTransitionNotAllowed as exc:
        raise TransitionNotAllowedError(
            str(exc), details={"current_state": source, "allowed_transitions": allowed_now, "object": instance.pk}
        ) from exc
    instance.save()
    return TransitionOutcome(instance, request.name, source, instance.state, True, results, False)


def transition_options(*, kind: TransitionKind, instance: models.Model, actor) -> list[dict]:
    """Every transition of the machine with whether ``actor`` may perform it now, and the rule outcome."""
    open_now = set(available_names(instance))
    options = []
    for name in kind.names:
        role_ok = actor_allowed(kind, actor, instance, name)
        results: list[dict] = []
        allowed = role_ok and name in open_now
        if allowed:
            request = TransitionRequest(name=name, actor=actor)
            results = evaluate_event(event=f"{kind.event_prefix}.{name}", context=kind.rule_context(instance, request))
            allowed = _rules_decision(results, request) in (None, "warnings_not_acknowledged")
        options.append(
            {
                "name": name,
                "target": transition_target(instance, name),
                "allowed": allowed,
                "rule_results": results,
            }
        )
    return options


# --- employees --------------------------------------------------------------------------------


def _employee_rule_context(employee, request: TransitionRequest) -> dict:
    return {
        "employee": employee,
        "transition": request.name,
        "effective_date": request.effective_date or timezone.localdate(),
        "actor": request.actor,
        "reason": request.reason,
    }


def _employee_validate(employee, request: TransitionRequest) -> None:
    effective = request.effective_date or timezone.localdate()
    if request.name == EmployeeTransition.TERMINATE and effective < employee.hire_date:
        raise exceptions.ValidationError(
            {"effective_date": [f"A termination cannot precede the hire date ({employee.hire_date.isoformat()})."]}
        )
    ended = employee.termination_date
    if request.name == EmployeeTransition.REHIRE and ended and effective < ended:
        raise exceptions.ValidationError(
            {"effective_date": [f"A rehire cannot precede the termination date ({ended.isoformat()})."]}
        )


EMPLOYEE_TRANSITIONS = TransitionKind(
    model=Employee,
    log_model=EmployeeTransitionLog,
    event_prefix="employee",
    names=tuple(EmployeeTransition.values),
    roles=frozenset({Role.ADMIN, Role.HR}),
    rule_context=_employee_rule_context,
    validate=_employee_validate,
)


def employee_transition(*, employee_id: int, **options) -> TransitionOutcome:
    """Perform (or dry-run) one employee transition; ``options`` are TransitionRequest's fields (name, actor, ...)."""
    return transition_perform(kind=EMPLOYEE_TRANSITIONS, pk=employee_id, request=TransitionRequest(**options))
