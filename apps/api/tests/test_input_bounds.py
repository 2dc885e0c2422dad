"""Input hardening across the API (issue 11, items 12–14): no filter is an existence oracle, ids are whole numbers,
every written date and text is bounded. The sweeps walk every serializer and rule type, so a new one that forgets
the strict fields fails here."""

import datetime
import importlib
import inspect
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework import serializers

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.assignments.tests.factories import AssignmentFactory
from apps.business_rules.models import BusinessRule
from apps.business_rules.registry import REGISTRY
from apps.demand.tests.factories import CoverageRequirementFactory
from apps.tags.tests.factories import EmployeeTagFactory, TagCatalogFactory
from backend.audit.db import AppendOnlyModel
from backend.serializers import BoundedDateField, IdField, StrictIntegerField, StrictPrimaryKeyRelatedField

pytestmark = pytest.mark.django_db


def _error(response, status=400, code="validation_error"):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def world(db):
    """A manager of EAST; WEST (and its employee, position, assignment) lies outside their scope."""
    root = OrgUnitFactory(code="ROOT")
    east, west = OrgUnitFactory(code="EAST", parent=root), OrgUnitFactory(code="WEST", parent=root)
    emp_east, emp_west = EmployeeFactory(org_unit=east), EmployeeFactory(org_unit=west)
    p_east, p_west = PositionFactory(org_unit=east), PositionFactory(org_unit=west)
    a_west = AssignmentFactory(employee=emp_west, position=p_west)
    CoverageRequirementFactory(position=p_west)
    EmployeeTagFactory(employee=emp_west, tag=TagCatalogFactory())
    return {
        "east": east,
        "west": west,
        "emp_east": emp_east,
        "emp_west": emp_west,
        "p_east": p_east,
        "p_west": p_west,
        "a_west": a_west,
    }


# --- 12. filters are no existence oracle -----------------------------------------------------------------

# (list, parameter, the world's out-of-scope object it names)
ID_FILTERS = [
    ("/api/assignments/", "employee", "emp_west"),
    ("/api/assignments/", "position", "p_west"),
    ("/api/assignments/", "org_unit", "west"),
    ("/api/hours-ledger/entries/", "employee", "emp_west"),
    ("/api/hours-ledger/entries/", "assignment", "a_west"),
    ("/api/clock/events/", "employee", "emp_west"),
    ("/api/employee-tags/", "employee", "emp_west"),
    ("/api/coverage-requirements/", "position", "p_west"),
    ("/api/coverage-requirements/", "org_unit", "west"),
    ("/api/business-rules/", "org_unit", "west"),
    ("/api/business-rules/", "position", "p_west"),
    ("/api/employees/", "org_unit", "west"),
    ("/api/positions/", "org_unit", "west"),
]


@pytest.mark.parametrize(("url", "param", "name"), ID_FILTERS)
def test_an_id_out_of_scope_is_answered_like_an_unknown_one(auth_client, world, url, param, name):
    client, _ = auth_client("manager", org_unit=world["east"])
    out_of_scope = world[name].pk
    unknown = type(world[name]).objects.order_by("-pk").first().pk + 1000
    answers = [client.get(url, {param: value}) for value in (out_of_scope, unknown)]
    errors = [_error(answer) for answer in answers]
    assert [list(error["details"]) for error in errors] == [[param], [param]]
    # In scope, the same filter works (so the 400 above is the scope, not a broken filter).
    admin, _ = auth_client("admin")
    assert admin.get(url, {param: out_of_scope}).status_code == 200


def test_an_employee_naming_a_colleague_is_refused_like_an_unknown_id(auth_client, world):
    client, user = auth_client("employee")
    world["emp_east"].user = user
    world["emp_east"].save(update_fields=["user"])
    for url in ("/api/assignments/", "/api/hours-ledger/entries/", "/api/clock/events/"):
        assert list(_error(client.get(url, {"employee": world["emp_west"].pk}))["details"]) == ["employee"]
        assert client.get(url, {"employee": world["emp_east"].pk}).status_code == 200


