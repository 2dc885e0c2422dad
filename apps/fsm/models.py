from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMFieldMixin, transition

from apps.api.choices import EmployeeState
from backend import timezones
from backend.audit.db import append_only_triggers
from backend.audit.models import ChainedModel

S = EmployeeState


class ProtectedFSMRefreshMixin:
    """Makes ``refresh_from_db`` work on models with protected FSM fields (mix in before ``models.Model``)."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Reload, protected FSM fields included (django-fsm refuses to overwrite them otherwise).

        Per instance and thread-safe, unlike django-fsm's ``FSMModelMixin``, which unprotects the *field* for
        every instance in the process while it reloads. The loaded values leave ``__dict__`` so the descriptor
        lets Django set them again; ``get_deferred_fields`` keeps counting them as loaded meanwhile.
        """
        names = [
            f.attname
            for f in self._meta.concrete_fields
            if isinstance(f, FSMFieldMixin) and f.protected and (fields is None or f.attname in fields)
        ]
        saved = {name: self.__dict__.pop(name) for name in names if name in self.__dict__}
        self._fsm_reloading = set(saved)
        try:
            super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        except Exception:
            self.__dict__.update(saved)
            raise
        finally:
            del self._fsm_reloading

    def get_deferred_fields(self) -> set[str]:
        return super().get_deferred_fields() - getattr(self, "_fsm_reloading", set())


class EmployeeFSMMixin(ProtectedFSMRefreshMixin, models.Model):
    """The employee lifecycle: states and transitions (django-fsm-2, protected field).

    Transition methods only change fields; the transition service locks the row, checks rules,
    saves and writes the log row in one transaction (apps.fsm.services). Nothing else writes ``state``:
    ``instance.state = ...`` raises (protected field), CRUD serializers keep it read-only, and
    ``apps/fsm/tests/test_models.py`` fails if code outside the service assigns it or bulk-updates it.
    A queryset ``update(state=...)`` would still reach SQL; ``manage.py verify_audit_chain`` reports any
    row whose state differs from its log (``apps.fsm.selectors.state_drift``).
    """

    state = FSMField(default=S.PENDING, choices=S.choices, protected=True, db_index=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(state__in=S.values), name="%(app_label)s_%(class)s_state_valid"),
        ]

    @transition(field=state, source=S.PENDING, target=S.ACTIVE)
    def activate(self, *, effective_date=None) -> None:
        """Start work (pending → active)."""

    @transition(field=state, source=S.ACTIVE, target=S.ON_LEAVE)
    def start_leave(self, *, effective_date=None) -> None:
        """Go on leave (active → on_leave)."""

    @transition(field=state, source=S.ON_LEAVE, target=S.ACTIVE)
    def return_from_leave(self, *, effective_date=None) -> None:
        """Come back from leave (on_leave → active)."""

    @transition(field=state, source=[S.ACTIVE, S.ON_LEAVE], target=S.SUSPENDED)
    def suspend(self, *, effective_date=None) -> None:
        """Suspend (active/on_leave → suspended)."""

    @transition(field=state, source=S.SUSPENDED, target=S.ACTIVE)
    def reinstate(self, *, effective_date=None) -> None:
        """Lift a suspension (suspended → active)."""

    @transition(field=state, source=[S.PENDING, S.ACTIVE, S.ON_LEAVE, S.SUSPENDED], target=S.TERMINATED)
    def terminate(self, *, effective_date=None) -> None:
        """End employment (any but terminated → terminated) on the effective date."""
        self.termination_date = effective_date or timezones.today()

    @transition(field=state, source=S.TERMINATED, target=S.PENDING)
    def rehire(self, *, effective_date=None) -> None:
        """Hire again (terminated → pending), starting on the effective date."""
        self.termination_date = None
        if effective_date:
            self.hire_date = effective_date


class TransitionLogBase(ChainedModel):
    """One performed transition: who, what, when, why, under which rules; hash-chained per table."""

    subject_field: ClassVar[str] = ""

    transition = models.CharField(max_length=64)
    source_state = models.CharField(max_length=32)
    target_state = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.TextField(blank=True, default="")
    effective_date = models.DateField(null=True, blank=True)
    rule_results = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")

    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (
        "transition",
        "source_state",
        "target_state",
        "actor_id",
        "actor_email",
        "created_at",
        "reason",
        "effective_date",
        "rule_results",
        "override_reason",
        "request_id",
    )

    class Meta:
        abstract = True
        ordering = ["id"]

    def chain_payload(self) -> dict:
        return {"subject_id": self.subject_id, **{name: getattr(self, name) for name in self.HASHED_FIELDS}}

    def __str__(self) -> str:
        return f"{self.transition}: {self.source_state} → {self.target_state} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def subject_id(self):
        return getattr(self, f"{self.subject_field}_id")


class EmployeeTransitionLog(TransitionLogBase):
    """The audit row of one employee transition (append-only; see docs/adr/0004)."""

    subject_field = "employee"

    employee = models.ForeignKey("api.Employee", on_delete=models.PROTECT, related_name="transition_logs")

    class Meta(TransitionLogBase.Meta):
        triggers = append_only_triggers()
        indexes = [
            models.Index(fields=["employee", "created_at"], name="fsm_emplog_employee_time"),
            models.Index(fields=["created_at", "id"], name="fsm_emplog_time_order"),  # the audit list's order
        ]
