"""The change history where there are no triggers (SQLite, local development): recorded from Python, best effort.

On PostgreSQL the database writes every change row (django-pghistory's triggers) and this module does nothing, so a
change is never recorded twice. Elsewhere, each ``save()`` and ``delete()`` of a tracked model writes the same row a
trigger would (a snapshot of the tracked fields, as ``pghistory.create_event`` builds it), with the context the
request or the code entered (``backend.audit.context``): actor, request id, reason. An update that changes no
tracked field writes nothing, as the update trigger's condition does. What bypasses model signals —
``QuerySet.update()``,
``bulk_create``, raw SQL — is not seen here: only the triggers see everything.

It knows the tracked models from the event models pghistory registered (``pgh_tracked_model``), so it imports no app.
"""

from django.apps import apps
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from pghistory.models import Event

from backend.audit.context import current_context

_event_models: dict[type, type] | None = None


def event_models() -> dict[type, type]:
    """Tracked model → its change-history event model (every concrete pghistory event model installed)."""
    global _event_models
    if _event_models is None:
        _event_models = {
            m.pgh_tracked_model: m
            for m in apps.get_models()
            if issubclass(m, Event) and not m._meta.abstract and getattr(m, "pgh_tracked_model", None)
        }
    return _event_models


def _tracked_attnames(event_model) -> list[str]:
    tracked = {f.attname for f in event_model.pgh_tracked_model._meta.concrete_fields}
    return [
        f.attname for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_") and f.attname in tracked
    ]


def _differs(event_model, pk, values: dict, using: str) -> bool:
    """Whether ``values`` differ from the last snapshot recorded of object ``pk`` (one query)."""
    last = event_model.objects.using(using).filter(pgh_obj_id=pk).order_by("-pgh_id").values(*values).first()
    return last is None or any(last[name] != value for name, value in values.items())


def _record(event_model, instance, label: str, using: str) -> None:
    """Write, when the transaction commits, the row the trigger would: the tracked fields and the context as they
    are now, the label, the time now.

    On commit, as a trigger's row lives or dies with its transaction: a rolled-back change leaves no row (and a
    test's transaction, never committed, runs none of these queries unless it asks to). Saved raw (as ``loaddata``
    does): a tracked ``auto_now``/``auto_now_add`` field keeps the record's value rather than the event's time,
    which ``pghistory.create_event`` (a normal save) would overwrite.
    """
    fields = {f.attname: f for f in type(instance)._meta.concrete_fields}
    values = {name: fields[name].to_python(getattr(instance, name)) for name in _tracked_attnames(event_model)}
    pk, context, created_at = instance.pk, current_context(), timezone.now()

    def write() -> None:
        if label == "update" and not _differs(event_model, pk, values, using):
            return  # no tracked field changed: the update trigger's condition
        event = event_model(pgh_label=label, pgh_obj_id=pk, pgh_created_at=created_at, pgh_context=context, **values)
        event.save_base(raw=True, using=using)

    transaction.on_commit(write, using=using)


def _recording(sender, using: str):
    if connections[using].vendor == "postgresql":
        return None  # the triggers record it
    return event_models().get(sender)


def record_save(sender, instance, created: bool, using: str, raw: bool = False, **kwargs) -> None:
    event_model = _recording(sender, using)
    if event_model is not None and not raw:
        _record(event_model, instance, "insert" if created else "update", using)


def record_delete(sender, instance, using: str, **kwargs) -> None:
    event_model = _recording(sender, using)
    if event_model is not None:
        _record(event_model, instance, "delete", using)


def connect() -> None:
    """Listen to every model's saves and deletes (``BackendConfig.ready``); untracked ones cost a dict lookup."""
    post_save.connect(record_save, dispatch_uid="coveris_change_history_save")
    post_delete.connect(record_delete, dispatch_uid="coveris_change_history_delete")