# --- 13. ids are whole numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [481.9, 1.0, True, "481.9", "4e2", " 1", "１", -1, 0, 2**63, [1], {"id": 1}])
def test_a_related_id_that_is_not_a_whole_number_is_400_and_writes_nothing(auth_client, world, bad):
    client, _ = auth_client("admin")
    employee = world["emp_east"]
    if bad == 1.0:  # a float equal to a real id must not be truncated onto it
        bad = float(employee.pk)
    if bad == 481.9:
        bad = employee.pk + 0.9
    body = {"employee": bad, "position": world["p_east"].pk, "start_date": "2026-02-02", "weekly_hours": "20"}
    before = Assignment.objects.count()
    error = _error(client.post("/api/assignments/", body, format="json"))
    assert "employee" in error["details"]
    assert Assignment.objects.count() == before


def test_a_digit_string_id_is_accepted(auth_client, world):
    client, _ = auth_client("admin")
    body = {"employee": str(world["emp_east"].pk), "position": world["p_east"].pk, "start_date": "2026-02-02"}
    response = client.post("/api/assignments/", {**body, "weekly_hours": "20"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["employee"] == world["emp_east"].pk


def test_integers_refuse_floats_everywhere(auth_client, world):
    client, _ = auth_client("admin")
    body = {"position": world["p_east"].pk, "valid_from": "2026-01-05", "required_headcount": 2.0}
    assert "required_headcount" in _error(client.post("/api/coverage-requirements/", body, format="json"))["details"]
    clock = client.post("/api/clock/in/", {"employee": world["emp_east"].pk + 0.5}, format="json")
    assert "employee" in _error(clock)["details"]


def _input_serializer_names() -> set[str]:
    """Serializers that parse what clients send: named as a request body (``request=``), as query parameters
    (``parameters=[...]``), or instantiated with ``data=`` / through a view's ``query(...)`` helper anywhere in the
    project's views and admin (a new input serializer is found the same way, so it is swept too)."""
    names = set()
    for path in Path(settings.BASE_DIR, "apps").glob("*/**/*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        names.update(re.findall(r"\b(\w+Serializer)\((?:data|instance=[^,()]+, data)=", text))
        names.update(re.findall(r"(?:request=|parameters=\[|\.query\()(\w+Serializer)\b", text))
    return names


def _project_serializers():
    """Every input serializer of the project: model serializers (but those of append-only logs, read-only by
    construction) and the plain serializers ``_input_serializer_names`` finds."""
    inputs = _input_serializer_names()
    found = set()
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api.serializers")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.BaseSerializer) or cls.__module__ != module.__name__:
                continue
            if issubclass(cls, serializers.ModelSerializer):
                if not issubclass(cls.Meta.model, AppendOnlyModel):
                    found.add(cls)
            elif cls.__name__ in inputs:
                found.add(cls)
    assert {"TransitionInputSerializer", "CandidateQuerySerializer", "ClockSerializer"} <= {c.__name__ for c in found}
    return found


def _writable_fields(serializer_class):
    try:
        fields = serializer_class().fields
    except TypeError:  # a serializer factory's base that needs arguments: its subclasses are checked instead
        return
    for name, field in fields.items():
        if not field.read_only:
            yield name, field.child_relation if isinstance(field, serializers.ManyRelatedField) else field


def test_every_writable_id_integer_date_and_text_field_is_strict():
    """Each writable field of each project serializer uses the strict field for its kind, and text is bounded."""
    loose = []
    checked = 0
    for cls in _project_serializers():
        for name, field in _writable_fields(cls):
            checked += 1
            where = f"{cls.__module__}.{cls.__name__}.{name}"
            if isinstance(field, serializers.RelatedField) and not isinstance(field, StrictPrimaryKeyRelatedField):
                loose.append(f"{where}: {type(field).__name__} (use StrictPrimaryKeyRelatedField)")
            elif isinstance(field, serializers.IntegerField) and not isinstance(field, IdField | StrictIntegerField):
                loose.append(f"{where}: IntegerField (use IdField or StrictIntegerField)")
            elif isinstance(field, serializers.DateField) and not isinstance(field, BoundedDateField):
                loose.append(f"{where}: DateField (use BoundedDateField)")
            elif type(field) is serializers.CharField and field.max_length is None:
                loose.append(f"{where}: CharField without max_length")
            elif isinstance(field, serializers.ListField) and field.max_length is None:
                loose.append(f"{where}: ListField without max_length")
    assert checked > 50  # the sweep really found the serializers
    assert loose == []


# --- 14. bounds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hire_date", ["1899-12-31", "3000-01-01", "9999-12-31", "20270101", "2027-W01-1", "2027-1-1"])
def test_hire_dates_out_of_range_or_not_iso_are_400(auth_client, world, hire_date):
    client, _ = auth_client("admin")
    body = {
        "employee_number": "B-1",
        "first_name": "Ada",
        "last_name": "Bound",
        "email": "ada.bound@coveris.test",
        "org_unit": world["east"].pk,
        "contracted_weekly_hours": "40",
        "hire_date": hire_date,
    }
    assert list(_error(client.post("/api/employees/", body, format="json"))["details"]) == ["hire_date"]
    assert not Employee.objects.filter(employee_number="B-1").exists()
    assert client.post("/api/employees/", {**body, "hire_date": "2999-12-31"}, format="json").status_code == 201


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31", "20270101"])
def test_effective_dates_are_bounded(auth_client, world, day):
    client, _ = auth_client("admin")
    employee = world["emp_east"]
    url = f"/api/employees/{employee.pk}/transitions/"
    response = client.post(url, {"transition": "terminate", "reason": "x", "effective_date": day}, format="json")
    assert list(_error(response)["details"]) == ["effective_date"]
    employee.refresh_from_db()
    assert employee.state != "terminated"


def test_assignment_periods_and_tag_validity_are_bounded(auth_client, world):
    client, _ = auth_client("admin")
    body = {"employee": world["emp_east"].pk, "position": world["p_east"].pk, "weekly_hours": "20"}
    response = client.post("/api/assignments/", {**body, "start_date": "2026-01-05", "end_date": "3000-01-01"})
    assert list(_error(response)["details"]) == ["end_date"]
    tag = TagCatalogFactory()
    response = client.post(
        "/api/employee-tags/", {"employee": world["emp_east"].pk, "tag": tag.pk, "valid_from": "0001-01-01"}
    )
    assert list(_error(response)["details"]) == ["valid_from"]


def test_model_fields_refuse_out_of_range_dates_for_the_admin_too():
    # The validator sits on the model field, so ModelForms (the admin, imports) refuse what the API refuses.
    field = Employee._meta.get_field("hire_date")
    with pytest.raises(ValidationError):
        field.clean(datetime.date(9999, 12, 31), None)
    assert field.clean(datetime.date(2999, 12, 31), None) == datetime.date(2999, 12, 31)


def test_free_text_has_a_maximum_length(auth_client, world):
    client, _ = auth_client("admin")
    rule = {
        "code": "LONG",
        "name": "Long",
        "description": "x" * 100_000,
        "rule_type": "reason_required",
        "params": {},
        "severity": "block",
        "events": ["employee.terminate"],
    }
    assert list(_error(client.post("/api/business-rules/", rule, format="json"))["details"]) == ["description"]
    assert not BusinessRule.objects.filter(code="LONG").exists()
    assert client.post("/api/business-rules/", {**rule, "description": "x" * 2000}, format="json").status_code == 201
    body = {"employee": world["emp_east"].pk, "position": world["p_east"].pk, "start_date": "2026-02-02"}
    response = client.post("/api/assignments/", {**body, "weekly_hours": "20", "notes": "n" * 2001}, format="json")
    assert list(_error(response)["details"]) == ["notes"]


def _unbounded(schema, path="params"):
    """Paths in a JSON schema where a number, string or array has no upper bound."""
    found = []
    kind = schema.get("type")
    if kind in ("number", "integer") and "maximum" not in schema and "exclusiveMaximum" not in schema:
        found.append(path)
    if kind == "string" and "maxLength" not in schema and "enum" not in schema:
        found.append(path)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(path)
        found += _unbounded(schema.get("items", {}), f"{path}[]")
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, f"{path}.{name}")
    return found


def test_every_rule_param_schema_bounds_its_values():
    unbounded = {identifier: _unbounded(rule_type.params_schema) for identifier, rule_type in REGISTRY.items()}
    assert {k: v for k, v in unbounded.items() if v} == {}


def test_a_huge_rule_param_is_400(auth_client):
    client, _ = auth_client("admin")
    rule = {
        "code": "HUGE",
        "name": "Huge",
        "rule_type": "max_concurrent_assignments",
        "params": {"max": 10**40},
        "severity": "block",
        "events": ["assignment.approve"],
    }
    error = _error(client.post("/api/business-rules/", rule, format="json"))
    assert any(key.startswith("params") for key in error["details"])
    assert not BusinessRule.objects.filter(code="HUGE").exists()
