"""List filters, and query counts that do not grow with the number of rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory, TagCatalogFactory

D = datetime.date


@pytest.fixture
def hr_client(auth_client):
    return auth_client("hr")[0]


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_tag_catalog_filters_and_search(db, hr_client):
    python = TagCatalogFactory(code="python", name="Python", category="skill")
    german = TagCatalogFactory(code="german", name="German", category="language")
    retired = TagCatalogFactory(code="cobol", name="COBOL", category="skill", is_active=False)

    assert _ids(hr_client.get("/api/tags/?category=language")) == {german.pk}
    assert _ids(hr_client.get("/api/tags/?is_active=false")) == {retired.pk}
    assert _ids(hr_client.get("/api/tags/?is_active=true&category=skill")) == {python.pk}
    assert _ids(hr_client.get("/api/tags/?search=GERM")) == {german.pk}  # name or code, case-insensitive
    assert _ids(hr_client.get("/api/tags/?search=cob")) == {retired.pk}
    codes = [row["code"] for row in hr_client.get("/api/tags/?ordering=-code").json()["results"]]
    assert codes == ["python", "german", "cobol"]


def test_employee_tag_filters(db, hr_client):
    python, sql = TagCatalogFactory(code="python"), TagCatalogFactory(code="sql", category="certification")
    ada, bob = EmployeeFactory(), EmployeeFactory()
    open_ended = EmployeeTagFactory(employee=ada, tag=python, level=5, valid_from=D(2026, 1, 1))
    ended = EmployeeTagFactory(employee=ada, tag=sql, level=2, valid_from=D(2026, 1, 1), valid_until=D(2026, 3, 31))
    future = EmployeeTagFactory(employee=bob, tag=python, level=8, valid_from=D(2026, 6, 1))

    assert _ids(hr_client.get(f"/api/employee-tags/?employee={ada.pk}")) == {open_ended.pk, ended.pk}
    assert _ids(hr_client.get(f"/api/employee-tags/?tag={python.pk}")) == {open_ended.pk, future.pk}
    assert _ids(hr_client.get("/api/employee-tags/?tag=sql")) == {ended.pk}
    assert _ids(hr_client.get("/api/employee-tags/?category=certification")) == {ended.pk}
    assert _ids(hr_client.get("/api/employee-tags/?level_gte=5")) == {open_ended.pk, future.pk}
    # valid_on: valid_from <= day <= valid_until (open-ended when valid_until is null); both ends inclusive.
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2025-12-31")) == set()
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2026-01-01")) == {open_ended.pk, ended.pk}
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2026-03-31")) == {open_ended.pk, ended.pk}
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2026-04-01")) == {open_ended.pk}
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2026-06-01")) == {open_ended.pk, future.pk}
    assert _ids(hr_client.get("/api/employee-tags/?valid_on=2026-06-01&tag=python&level_gte=6")) == {future.pk}
    assert _ids(hr_client.get(f"/api/employee-tags/?employee={ada.pk}&search=sql")) == {ended.pk}


def test_position_tag_filters(db, hr_client):
    python, sql = TagCatalogFactory(code="python"), TagCatalogFactory(code="sql")
    dev, dba = PositionFactory(), PositionFactory()
    a = PositionTagFactory(position=dev, tag=python, required=True)
    b = PositionTagFactory(position=dev, tag=sql, required=False)
    c = PositionTagFactory(position=dba, tag=sql, required=True)

    assert _ids(hr_client.get(f"/api/position-tags/?position={dev.pk}")) == {a.pk, b.pk}
    assert _ids(hr_client.get("/api/position-tags/?tag=sql")) == {b.pk, c.pk}
    assert _ids(hr_client.get(f"/api/position-tags/?tag={python.pk}")) == {a.pk}
    assert _ids(hr_client.get("/api/position-tags/?required=false")) == {b.pk}
    assert _ids(hr_client.get("/api/position-tags/?required=true&tag=sql")) == {c.pk}


# --- query counts -------------------------------------------------------------------------------

QUERY_CAP = 4  # auth user, the manager's org unit, count, page: never one per row


def _count_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()["count"]


def _make_rows(endpoint, n, unit):
    for _ in range(n):
        tag = TagCatalogFactory()
        if endpoint == "employee-tags":
            EmployeeTagFactory(employee=EmployeeFactory(org_unit=unit), tag=tag)
        elif endpoint == "position-tags":
            PositionTagFactory(position=PositionFactory(org_unit=unit), tag=tag)


@pytest.mark.parametrize("endpoint", ["tags", "employee-tags", "position-tags"])
@pytest.mark.parametrize("role", ["hr", "manager", "auditor"])
def test_list_query_count_does_not_grow_with_rows(endpoint, role, world, auth_client, make_user):
    user = make_user(role, org_unit=world.dept)
    client = auth_client(user=user)[0]
    url = f"/api/{endpoint}/?page_size=100"
    _count_queries(client, url)  # warm-up: anything cached per process is not counted against the list

    queries_small, count_small = _count_queries(client, url)
    _make_rows(endpoint, 25, world.dept)
    queries_large, count_large = _count_queries(client, url)

    assert count_large == count_small + 25
    assert queries_large == queries_small
    assert queries_large <= QUERY_CAP


def test_employee_list_query_count_for_an_employee(world, client_for):
    client = client_for("employee")
    queries_one, count_one = _count_queries(client, "/api/employee-tags/")
    for _ in range(24):
        EmployeeTagFactory(employee=world.emp_in, tag=TagCatalogFactory())
    queries_many, count_many = _count_queries(client, "/api/employee-tags/")
    assert (count_one, count_many) == (1, 25)
    assert queries_one == queries_many <= QUERY_CAP
