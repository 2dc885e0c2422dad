"""Model instances built without ``Model.__init__``, where nothing could tell the difference (bulk loads; ADR 0052).

``Model.__init__`` is general: it sends ``pre_init`` and ``post_init``, and sets every field through ``setattr``,
which for a foreign key's id goes through its descriptor and the instance's relation cache. A bulk load builds
millions of instances whose fields are plain values (``seed_demo`` at 100,000 employees: about 1.6 million new rows
for ``COPY`` and about 3 million rows loaded by the batched transitions), and there that general path was about a
quarter of the Python CPU (docs/benchmarks.md, "seed_demo: ADR 0052").

What ``__init__`` leaves in an instance of a plain model is its ``_state`` and one ``__dict__`` entry per concrete
field, under the field's attname. ``FastLoading.from_db`` (rows loaded from the database, also through
``select_related``) and ``unsaved`` (new rows) write exactly that, and nothing else, **only when nothing else could
happen**: the model does not override ``__init__``, no ``pre_init`` or ``post_init`` receiver is connected (to any
sender), and every concrete field's class attribute is a descriptor that stores a fresh instance's value in
``__dict__`` as it is (Django's ``DeferredAttribute`` and ``ForeignKeyDeferredAttribute``, django-fsm's descriptor
without state proxies). Otherwise they are ``Model.from_db`` and ``model(**row)``: a model, field or receiver added
later makes them slower, not different. The tests compare their instances with Django's, ``__dict__`` for ``__dict__``
(``backend/tests/test_instances.py``).
"""

import functools
import inspect
from collections.abc import Iterable

from django.db import models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django_fsm import FSMFieldDescriptor

# Descriptors whose ``__set__`` on a fresh instance stores the value in ``__dict__`` under the attname and does
# nothing else (``DeferredAttribute`` has no ``__set__``; the foreign key's clears a relation cache a fresh instance
# does not have yet; django-fsm's refuses a second write to a protected field and swaps the class for a proxy state
# only when the field names proxies, checked per field below).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, FSMFieldDescriptor)


def _no_listeners() -> bool:
    """True when no ``pre_init`` or ``post_init`` receiver is connected at all (``__init__`` would send them)."""
    return not pre_init.receivers and not post_init.receivers


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...] | None:
    """The concrete fields' attnames in ``__init__``'s order, or None if ``__init__`` could do more than set them."""
    if model.__init__ is not models.Model.__init__ or model._meta.abstract:
        return None
    names = []
    for field in model._meta.concrete_fields:
        descriptor = inspect.getattr_static(model, field.attname, None)
        if type(descriptor) not in _PLAIN_DESCRIPTORS or getattr(field, "state_proxy", None):
            return None
        names.append(field.attname)
    return tuple(names)


class FastLoading:
    """Mix in before ``models.Model``: rows loaded from the database become instances without ``__init__``.

    ``from_db`` is Django's documented hook for "customizing model loading"; this one builds what ``Model.from_db``
    builds for a row with every concrete column (``_state`` not adding, its database; the values under the
    attnames), and hands every other case (deferred columns, a custom ``__init__``, an ``init`` receiver) to it.
    """

    @classmethod
    def from_db(cls, db, field_names, values):
        names = _attnames(cls)
        if names is None or len(values) != len(names) or not _no_listeners():
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        state = ModelState()
        state.adding = False
        state.db = db
        fields = new.__dict__
        fields["_state"] = state
        fields.update(zip(names, values, strict=True))
        return new


@functools.cache
def _defaults(model: type[models.Model]) -> tuple[dict, tuple[tuple[str, models.Field], ...]]:
    """What ``__init__`` gives the fields a row leaves out: a template ``{"_state": None, attname: default, …}`` in
    ``__init__``'s order (the defaults that are the same object every time; a placeholder for the others), and
    ``((attname, field), …)`` of the fields whose ``get_default()`` must run per instance (a callable default, a
    database default)."""
    template: dict = {"_state": None}
    per_instance = []
    for field in model._meta.concrete_fields:
        if field.generated:  # __init__ leaves them out (the database computes them)
            continue
        if callable(field.default) if field.has_default() else field.has_db_default():
            per_instance.append((field.attname, field))
            template[field.attname] = None
        else:
            template[field.attname] = field.get_default()
    return template, tuple(per_instance)


def unsaved(model: type[models.Model], rows: Iterable[dict]) -> list[models.Model]:
    """``[model(**row) for row in rows]``, for rows that name concrete fields by attname (``employee_id``, not
    ``employee``): the same instances — every other field at its default, a callable default called only for the
    fields a row leaves out, ``_state`` adding — without ``__init__`` (see the module's docstring for when)."""
    if _attnames(model) is None or not _no_listeners():
        return [model(**row) for row in rows]
    template, per_instance = _defaults(model)
    known = template.keys() - {"_state"}
    built = []
    for row in rows:
        if not row.keys() <= known:  # a related object, a property or a typo: Django's own path (and its errors)
            built.append(model(**row))
            continue
        obj = model.__new__(model)
        fields = obj.__dict__
        fields.update(template)
        fields["_state"] = ModelState()
        for attname, field in per_instance:
            if attname not in row:
                fields[attname] = field.get_default()
        fields.update(row)
        built.append(obj)
    return built
