"""List filters, search and ordering; every bad value is a 400 ``validation_error`` naming the parameter."""

import datetime

import pytest

from apps.api.services import org_unit_update
from apps.api.tests.conftest import EMPLOYEES_URL, ORG_UNITS_URL, POSITIONS_URL, assert_error
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.fsm.services import employee_transition
from apps.tags.models import EmployeeTag, TagCatalog


@pytest.fixture
def admin_client(auth_client):
    return auth_client("admin")[0]


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["employee_number"] for row in response.json()["results"])


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["code"] for row in response.json()["results"])


# --- employees ----------------------------------------------------------------------------------


def test_employee_state_filter_takes_several_values(admin_client, world, make_user):
    hr = make_user("hr")
    employee_transition(employee_id=world.employee.pk, name="activate", actor=hr)
    employee_transition(
        employee_id=world.outsider.pk, name="terminate", actor=hr, effective_date=datetime.date(2026, 3, 1)
    )
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"state": "active"})) == ["E-CHILD"]
    assert _numbers(admin_client.get(f"{EMPLOYEES_URL}?state=active&state=terminated")) == ["E-CHILD", "E-OUT"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"state": "pending,terminated"})) == ["E-GRAND", "E-OUT"]


def test_employee_unknown_state_is_400(admin_client, world):
    error = assert_error(admin_client.get(EMPLOYEES_URL, {"state": "retired"}), 400, "validation_error", "state")
    assert "retired" in error["details"]["state"][0]


def test_employee_org_unit_filter_includes_the_subtree(admin_client, world):
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.root.pk})) == ["E-CHILD", "E-GRAND"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.child.pk})) == ["E-CHILD", "E-GRAND"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.grandchild.pk})) == ["E-GRAND"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.other.pk})) == ["E-OUT"]


@pytest.mark.parametrize("value", ["999999", "abc", "-1", "1.5", "99999999999999999999999", "1\x00"])
def test_employee_unknown_org_unit_is_400(admin_client, world, value):
    assert_error(admin_client.get(EMPLOYEES_URL, {"org_unit": value}), 400, "validation_error", "org_unit")


def test_org_unit_filter_outside_the_managers_scope_is_400_like_an_unknown_one(auth_client, world):
    client, _ = auth_client("manager", org_unit=world.child)
    assert _numbers(client.get(EMPLOYEES_URL, {"org_unit": world.grandchild.pk})) == ["E-GRAND"]
    assert_error(client.get(EMPLOYEES_URL, {"org_unit": world.other.pk}), 400, "validation_error", "org_unit")


def test_subtree_filter_follows_a_moved_unit(admin_client, world):
    """Moving ``child`` under ``other`` rewrites its descendants' paths: the filter sees the new tree at once."""
    org_unit_update(unit=world.child, parent=world.other)
    world.grandchild.refresh_from_db()
    assert world.grandchild.path == f"{world.other.path}{world.child.pk}/{world.grandchild.pk}/"
    assert world.grandchild.depth == 2
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.other.pk})) == ["E-CHILD", "E-GRAND", "E-OUT"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"org_unit": world.root.pk})) == []
    assert _codes(admin_client.get(ORG_UNITS_URL, {"within": world.other.pk})) == ["OTHER", "SALES", "SALES-N"]
    assert _codes(admin_client.get(POSITIONS_URL, {"org_unit": world.other.pk})) == ["OUT-POS", "SELLER"]


def test_employee_tag_filter_by_code_or_id_lists_each_holder_once(admin_client, world):
    python = TagCatalog.objects.create(code="python", name="Python")
    TagCatalog.objects.create(code="unused", name="Nobody has it")
    EmployeeTag.objects.create(employee=world.employee, tag=python, level=2, valid_from=datetime.date(2025, 1, 1))
    EmployeeTag.objects.create(employee=world.employee, tag=python, level=3, valid_from=datetime.date(2026, 1, 1))
    EmployeeTag.objects.create(employee=world.outsider, tag=python, level=1, valid_from=datetime.date(2026, 1, 1))

    by_code = admin_client.get(EMPLOYEES_URL, {"tag": "python"})
    assert _numbers(by_code) == ["E-CHILD", "E-OUT"]
    assert by_code.json()["count"] == 2  # two rows of one tag, still one employee
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"tag": python.pk})) == ["E-CHILD", "E-OUT"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"tag": "unused"})) == []
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"tag": "python", "org_unit": world.root.pk})) == ["E-CHILD"]


@pytest.mark.parametrize("value", ["no-such-tag", "999999", "99999999999999999999999", "py\x00thon", "³", "١٢"])
def test_employee_unknown_tag_is_400(admin_client, world, value):
    assert_error(admin_client.get(EMPLOYEES_URL, {"tag": value}), 400, "validation_error", "tag")


def test_employee_hire_date_range(admin_client, world):
    EmployeeFactory(employee_number="E-EARLY", org_unit=world.child, hire_date=datetime.date(2024, 6, 1))
    EmployeeFactory(employee_number="E-LATE", org_unit=world.child, hire_date=datetime.date(2026, 9, 1))
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"hire_date_before": "2025-01-01"})) == ["E-EARLY"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"hire_date_after": "2026-06-01"})) == ["E-LATE"]
    inclusive = {"hire_date_after": "2026-01-05", "hire_date_before": "2026-01-05"}
    assert _numbers(admin_client.get(EMPLOYEES_URL, inclusive)) == ["E-CHILD", "E-GRAND", "E-OUT"]


