"""Objects and refusals in words a person recognises: names, numbers and codes, never database ids.

Used by the admin's transition preview and messages. Related rows are looked up through the app registry, so this
module (in ``apps.fsm``) does not import the apps that build on the transition machinery.
"""

from django.apps import apps
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models

from backend.errors import CoverisError, InvalidInputError

# A rule result's ``related`` refs ({"type", "id"}) → the model they name.
RELATED_MODELS = {"assignment": "assignments.Assignment", "employee": "api.Employee", "position": "api.Position"}


def describe(obj: models.Model) -> str:
    """A transition log row as "<subject>: <transition> (<source> → <target>)"; anything else as its ``str``."""
    subject_field = getattr(obj, "subject_field", "")
    if subject_field:
        return f"{getattr(obj, subject_field)}: {obj.transition} ({obj.source_state} → {obj.target_state})"
    if obj._meta.label == "offer.LedgerEntry":
        return f"Hours ledger: {obj}"
    return str(obj)


def describe_related(refs: list[dict]) -> dict[tuple, str]:
    """``{(type, id): words}`` for rule results' related refs: one query per type, not per ref."""
    wanted: dict[str, set] = {}
    for ref in refs:
        if isinstance(ref, dict) and ref.get("type") in RELATED_MODELS and ref.get("id") is not None:
            wanted.setdefault(ref["type"], set()).add(ref["id"])
    words = {}
    for kind, ids in wanted.items():
        model = apps.get_model(RELATED_MODELS[kind])
        queryset = model.objects.filter(pk__in=ids)
        if kind == "assignment":
            queryset = queryset.select_related("employee", "position")
        words.update({(kind, obj.pk): str(obj) for obj in queryset})
    return words


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [
            text if key in ("non_field_errors", "detail") else f"{key}: {text}"
            for key, value in detail.items()
            for text in _flatten(value)
        ]
    if isinstance(detail, list | tuple):
        return [text for item in detail for text in _flatten(item)]
    return [str(detail)]


def refusal_text(exc: Exception) -> str:
    """A one-line, human reason for a refused write (the API's error message; blocking rules apart from warnings)."""
    if isinstance(exc, DjangoValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, DjangoPermissionDenied):
        return str(exc) or "Permission denied."
    if isinstance(exc, IntegrityError):  # what the API answers 409 for
        return "The change conflicts with existing data (a database constraint refused it)."
    if not isinstance(exc, CoverisError):
        return str(exc)
    field_errors = exc.field_errors if isinstance(exc, InvalidInputError) else None
    text = "; ".join(_flatten(field_errors)) if field_errors else exc.message
    details = exc.details
    if isinstance(details, dict):
        violations = [v for v in details.get("violations", []) if isinstance(v, dict)]
        blocks = [v for v in violations if v.get("severity") == "block"]
        warns = [v for v in violations if v.get("severity") == "warn"]
        for title, group in (("blocked by", blocks), ("warnings", warns)):
            if group:
                text += (
                    f" {title.capitalize()}: "
                    + "; ".join(f"{v.get('rule')}: {v.get('message') or ''}".rstrip(": ") for v in group)
                    + "."
                )
        if "current_state" in details:
            text += f" Current state: {details['current_state']}."
    return text
