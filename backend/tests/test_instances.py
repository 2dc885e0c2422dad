"""``backend.instances`` (ADR 0052): instances built without ``Model.__init__`` are the instances Django builds —
loaded (``FastLoading.from_db``, also through ``select_related``) and new (``unsaved``) — and Django's own path is
taken whenever ``__init__`` could do more (a receiver, deferred columns, a custom ``__init__``, a related object)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.db.models.signals import post_init, pre_init
from django.test.utils import isolate_apps

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.offer.models import LedgerEntry
from apps.tags.models import EmployeeTag, TagCatalog, TagChangeLog
from backend import instances
from backend.instances import FastLoading, unsaved


def _fast_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, FastLoading)]


def _same(fast: models.Model, django: models.Model) -> None:
    """The same class, ``__dict__`` (in the same order) and ``_state``; relation caches compared the same way."""
    assert type(fast) is type(django)
    fast_fields = {k: v for k, v in fast.__dict__.items() if k != "_state"}
    django_fields = {k: v for k, v in django.__dict__.items() if k != "_state"}
    assert list(fast_fields.items()) == list(django_fields.items())
    assert (fast._state.adding, fast._state.db) == (django._state.adding, django._state.db)
    assert fast._state.fields_cache.keys() == django._state.fields_cache.keys()
    for name, related in fast._state.fields_cache.items():
        if related is None:
            assert django._state.fields_cache[name] is None
        else:
            _same(related, django._state.fields_cache[name])


@pytest.fixture
def djangos_path(monkeypatch):
    """Within the test, ``backend.instances`` hands every instance to Django (as when an ``init`` receiver exists)."""

    def off():
        monkeypatch.setattr(instances, "_no_listeners", lambda: False)

    return off


def test_the_models_read_and_written_in_bulk_load_without_init():
    fast = {m.__name__ for m in _fast_models()}
    assert {"Employee", "Assignment", "Position", "OrgUnit", "EmployeeTag", "TagCatalog", "PositionTag"} <= fast
    assert {"LedgerEntry", "EmployeeTransitionLog", "AssignmentTransitionLog", "TagChangeLog"} <= fast
    # ... and every one of them qualifies (plain descriptors, no __init__ of its own): none silently falls back.
    assert [m.__name__ for m in _fast_models() if instances._attnames(m) is None] == []


@pytest.mark.parametrize("model", _fast_models(), ids=lambda m: m.__name__)
def test_from_db_builds_what_djangos_from_db_builds(model):
    names = [f.attname for f in model._meta.concrete_fields]
    values = [object() for _ in names]  # any values: both store them as they are
    fast = model.from_db("default", names, values)
    django = models.Model.from_db.__func__(model, "default", names, values)
    _same(fast, django)
    assert fast._state.adding is False
    assert fast._state.db == "default"


@pytest.mark.django_db
def test_rows_loaded_with_their_relations_are_djangos_instances(djangos_path):
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    employee = EmployeeFactory(org_unit=unit)
    Assignment.objects.create(
        employee=employee, position=position, start_date=datetime.date(2026, 1, 5), weekly_hours=Decimal("20.00")
    )
    query = Assignment.objects.select_related("employee__org_unit", "position__org_unit", "created_by")
    fast = list(query)
    djangos_path()
    django = list(query.all())
    assert len(fast) == len(django) == 1
    _same(fast[0], django[0])
    assert fast[0].employee.org_unit.code == unit.code
    # A protected FSM field keeps its protection, and the transitions work on a loaded row.
    with pytest.raises(AttributeError):
        fast[0].state = "active"
    fast[0].approve()
    assert fast[0].state == "approved"


@pytest.mark.django_db
def test_deferred_columns_go_through_django():
    employee = EmployeeFactory()
    loaded = Employee.objects.only("id", "first_name").get(pk=employee.pk)
    assert "last_name" in loaded.get_deferred_fields()
    assert loaded.last_name == employee.last_name  # loaded on access, as Django does


@pytest.mark.django_db
def test_an_init_receiver_makes_both_paths_djangos():
    employee = EmployeeFactory()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((sender, instance.pk))

    post_init.connect(receiver, sender=Employee)
    try:
        Employee.objects.get(pk=employee.pk)
        unsaved(Employee, [{"employee_number": "X-1"}])
    finally:
        post_init.disconnect(receiver, sender=Employee)
    assert seen == [(Employee, employee.pk), (Employee, None)]
    assert pre_init.receivers == []
    assert post_init.receivers == []


@isolate_apps("apps.api")
def test_a_model_with_its_own_init_is_not_built_without_it():
    class Custom(FastLoading, models.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.extra = True

        def __str__(self) -> str:
            return str(self.pk)

    assert instances._attnames(Custom) is None
    names = [f.attname for f in Custom._meta.concrete_fields]
    assert Custom.from_db("default", names, [1]).extra is True
    assert unsaved(Custom, [{"id": 2}])[0].extra is True


_NEW_ROWS = [
    (
        LedgerEntry,
        {
            "employee_id": 7,
            "kind": "assigned",
            "basis": "weekly_rate",
            "hours": Decimal("20.00"),
            "period_start": datetime.date(2026, 1, 5),
            "period_end": None,
            "source": "assignment",
            "assignment_id": 9,
            "reason": "assignment.approve",
            "actor_id": 1,
            "actor_email": "hr@example.com",
            "request_id": "r-1",
        },
    ),
    (EmployeeTag, {"employee_id": 7, "tag_id": 3, "level": 2}),
    (TagChangeLog, {"action": "add", "target_type": "employee", "target_id": 5, "tag_id": 3, "after": {"level": 2}}),
    (TagCatalog, {"code": "forklift", "name": "Forklift"}),
    (Employee, {"employee_number": "E-1", "org_unit_id": 4, "hire_date": datetime.date(2026, 1, 5)}),
    (Assignment, {"employee_id": 7, "position_id": 2, "start_date": datetime.date(2026, 1, 5), "weekly_hours": 8}),
]


@pytest.mark.parametrize(("model", "row"), _NEW_ROWS, ids=lambda v: getattr(v, "__name__", ""))
@time_machine.travel(datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC), tick=False)
def test_unsaved_builds_what_the_model_call_builds(model, row):
    fast, other = unsaved(model, [row, dict(row)])
    _same(fast, model(**row))
    _same(other, model(**row))
    assert fast._state is not other._state  # each instance its own state
    for attname in row:
        assert getattr(fast, attname) is row[attname]


def test_a_callable_default_is_called_for_each_row_that_leaves_it_out_and_only_then():
    given = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    rows = unsaved(LedgerEntry, [{"employee_id": 1}, {"employee_id": 2}, {"employee_id": 3, "created_at": given}])
    with time_machine.travel(datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC), tick=False):
        later = unsaved(LedgerEntry, [{"employee_id": 4}])[0]
    assert rows[0].created_at is not rows[1].created_at
    assert rows[2].created_at is given
    assert later.created_at == datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)


def test_a_row_naming_a_related_object_or_an_unknown_name_goes_through_django():
    tag = TagCatalog(pk=3, code="forklift")
    row = unsaved(EmployeeTag, [{"employee_id": 7, "tag": tag}])[0]
    assert row.tag_id == 3
    assert row.tag is tag
    with pytest.raises(TypeError, match="unexpected keyword arguments: .colour."):
        unsaved(EmployeeTag, [{"employee_id": 7, "colour": "red"}])
