"""The write side of every state machine: lock, check role/FSM/rules, transition, save, log — one transaction.

Employees use it here; assignments plug in their own ``TransitionKind`` (no second copy of the machinery).
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from django.db import models, transaction
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed

from apps.api.choices import EmployeeTransition
from apps.api.models import Employee
from apps.api.timezones import org_unit_zones, todays_by_unit
from apps.business_rules.engine import (
    active_rules,
    applicable_rules,
    evaluate_event,
    evaluate_rule,
    raise_for_decision,
    rules_decision,
)
from apps.business_rules.facts import Facts
from apps.fsm.models import EmployeeTransitionLog
from apps.users.choices import Role
from backend import timezones
from backend.ahead import ahead_active, send_ahead
from backend.audit.chain import chain_append, chain_append_many
from backend.audit.context import audit_context
from backend.db import retry_on_conflict
from backend.errors import (
    CoverisError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)
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
    # The org unit whose time zone decides the object's day, hence its default effective date: the employee's unit
    # (docs/time-zones.md). None: the organisation's zone.
    org_unit_of: Callable[[models.Model], Any] | None = None
    # The relations the batched path loads with the objects (``select_related``): those its rules, checks and hooks
    # read. None: every foreign key two levels deep (``_related_for_rules``), which may load rows nobody reads.
    batch_related: tuple[str, ...] | None = None

    @property
    def subject_field(self) -> str:
        return self.log_model.subject_field


def subject_today(kind: TransitionKind, instance: models.Model) -> datetime.date:
    """Today in the zone of the object's org unit (its employee's): the default effective date of its transitions."""
    unit = kind.org_unit_of(instance) if kind.org_unit_of else None
    return timezones.today(org_unit_zones([unit]).get(unit))


def subject_todays(kind: TransitionKind, instances: list) -> dict[Any, datetime.date]:
    """``{pk: today in the zone of the object's org unit}``: each object's default effective date (one zone query)."""
    units = {instance.pk: kind.org_unit_of(instance) if kind.org_unit_of else None for instance in instances}
    today = todays_by_unit(units.values())
    return {pk: today(unit) for pk, unit in units.items()}


def subject_todays_of(kind: TransitionKind, pks) -> dict[Any, datetime.date]:
    """``subject_todays`` for the objects with these pks (two queries; for pages offering a default date)."""
    related = [name for name in _related_for_rules(kind.model) if "__" not in name]
    return subject_todays(kind, list(kind.model.objects.select_related(*related).filter(pk__in_array=pks)))


def _dated_requests(kind: TransitionKind, instances: list, request: TransitionRequest) -> dict:
    """``{pk: request}`` with each object's default effective date filled in (one zone query for all of them)."""
    if request.effective_date is not None:
        return {instance.pk: request for instance in instances}
    return {pk: replace(request, effective_date=today) for pk, today in subject_todays(kind, instances).items()}


# event → functions run after the transition, inside its transaction (cascades between apps).
_after_hooks: dict[str, list[Callable[[models.Model, TransitionRequest, models.Model], list]]] = defaultdict(list)


def register_after_transition(event: str, hook: Callable) -> None:
    """Run ``hook(instance, request, log_entry) -> [log rows]`` after ``event``, in the same transaction."""
    if hook not in _after_hooks[event]:
        _after_hooks[event].append(hook)


# event → {per-object hook: its batched twin}, for ``transition_perform_many``.
_after_hooks_many: dict[str, dict[Callable, Callable]] = defaultdict(dict)


def register_after_transition_many(event: str, hook_many: Callable, *, replaces: Callable) -> None:
    """In ``transition_perform_many``, run ``hook_many(items) -> [[log rows] per item]`` once per batch instead of
    the registered hook ``replaces`` once per object; ``items`` are ``(instance, request, log_entry)`` in pk order.

    ``transition_perform`` keeps calling ``replaces``: the two must write the same rows (e.g. one query and one bulk
    insert for a batch's ledger postings instead of a query and an insert per object).
    """
    _after_hooks_many[event][replaces] = hook_many


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


@retry_on_conflict
def transition_perform(*, kind: TransitionKind, pk: Any, request: TransitionRequest) -> TransitionOutcome:
    """Perform (or dry-run) one transition. Raises domain errors (backend.errors); writes nothing on refusal."""
    if request.name not in kind.names:
        raise InvalidInputError(
            {"transition": [f"Unknown transition '{request.name}'. Known: {', '.join(kind.names)}."]}
        )
    if request.override_reason and getattr(request.actor, "role", None) != Role.ADMIN:
        raise PermissionDeniedError("Only an admin may override a blocking rule.")

    # Fields a transition sets (termination_date, hire_date) reach the change history with its reason and name.
    context = audit_context(user=getattr(request.actor, "pk", None), reason=request.reason, transition=request.name)
    with transaction.atomic(), context:
        if kind.lock_related:
            kind.lock_related(pk)
        # A fresh, locked read: never refresh_from_db on a protected FSM field (docs/adr/0005).
        try:
            instance = kind.model.objects.select_for_update().get(pk=pk)
        except kind.model.DoesNotExist as exc:
            raise NotFoundError() from exc
        if not actor_allowed(kind, request.actor, instance, request.name):
            raise PermissionDeniedError(f"Your role may not perform '{request.name}'.")
        # No date given: today where the object's employee works, for the checks, the log and the cascades alike.
        request = _dated_requests(kind, [instance], request)[instance.pk]

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

        effective_date = request.effective_date
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


def _lazy_facts() -> set[str]:
    """The relations ``Facts`` loads from the database on first use."""
    return {name for name, attr in vars(Facts).items() if isinstance(attr, cached_property)}


class _BatchFacts:
    """What ``Facts`` loads lazily per object — the employee's open assignments and tags, the position's tags —
    loaded once for a whole batch (three queries instead of up to three per object), then handed to each object's
    ``Facts`` as ``Facts.preloaded`` does.

    It answers what the database would answer a one-by-one call: an open assignment that is also in the batch is
    the batch's own instance, so a later object sees the state an earlier one was left in (and saved). A batch only
    moves assignments between open states or out of them, so the open ones loaded up front, filtered by their
    current state, are exactly the open ones now. Rows of other objects cannot change meanwhile: their employee is
    locked (assignments lock it, and so does every assignment change). Nothing is loaded when no rule listens.
    """

    # clock_ins: a transition is never a clock event, so it is None without a query (filled in below).
    PRELOADED = frozenset({"other_open_assignments", "employee_tags", "position_tags", "clock_ins"})

    def __init__(self, kind: TransitionKind, instances: list, requests: dict, event: str, rules: list):
        self.open: dict[Any, list] = defaultdict(list)
        self.employee_tags: dict[Any, list] = defaultdict(list)
        self.position_tags: dict[Any, list] = defaultdict(list)
        self.enabled = any(event in (rule.events or []) for rule in rules)
        # True when no rule of this batch can read the database: nothing listens, or every lazy relation of
        # ``Facts`` is preloaded here (a relation added to ``Facts`` later makes this False until it is).
        self.reads_nothing = not self.enabled or _lazy_facts() <= self.PRELOADED
        if not self.enabled:
            return
        from apps.assignments.models import Assignment
        from apps.tags.models import EmployeeTag, PositionTag

        employee_ids, position_ids = set(), set()
        for instance in instances:
            facts = Facts.from_context(event, kind.rule_context(instance, requests[instance.pk]))
            employee_ids.add(self._pk(facts.employee))
            position_ids.add(self._pk(facts.position))
        employee_ids.discard(None)
        position_ids.discard(None)
        own = {instance.pk: instance for instance in instances} if kind.model is Assignment else {}
        # The same querysets (filters, ordering, joins) as ``Facts``'s lazy properties, for every object at once.
        opened = Assignment.objects.filter(employee_id__in_array=employee_ids, state__in=self._open_states())
        for assignment in opened.select_related("position"):
            self.open[assignment.employee_id].append(own.get(assignment.pk, assignment))
        for tag in EmployeeTag.objects.filter(employee_id__in_array=employee_ids).select_related("tag"):
            self.employee_tags[tag.employee_id].append(tag)
        for tag in PositionTag.objects.filter(position_id__in_array=position_ids).select_related("tag"):
            self.position_tags[tag.position_id].append(tag)

    @staticmethod
    def _pk(obj):
        return getattr(obj, "pk", None)

    @staticmethod
    def _open_states():
        from apps.assignments.choices import OPEN_STATES

        return OPEN_STATES

    def evaluate(self, kind: TransitionKind, instance, request: TransitionRequest, event: str, rules: list) -> list:
        """``evaluate_event`` for one object of the batch, with its relations from the batch's load."""
        if not self.enabled:
            return evaluate_event(event=event, context=kind.rule_context(instance, request), rules=rules)
        facts = Facts.from_context(event, kind.rule_context(instance, request))
        employee_id, position_id = self._pk(facts.employee), self._pk(facts.position)
        deciding = self._pk(facts.assignment)
        open_states = self._open_states()
        facts.__dict__.update(
            other_open_assignments=[
                a for a in self.open.get(employee_id, []) if a.pk != deciding and a.state in open_states
            ],
            employee_tags=list(self.employee_tags.get(employee_id, [])),
            position_tags=list(self.position_tags.get(position_id, [])),
            clock_ins=facts.clock_ins_today,
        )
        return [evaluate_rule(rule, facts) for rule in applicable_rules(event, facts, rules)]


@retry_on_conflict
def transition_perform_many(*, kind: TransitionKind, pks, request: TransitionRequest) -> list[TransitionOutcome]:
    """Perform one transition on many objects in one transaction, all or nothing; outcomes in pk order.

    Each object gets exactly the checks of ``transition_perform`` — role, FSM, ``kind.validate``, every applicable
    rule — in pk order, and its own log row and after-transition hooks. The first refusal raises the error
    ``transition_perform`` would have raised for that object (a note names it) and nothing of the batch is
    written: a batch is one decision, the caller fixes the input and sends it again.

    What is batched: the related rows are locked first, then the objects in one ``select_for_update`` ordered by
    pk (one lock order with ``transition_perform``, parents first); the rules are loaded once, and the rows they
    read once for the whole batch (``_BatchFacts``); the log rows are chained and inserted together
    (``chain_append_many``); the changed fields are written in one bulk update — or per object, as it transitions,
    when a rule could read the database (``_BatchFacts.reads_nothing``). Either way a later object's rules see the
    earlier ones done (two approvals of one employee's assignments are judged as one-by-one calls judge them).

    The after-transition hooks (ledger postings, the termination cascade) run after all log rows, inside the same
    transaction, hook by hook over the batch — a hook's batched twin once (``register_after_transition_many``),
    else the hook per object. A hook whose writes a later object's rules would read would be the one difference
    from one-by-one calls; none does (each touches only its own object's rows). No dry run.
    """
    if request.name not in kind.names:
        raise InvalidInputError(
            {"transition": [f"Unknown transition '{request.name}'. Known: {', '.join(kind.names)}."]}
        )
    if request.override_reason and getattr(request.actor, "role", None) != Role.ADMIN:
        raise PermissionDeniedError("Only an admin may override a blocking rule.")
    if request.dry_run:
        raise ValueError("transition_perform_many does not dry-run; use transition_perform per object.")
    pks = list(pks)
    ordered = sorted(set(pks))
    if len(ordered) != len(pks):
        raise ValueError("Each object may appear once in a batch.")
    if not ordered:
        return []

    event = f"{kind.event_prefix}.{request.name}"
    actor = request.actor
    context = audit_context(user=getattr(actor, "pk", None), reason=request.reason, transition=request.name)
    with transaction.atomic(), context:
        _lock_batch_related(kind, ordered)
        instances = list(
            kind.model.objects.select_for_update(of=("self",))
            .select_related(*(kind.batch_related if kind.batch_related is not None else _related_for_rules(kind.model)))
            .filter(pk__in_array=ordered)
            .order_by("pk")
        )
        if len(instances) != len(ordered):
            missing = sorted(set(ordered) - {instance.pk for instance in instances})
            shown = ", ".join(map(str, missing[:20]))
            raise NotFoundError(f"No {kind.model._meta.verbose_name} with id {shown}.")
        # Each object's own default date: a batch may span org units in different time zones.
        requests = _dated_requests(kind, instances, request)
        rules = list(active_rules())
        facts = _BatchFacts(kind, instances, requests, event, rules)
        outcomes: list[TransitionOutcome] = []
        # The log rows name their subject and actor by id, and get the objects cached afterwards: the same rows and
        # the same loaded relations as ``chain_append``'s, without a related-object assignment per row (ADR 0041).
        log_rows: list[dict] = []
        subject = kind.log_model._meta.get_field(kind.subject_field)
        actor_field = kind.log_model._meta.get_field("actor")
        subject_attname = subject.attname
        actor_id = actor.pk if isinstance(actor, models.Model) else None
        # When no rule reads the database, the states are written in one bulk update after the loop, not per object:
        # later objects' rules already see earlier ones' new states through ``_BatchFacts``'s in-memory instances.
        # Inside ``statements_ahead`` (a bulk load) they are written a part at a time, each part's UPDATE run by the
        # server while the next part is judged here (ADR 0047); otherwise in one go, as before.
        part_size = _AHEAD_PART if facts.reads_nothing and ahead_active() else len(instances)
        now = timezone.now()
        for start in range(0, len(instances), part_size):
            part = instances[start : start + part_size]
            changed: set[str] = set()
            for instance in part:
                try:
                    outcome = _transition_one_of_batch(
                        kind,
                        instance,
                        requests[instance.pk],
                        event,
                        requests[instance.pk].effective_date,
                        rules,
                        facts,
                        changed if facts.reads_nothing else None,
                    )
                except CoverisError as exc:
                    exc.add_note(f"Refused for {kind.model.__name__} {instance.pk}; nothing of the batch was written.")
                    raise
                outcomes.append(outcome)
                log_rows.append(
                    {
                        subject_attname: instance.pk,
                        "transition": request.name,
                        "source_state": outcome.source,
                        "target_state": outcome.target,
                        "actor_id": actor_id,
                        "actor_email": getattr(actor, "email", "") or "",
                        "reason": request.reason,
                        "effective_date": requests[instance.pk].effective_date,
                        "rule_results": outcome.rule_results,
                        "override_reason": request.override_reason,
                        "request_id": request_id_for_storage(),
                    }
                )
            if facts.reads_nothing:
                _save_changed(kind.model, part, changed, now)
        for outcome, log_entry in zip(outcomes, chain_append_many(kind.log_model, log_rows), strict=True):
            subject.set_cached_value(log_entry, outcome.instance)
            if actor_id is not None:
                actor_field.set_cached_value(log_entry, actor)
            outcome.log_entry = log_entry
        _run_hooks_on_batch(event, requests, outcomes)
    return outcomes


def _run_hooks_on_batch(event: str, requests: dict, outcomes: list[TransitionOutcome]) -> None:
    """Each hook over the whole batch, in registration order: its batched twin once, or it per object. The rows are
    those one-by-one calls write; only their order differs (hook by hook rather than object by object)."""
    twins = _after_hooks_many.get(event, {})
    for hook in _after_hooks.get(event, []):
        twin = twins.get(hook)
        if twin is None:
            for outcome in outcomes:
                outcome.cascaded.extend(hook(outcome.instance, requests[outcome.instance.pk], outcome.log_entry) or [])
            continue
        per_item = twin([(o.instance, requests[o.instance.pk], o.log_entry) for o in outcomes])
        for outcome, rows in zip(outcomes, per_item, strict=True):
            outcome.cascaded.extend(rows or [])


def _transition_one_of_batch(
    kind: TransitionKind,
    instance,
    request: TransitionRequest,
    event: str,
    effective_date,
    rules: list,
    facts: _BatchFacts,
    changed: set[str] | None,
) -> TransitionOutcome:
    """``transition_perform``'s checks and state change for one locked object of a batch (the log row comes later).

    Saves the object, or — given ``changed`` — adds the fields its transition changed, for one bulk update later.
    """
    if not actor_allowed(kind, request.actor, instance, request.name):
        raise PermissionDeniedError(f"Your role may not perform '{request.name}'.")
    source = instance.state
    allowed_now = available_names(instance)
    if request.name not in allowed_now:
        raise TransitionNotAllowedError(
            f"'{request.name}' is not allowed from state '{source}'.",
            details={"current_state": source, "allowed_transitions": allowed_now, "object": instance.pk},
        )
    if kind.validate:
        kind.validate(instance, request)
    results = facts.evaluate(kind, instance, request, event, rules)
    raise_for_decision(_rules_decision(results, request), results)
    before = {f.attname: instance.__dict__.get(f.attname) for f in instance._meta.concrete_fields}
    try:
        getattr(instance, request.name)(effective_date=effective_date)
    except FSMTransitionNotAllowed as exc:
        raise TransitionNotAllowedError(
            str(exc), details={"current_state": source, "allowed_transitions": allowed_now, "object": instance.pk}
        ) from exc
    if changed is None:
        instance.save()
    else:
        changed.update(name for name, value in before.items() if instance.__dict__.get(name) != value)
    return TransitionOutcome(instance, request.name, source, instance.state, True, results, False)


# Objects judged between two UPDATEs sent ahead: large enough that a statement's overhead is small, small enough that
# the server has work from the first part on (ADR 0047).
_AHEAD_PART = 2000


def _save_changed(model: type[models.Model], instances: list, changed: set[str], now: datetime.datetime) -> None:
    """Write what the batch's ``@transition`` methods changed, and the ``auto_now`` stamps ``save`` would set.

    The batched twin of ``instance.save()`` in ``transition_perform``: the values are the ones the ``@transition``
    methods set, on rows locked and checked above. Objects that received the same values (a batch is one transition
    on one effective date, so usually all of them) share one ``UPDATE … WHERE id IN (…)``; no save signal fires (none
    is connected to a state machine's model: side effects are hooks). (``apps/fsm/tests/
    test_models.py`` scans for literal state writes; this one's field names are computed, so the scan does not list
    it — it is the service's own write.) Inside ``statements_ahead`` the UPDATEs are sent ahead (``send_ahead``): the
    caller reads nothing back.
    """
    stamps = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    names = sorted(changed)
    groups: dict[tuple, list] = defaultdict(list)
    for instance in instances:
        for stamp in stamps:
            setattr(instance, stamp, now)
        groups[tuple(instance.__dict__[name] for name in names)].append(instance.pk)
    for values, pks in groups.items():
        update = {**dict(zip(names, values, strict=True)), **dict.fromkeys(stamps, now)}
        queryset = model.objects.filter(pk__in_array=pks)
        if not ahead_active():
            queryset.update(**update)
            continue
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(update)
        send_ahead(*query.get_compiler(queryset.db).as_sql())


# Rule types a POST body can satisfy by itself: a failing one does not close an option, it says what to send.
SATISFIED_BY_BODY = {"reason_required": "reason"}


def transition_options(*, kind: TransitionKind, instance: models.Model, actor) -> list[dict]:
    """Every transition of the machine with whether ``actor`` may perform it now, and the rule outcome.

    A GET carries no reason and acknowledges nothing, so rules the POST body can satisfy do not close an option:
    a failing ``reason_required`` rule adds ``"reason"`` to ``needs``, failing warn rules add
    ``"acknowledge_warnings"``. ``allowed`` is false only when something the body cannot change stands in the
    way, which ``blocked_by`` names: ``"role"``, ``"state"`` or ``"rules"`` (a failing block rule; an admin may
    still override it with ``override_reason``, which ``can_override`` says). Evaluated as the actor's request
    without a reason or an acknowledgement.
    """
    open_now = set(available_names(instance))
    is_admin = getattr(actor, "role", None) == Role.ADMIN
    today = subject_today(kind, instance)
    options = []
    for name in kind.names:
        results: list[dict] = []
        needs: list[str] = []
        blocked_by = None
        if not actor_allowed(kind, actor, instance, name):
            blocked_by = "role"
        elif name not in open_now:
            blocked_by = "state"
        else:
            request = TransitionRequest(name=name, actor=actor, effective_date=today)
            results = evaluate_event(event=f"{kind.event_prefix}.{name}", context=kind.rule_context(instance, request))
            by_body = [r for r in results if r.get("outcome") == "fail" and r.get("rule_type") in SATISFIED_BY_BODY]
            body_fields = {SATISFIED_BY_BODY[r["rule_type"]] for r in by_body}
            rest = [r for r in results if r not in by_body]
            decision = _rules_decision(rest, request)
            if decision == "rule_violation":
                blocked_by = "rules"
            elif decision == "warnings_not_acknowledged":
                body_fields.add("acknowledge_warnings")
            needs = sorted(body_fields)
        options.append(
            {
                "name": name,
                "target": transition_target(instance, name),
                "allowed": blocked_by is None,
                "rule_results": results,
                "blocked_by": blocked_by,
                "needs": needs,
                "can_override": blocked_by == "rules" and is_admin,
            }
        )
    return options


# --- employees --------------------------------------------------------------------------------


def _employee_rule_context(employee, request: TransitionRequest) -> dict:
    return {
        "employee": employee,
        "transition": request.name,
        "effective_date": request.effective_date or subject_today(EMPLOYEE_TRANSITIONS, employee),
        "actor": request.actor,
        "reason": request.reason,
    }


def _employee_validate(employee, request: TransitionRequest) -> None:
    effective = request.effective_date or subject_today(EMPLOYEE_TRANSITIONS, employee)
    # Nothing happens to an employee before they were hired (a rehire moves the hire date to its own date).
    if request.name != EmployeeTransition.REHIRE and effective < employee.hire_date:
        raise InvalidInputError(
            {
                "effective_date": [
                    f"'{request.name}' cannot take effect before the hire date ({employee.hire_date.isoformat()})."
                ]
            }
        )
    ended = employee.termination_date
    if request.name == EmployeeTransition.REHIRE and ended and effective < ended:
        raise InvalidInputError(
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
    org_unit_of=lambda employee: employee.org_unit_id,
)


def employee_transition(*, employee_id: int, **options) -> TransitionOutcome:
    """Perform (or dry-run) one employee transition; ``options`` are TransitionRequest's fields (name, actor, ...)."""
    return transition_perform(kind=EMPLOYEE_TRANSITIONS, pk=employee_id, request=TransitionRequest(**options))
