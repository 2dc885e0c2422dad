"""The list serializers render through ``CompiledRepresentationMixin`` (backend/serializers.py): every list page —
fetched as tuples and rendered by the row plan (``backend.viewsets.RowListMixin``, ADR 0035) — is byte for byte what
DRF's own field-by-field rendering of model instances gives, null values, related ids, dotted sources, properties
and method fields included."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework import renderers, serializers

from apps.api.api.serializers import EmployeeSerializer
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.api.serializers import AssignmentSerializer
from apps.assignments.services import assignment_create, assignment_transition
from apps.audit_log.api.serializers import TagChangeLogSerializer, transition_log_serializer
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from apps.offer.api.serializers import LedgerEntrySerializer
from apps.offer.services import ledger_adjust, ledger_reverse
from apps.tags.models import TagCatalog, TagChangeLog
from backend.renderers import JSONRenderer
from backend.serializers import CompiledRepresentationMixin, RowPlan

LIST_URLS = [
    "/api/employees/",
    "/api/assignments/",
    "/api/audit/employee-transitions/",
    "/api/audit/assignment-transitions/",
    "/api/audit/tag-changes/",
    "/api/hours-ledger/entries/",
]


@pytest.fixture
def rows(make_user):
    """A little of everything the lists show, written by the services: nulls and values in every nullable column."""
    hr = make_user("hr")
    unit = OrgUnitFactory()
    position = PositionFactory(org_unit=unit)
    linked = EmployeeFactory(org_unit=unit, user=make_user("employee"))
    plain = EmployeeFactory(org_unit=unit, user=None)
    for employee in (linked, plain):
        employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    open_ended, _ = assignment_create(
        actor=hr, employee=linked, position=position, start_date=datetime.date(2026, 3, 2), weekly_hours=Decimal("12.5")
    )
    bounded, _ = assignment_create(
        actor=hr,
        employee=plain,
        position=position,
        start_date=datetime.date(2026, 3, 2),
        end_date=datetime.date(2026, 4, 30),
        weekly_hours=Decimal(20),
        notes="Cover for the spring",
    )
    for assignment in (bounded, open_ended):
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr)
    entry = ledger_adjust(
        actor=hr,
        employee=plain,
        adjusts="leave",
        hours=Decimal("7.25"),
        period_start=datetime.date(2026, 3, 3),
        period_end=datetime.date(2026, 3, 3),
        reason="Sick",
    )
    ledger_reverse(actor=hr, entry=entry, reason="Entered twice")
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    TagChangeLog.objects.create(
        action="add", target_type="employee", target_id=plain.pk, employee=plain, tag=tag, after={"level": 2},
        actor=hr, actor_email=hr.email,
    )  # fmt: skip
    TagChangeLog.objects.create(
        action="remove", target_type="position", target_id=position.pk, position=position, tag=tag, before={"min": 1},
        actor=None, actor_email="",
    )  # fmt: skip
    return open_ended


def _drf_rendering(self, instance):
    return super(CompiledRepresentationMixin, self).to_representation(instance)


@pytest.mark.parametrize("url", LIST_URLS)
def test_every_list_page_is_what_drf_renders(auth_client, rows, monkeypatch, url):
    client, _ = auth_client("admin")
    compiled = client.get(url, {"page_size": 100})
    assert compiled.status_code == 200, compiled.content
    assert len(compiled.json()["results"]) >= 2
    # model instances rendered by DRF, field by field: no row plan, no compiled rendering
    monkeypatch.setattr(CompiledRepresentationMixin, "row_plan", classmethod(lambda cls, queryset: None))
    monkeypatch.setattr(CompiledRepresentationMixin, "to_representation", _drf_rendering)
    # and DRF's own JSON encoding instead of orjson's (backend.renderers.JSONRenderer, ADR 0031)
    monkeypatch.setattr(JSONRenderer, "render", renderers.JSONRenderer.render)
    plain = client.get(url, {"page_size": 100})
    assert plain.status_code == 200
    assert compiled.content == plain.content


@pytest.mark.parametrize("url", LIST_URLS)
def test_every_list_page_is_rendered_from_rows(auth_client, rows, monkeypatch, url):
    client, _ = auth_client("admin")
    rendered = []
    plain = CompiledRepresentationMixin.rows_representation

    def spy(self, plan, page):
        rendered.append(plan)
        return plain(self, plan, page)

    monkeypatch.setattr(CompiledRepresentationMixin, "rows_representation", spy)
    assert client.get(url).status_code == 200
    if url == "/api/hours-ledger/entries/" and connection.vendor != "postgresql":
        assert rendered == []  # the reversals come by prefetch there, which needs model instances
    else:
        assert len(rendered) == 1
        assert isinstance(rendered[0], RowPlan)


def test_the_pages_hold_nulls_and_values_of_each_kind(auth_client, rows):
    client, _ = auth_client("admin")
    employees = client.get("/api/employees/").json()["results"]
    assert {row["user"] is None for row in employees} >= {True, False}
    assignments = client.get("/api/assignments/").json()["results"]
    assert {row["end_date"] is None for row in assignments} == {True, False}
    assert {row["weekly_hours"] for row in assignments} >= {"12.50", "20.00"}
    entries = client.get("/api/hours-ledger/entries/").json()["results"]
    assert any(row["reversed_by"] for row in entries)
    assert any(row["reverses"] for row in entries)
    changes = client.get("/api/audit/tag-changes/").json()["results"]
    assert {row["before"] is None for row in changes} == {True, False}
    assert {row["actor"] is None for row in changes} == {True, False}


@pytest.mark.parametrize(
    "serializer_class",
    [
        EmployeeSerializer,
        AssignmentSerializer,
        TagChangeLogSerializer,
        LedgerEntrySerializer,
        transition_log_serializer(EmployeeTransitionLog),
    ],
)
def test_every_list_serializer_compiles(serializer_class):
    names = [name for name, *_ in serializer_class._representation_plan()]
    readable = [name for name, field in serializer_class().fields.items() if not field.write_only]
    assert names == readable


def test_a_field_that_could_depend_on_the_request_is_refused():
    class Nested(CompiledRepresentationMixin, serializers.Serializer):
        inner = EmployeeSerializer()

    with pytest.raises(TypeError, match="inner"):
        Nested._representation_plan()


def _employees():
    from apps.api.models import Employee

    return Employee.objects.select_related("org_unit")


@pytest.mark.parametrize(
    "shape",
    [
        lambda qs: qs.prefetch_related("assignments"),
        lambda qs: qs.distinct(),
        lambda qs: qs.values("id"),
        lambda qs: qs.values("org_unit").annotate(n=Count("id")),
        lambda qs: qs.extra(select={"one": "1"}),  # noqa: S610 (a constant, to test the refusal)
    ],
)
def test_a_queryset_whose_rows_values_list_would_change_is_rendered_from_instances(shape):
    assert EmployeeSerializer.row_plan(_employees()) is not None
    assert EmployeeSerializer.row_plan(shape(_employees())) is None


def test_a_field_through_a_nullable_relation_is_rendered_from_instances():
    class WithUserEmail(EmployeeSerializer):
        user_email = serializers.CharField(source="user.email", read_only=True)  # DRF omits it when user is null

        class Meta(EmployeeSerializer.Meta):
            fields = [*EmployeeSerializer.Meta.fields, "user_email"]

    assert WithUserEmail.row_plan(_employees()) is None


def test_a_property_fetches_the_columns_it_reads():
    from apps.assignments.models import Assignment

    plan = AssignmentSerializer.row_plan(Assignment.objects.all())
    employee_columns = [lookup for lookup in plan.lookups if lookup.startswith("employee__")]
    assert employee_columns == ["employee__first_name", "employee__last_name"]  # @reads on Employee.full_name
