"""Every list endpoint costs the same number of queries for 1 row and for 25 (no N+1), under a fixed cap."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.conftest import EMPLOYEES_URL, ORG_UNITS_URL, POSITIONS_URL
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory, PositionFactory
from apps.tags.models import EmployeeTag, TagCatalog

# auth user + (manager: their unit) + COUNT + page, plus one lookup per id-valued filter.
CAP = 6


@pytest.fixture
def tree(db):
    top = OrgUnitFactory(code="TOP")
    unit = OrgUnitFactory(code="UNIT", parent=top)
    tag = TagCatalog.objects.create(code="forklift", name="Forklift")
    return top, unit, tag


def _add_rows(resource: str, unit, tag, n: int) -> None:
    for _ in range(n):
        if resource == "org-units":
            OrgUnitFactory(parent=unit)
        elif resource == "positions":
            PositionFactory(org_unit=unit)
        else:
            employee = EmployeeFactory(org_unit=unit)
            EmployeeTag.objects.create(employee=employee, tag=tag, valid_from=datetime.date(2026, 1, 1))


def _params(resource: str, top, unit, tag) -> list[dict]:
    """Parameter sets that every added row matches."""
    if resource == "org-units":
        return [{}, {"within": top.pk, "ordering": "name"}, {"parent": unit.pk, "search": "unit", "is_active": "1"}]
    if resource == "positions":
        return [{}, {"org_unit": top.pk, "is_active": "true", "search": "pos"}]
    return [
        {},
        {"org_unit": top.pk, "tag": tag.code, "state": "pending,active", "hire_date_after": "2020-01-01"},
        {"search": "coveris", "ordering": "-hire_date"},
    ]


def _measure(client, url: str, params: dict) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {**params, "page_size": 100})
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("role", ["admin", "manager"])
@pytest.mark.parametrize(
    ("resource", "url"), [("org-units", ORG_UNITS_URL), ("positions", POSITIONS_URL), ("employees", EMPLOYEES_URL)]
)
def test_list_query_count_does_not_grow_with_rows(auth_client, tree, role, resource, url):
    top, unit, tag = tree
    client, _ = auth_client(role, org_unit=top if role == "manager" else None)
    _add_rows(resource, unit, tag, 1)
    small = [_measure(client, url, params) for params in _params(resource, top, unit, tag)]
    _add_rows(resource, unit, tag, 24)
    large = [_measure(client, url, params) for params in _params(resource, top, unit, tag)]
    for (few_queries, few_rows), (many_queries, many_rows) in zip(small, large, strict=True):
        assert many_rows == few_rows + 24
        assert many_queries == few_queries, (few_queries, many_queries)
        assert many_queries <= CAP, many_queries


def test_employee_reading_own_record_is_cheap(auth_client, world, django_assert_max_num_queries):
    client, _ = auth_client(user=world.employee_user)
    with django_assert_max_num_queries(3):
        response = client.get(EMPLOYEES_URL)
    assert response.json()["count"] == 1
