"""Reads over the state machines' logs that only make sense for transition logs (objects with a ``state``)."""

from django.apps import apps
from django.db import models
from django.db.models import F, OuterRef, Subquery

from apps.fsm.models import TransitionLogBase


def transition_log_models() -> list[type[models.Model]]:
    """Every installed transition log table (each concrete ``TransitionLogBase``), in table-name order."""
    found = [m for m in apps.get_models() if issubclass(m, TransitionLogBase) and not m._meta.abstract]
    return sorted(found, key=lambda m: m._meta.db_table)


def state_drift(model: type[models.Model], *, limit: int = 20) -> list:
    """Ids of subjects whose ``state`` is not what their log says (at most ``limit``): proof of a write that
    bypassed the transition service, e.g. ``Employee.objects.update(state=...)``.

    The log's last ``target_state`` is the state; with no row yet, the state field's default. One query.
    """
    subject = model._meta.get_field(model.subject_field).related_model
    initial = subject._meta.get_field("state").get_default()
    last_target = model.objects.filter(**{model.subject_field: OuterRef("pk")}).order_by("-id").values("target_state")
    drifted = (
        subject.objects.order_by("pk")
        .annotate(logged_state=Subquery(last_target[:1]))
        .filter(
            models.Q(logged_state__isnull=False) & ~models.Q(state=F("logged_state"))
            | models.Q(logged_state__isnull=True) & ~models.Q(state=initial)
        )
    )
    return list(drifted.values_list("pk", flat=True)[:limit])