@pytest.mark.parametrize("param", ["hire_date_after", "hire_date_before"])
@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-02-30", "0"])
def test_employee_malformed_hire_date_is_400(admin_client, world, param, value):
    assert_error(admin_client.get(EMPLOYEES_URL, {param: value}), 400, "validation_error", param)


def test_employee_search_matches_every_term(admin_client, world):
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"search": "ada"})) == ["E-CHILD"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"search": "Ada Lovelace"})) == ["E-CHILD"]
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"search": "Ada Hopper"})) == []
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"search": "e-gr"})) == ["E-GRAND"]
    world.outsider.email = "alan@bletchley.test"
    world.outsider.save()
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"search": "bletchley"})) == ["E-OUT"]


def test_employee_ordering(admin_client, world):
    response = admin_client.get(EMPLOYEES_URL, {"ordering": "-employee_number"})
    assert [r["employee_number"] for r in response.json()["results"]] == ["E-OUT", "E-GRAND", "E-CHILD"]
    response = admin_client.get(EMPLOYEES_URL, {"ordering": "first_name"})
    assert [r["first_name"] for r in response.json()["results"]] == ["Ada", "Alan", "Grace"]


@pytest.mark.parametrize("value", ["salary", "-password", "user__password"])
def test_unknown_ordering_is_400(admin_client, world, value):
    assert_error(admin_client.get(EMPLOYEES_URL, {"ordering": value}), 400, "validation_error", "ordering")


def test_unknown_query_parameters_are_ignored(admin_client, world):
    # Only the filters' own values are validated; unrelated parameters (cache busters, tracking) pass through.
    assert _numbers(admin_client.get(EMPLOYEES_URL, {"_": "123"})) == ["E-CHILD", "E-GRAND", "E-OUT"]


def test_several_bad_filters_are_all_named(admin_client, world):
    response = admin_client.get(EMPLOYEES_URL, {"state": "x", "hire_date_after": "nope", "org_unit": "0"})
    assert_error(response, 400, "validation_error", "state", "hire_date_after", "org_unit")


# --- org units ------------------------------------------------------------------------------------


def test_org_unit_filters(admin_client, world):
    OrgUnitFactory(code="CLOSED", parent=world.child, is_active=False)
    assert _codes(admin_client.get(ORG_UNITS_URL, {"parent": world.root.pk})) == ["SALES"]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"parent": "null"})) == ["OTHER", "ROOT"]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"within": world.child.pk})) == ["CLOSED", "SALES", "SALES-N"]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"is_active": "false"})) == ["CLOSED"]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"is_active": "true", "within": world.child.pk})) == [
        "SALES",
        "SALES-N",
    ]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"code": "sales"})) == ["SALES"]
    assert _codes(admin_client.get(ORG_UNITS_URL, {"search": "north"})) == ["SALES-N"]
    ordered = admin_client.get(ORG_UNITS_URL, {"ordering": "-code"}).json()["results"]
    assert [r["code"] for r in ordered] == ["SALES-N", "SALES", "ROOT", "OTHER", "CLOSED"]


def test_org_units_list_in_tree_order_by_default(admin_client, world):
    rows = admin_client.get(ORG_UNITS_URL).json()["results"]
    by_code = {r["code"]: r for r in rows}
    assert by_code["SALES-N"]["parent_code"] == "SALES"
    assert by_code["ROOT"]["parent_code"] is None
    assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)


@pytest.mark.parametrize(
    ("param", "value"),
    [("parent", "999999"), ("within", "abc"), ("is_active", "maybe"), ("ordering", "secret")],
)
def test_org_unit_bad_filter_values_are_400(admin_client, world, param, value):
    assert_error(admin_client.get(ORG_UNITS_URL, {param: value}), 400, "validation_error", param)


# --- positions ------------------------------------------------------------------------------------


def test_position_filters(admin_client, world):
    PositionFactory(code="DEEP", title="Deep seller", org_unit=world.grandchild, is_active=False)
    assert _codes(admin_client.get(POSITIONS_URL, {"org_unit": world.root.pk})) == ["DEEP", "SELLER"]
    assert _codes(admin_client.get(POSITIONS_URL, {"org_unit": world.grandchild.pk})) == ["DEEP"]
    assert _codes(admin_client.get(POSITIONS_URL, {"is_active": "0"})) == ["DEEP"]
    assert _codes(admin_client.get(POSITIONS_URL, {"search": "seller"})) == ["DEEP", "SELLER"]
    assert _codes(admin_client.get(POSITIONS_URL, {"search": "out"})) == ["OUT-POS"]
    rows = admin_client.get(POSITIONS_URL, {"ordering": "title"}).json()["results"]
    assert [r["title"] for r in rows] == ["Deep seller", "Elsewhere", "Seller"]
    assert rows[2]["org_unit_code"] == "SALES"
    assert rows[2]["org_unit_name"] == "Sales"


@pytest.mark.parametrize(("param", "value"), [("org_unit", "0"), ("is_active", "yes please"), ("ordering", "id,x")])
def test_position_bad_filter_values_are_400(admin_client, world, param, value):
    assert_error(admin_client.get(POSITIONS_URL, {param: value}), 400, "validation_error", param)
