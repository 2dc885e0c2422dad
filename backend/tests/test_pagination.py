"""CoverisPagination: ?page=N&page_size=M (M ≤ 100), the SPEC §3 body, bad pages answer 404 in the error shape."""

import pytest
from django.conf import settings

from apps.users.models import User
from backend.pagination import ESTIMATED_HEADER
from backend.tests.utils import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("backend.tests.urls")]

USERS = "/api/test/users/"
BODY_KEYS = {"count", "total_pages", "page", "page_size", "next", "previous", "results"}


@pytest.fixture
def reader(auth_client):
    client, _ = auth_client("auditor")
    return client


def _add_users(n: int) -> None:
    User.objects.bulk_create(User(email=f"bulk{i}@coveris.test", role="employee") for i in range(n))


def test_body_shape_and_default_page_size(reader):
    _add_users(29)  # 30 with the reader
    assert settings.COVERIS_PAGE_SIZE == 25
    body = reader.get(USERS).json()
    assert set(body) == BODY_KEYS
    assert body["count"] == 30
    assert body["total_pages"] == 2
    assert body["page"] == 1
    assert body["page_size"] == 25
    assert len(body["results"]) == 25
    assert body["previous"] is None
    assert body["next"].endswith(f"{USERS}?page=2")
    ids = [row["id"] for row in body["results"]]
    assert ids == sorted(ids)


def test_last_page_links_back(reader):
    _add_users(29)
    body = reader.get(USERS, {"page": 2}).json()
    assert body["page"] == 2
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"].endswith(USERS)


def test_page_size_is_honoured(reader):
    _add_users(29)
    body = reader.get(USERS, {"page_size": 10, "page": 3}).json()
    assert body["page_size"] == 10
    assert body["page"] == 3
    assert body["total_pages"] == 3
    assert len(body["results"]) == 10
    assert "page_size=10" in body["previous"]
    assert body["next"] is None


def test_page_size_is_capped_at_100(reader):
    _add_users(120)
    body = reader.get(USERS, {"page_size": 1000}).json()
    assert body["page_size"] == 100
    assert len(body["results"]) == 100
    assert body["total_pages"] == 2


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", ""])
def test_nonsense_page_size_falls_back_to_the_default(reader, page_size):
    _add_users(29)
    response = reader.get(USERS, {"page_size": page_size})
    assert response.status_code == 200
    assert response.json()["page_size"] == 25


def test_default_page_size_follows_the_setting(reader, settings):
    _add_users(9)
    settings.COVERIS_PAGE_SIZE = 4
    body = reader.get(USERS).json()
    assert body["page_size"] == 4
    assert body["total_pages"] == 3


def test_a_single_page_has_no_links(reader):
    body = reader.get(USERS).json()
    assert (body["count"], body["total_pages"], body["page"]) == (1, 1, 1)
    assert body["next"] is None
    assert body["previous"] is None


@pytest.mark.parametrize("page", ["abc", "9999", "0", "-1", "1.5"])
def test_bad_page_is_not_found_in_the_error_shape(reader, page):
    error = assert_error(reader.get(USERS, {"page": page}), 404, "not_found")
    assert error["message"] == "Invalid page."


# --- the cheap count: exact up to COVERIS_EXACT_COUNT_LIMIT, the planner's estimate above it -----------------


def test_count_is_exact_up_to_the_limit(reader, settings):
    _add_users(29)
    settings.COVERIS_EXACT_COUNT_LIMIT = 30
    response = reader.get(USERS)
    assert response.json()["count"] == 30
    assert ESTIMATED_HEADER not in response


def test_count_query_stops_at_the_limit(reader, settings, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _add_users(29)
    settings.COVERIS_EXACT_COUNT_LIMIT = 40
    with CaptureQueriesContext(connection) as queries:
        reader.get(USERS)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 41" in counts[0]


def _estimate(monkeypatch, value):
    calls = []

    def fake(queryset, rows=None):
        calls.append(queryset)
        return value

    monkeypatch.setattr("backend.pagination.planner_row_estimate", fake)
    return calls


def test_above_the_limit_the_count_is_the_estimate_and_says_so(reader, settings, monkeypatch):
    _add_users(29)
    settings.COVERIS_EXACT_COUNT_LIMIT = 5
    calls = _estimate(monkeypatch, 1000)
    response = reader.get(USERS)
    body = response.json()
    assert len(calls) == 1
    assert (body["count"], body["total_pages"]) == (1000, 40)
    assert response[ESTIMATED_HEADER] == "true"
    assert body["next"].endswith(f"{USERS}?page=2")
    assert len(body["results"]) == 25


def test_the_last_page_corrects_an_estimate_that_was_too_high(reader, settings, monkeypatch):
    _add_users(29)
    settings.COVERIS_EXACT_COUNT_LIMIT = 5
    _estimate(monkeypatch, 1000)
    response = reader.get(USERS, {"page": 2})
    body = response.json()
    assert (body["count"], body["total_pages"], len(body["results"])) == (30, 2, 5)
    assert body["next"] is None
    assert ESTIMATED_HEADER not in response
    assert_error(reader.get(USERS, {"page": 3}), 404, "not_found")


def test_pages_past_an_estimate_that_was_too_low_are_served(reader, settings, monkeypatch):
    _add_users(59)
    settings.COVERIS_EXACT_COUNT_LIMIT = 5
    _estimate(monkeypatch, 6)
    first = reader.get(USERS).json()
    assert first["count"] == 26  # at least the rows seen and the one that proves a next page
    assert first["next"].endswith(f"{USERS}?page=2")
    second = reader.get(USERS, {"page": 2}).json()
    assert (second["count"], second["total_pages"], len(second["results"])) == (51, 3, 25)
    third = reader.get(USERS, {"page": 3}).json()
    assert (third["count"], third["total_pages"], len(third["results"]), third["next"]) == (60, 3, 10, None)
    assert [r["id"] for r in first["results"] + second["results"] + third["results"]] == sorted(
        User.objects.values_list("id", flat=True)
    )
    assert_error(reader.get(USERS, {"page": 4}), 404, "not_found")


def test_without_a_planner_the_count_is_exact(reader, settings, monkeypatch):
    _add_users(29)
    settings.COVERIS_EXACT_COUNT_LIMIT = 5
    _estimate(monkeypatch, None)  # what SQLite answers
    response = reader.get(USERS)
    assert response.json()["count"] == 30
    assert ESTIMATED_HEADER not in response


@pytest.mark.postgres
def test_planner_estimate_follows_the_statistics(reader, settings):
    from django.db import connection

    _add_users(299)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_user")
    settings.COVERIS_EXACT_COUNT_LIMIT = 50
    response = reader.get(USERS)
    assert response[ESTIMATED_HEADER] == "true"
    assert 250 <= response.json()["count"] <= 350  # the planner's figure from ANALYZE, not a count


@pytest.mark.postgres
def test_the_estimate_plans_the_counts_light_statement(settings, django_assert_num_queries):
    """Above the limit the planner is asked about the same rows the count read, in the same light statement (no
    select_related join, no annotation), compiled once for both (ADR 0035)."""
    from django.db.models import OuterRef, Subquery

    from apps.api.models import Employee
    from apps.api.tests.factories import EmployeeFactory
    from backend.pagination import CheapCountPaginator

    EmployeeFactory.create_batch(4)
    settings.COVERIS_EXACT_COUNT_LIMIT = 2
    peers = Employee.objects.filter(org_unit=OuterRef("org_unit")).values("id")[:1]
    employees = Employee.objects.select_related("org_unit").annotate(peer=Subquery(peers))
    with django_assert_num_queries(2) as captured:
        assert CheapCountPaginator(employees, 2).count >= 3
    count_sql, explain_sql = (q["sql"] for q in captured.captured_queries)
    assert explain_sql.startswith("EXPLAIN")
    rows_sql = explain_sql.removeprefix("EXPLAIN (FORMAT JSON) ")
    assert f"({rows_sql} LIMIT 3)" in count_sql
    assert "JOIN" not in rows_sql.upper()
    assert rows_sql.upper().count("SELECT") == 1


# --- bounded_count: the light COUNT the paginator runs (ADR 0031) ----------------------------------------------


def _bounded_cases():
    from django.db.models import Count, F, OuterRef, Subquery, Window
    from django.db.models.functions import RowNumber

    from apps.api.models import Employee

    employees = Employee.objects.select_related("org_unit")
    return {
        "all, joined": employees,
        "filtered through a join": employees.filter(org_unit__code__startswith="U"),
        "ordered": employees.order_by("last_name"),
        "distinct": employees.distinct(),
        "annotated": employees.annotate(unit=F("org_unit__name")),
        "annotated with a subquery": employees.annotate(
            peer=Subquery(Employee.objects.filter(org_unit=OuterRef("org_unit")).order_by("id").values("id")[:1])
        ),
        "annotated through a multi-valued relation": employees.annotate(unit_peer=F("org_unit__employees__id")),
        "filtered on a subquery annotation": employees.annotate(
            peer=Subquery(Employee.objects.filter(org_unit=OuterRef("org_unit")).order_by("id").values("id")[:1])
        ).filter(peer=F("id")),
        "annotated with a window": employees.annotate(n=Window(RowNumber())),
        "grouped": Employee.objects.values("org_unit").annotate(n=Count("id")),
        "none": employees.filter(pk__in=[]),
    }


@pytest.mark.parametrize("limit", [1, 3, 50])
@pytest.mark.parametrize("case", list(_bounded_cases()))
def test_bounded_count_counts_what_django_counts(case, limit):
    from apps.api.tests.factories import EmployeeFactory
    from backend.pagination import bounded_count

    EmployeeFactory.create_batch(4)
    queryset = _bounded_cases()[case]

    assert bounded_count(queryset, limit) == queryset[:limit].count() == min(limit, len(queryset))


def test_bounded_count_of_a_plain_list_is_one_statement_over_the_primary_keys(django_assert_num_queries):
    from apps.api.models import Employee
    from apps.api.tests.factories import EmployeeFactory
    from backend.pagination import bounded_count

    EmployeeFactory.create_batch(3)
    with django_assert_num_queries(1) as captured:
        assert bounded_count(Employee.objects.select_related("org_unit"), 10) == 3
    sql = captured.captured_queries[0]["sql"]
    assert "JOIN" not in sql.upper()  # select_related's join is not needed to count
    assert "LIMIT 10" in sql


def test_bounded_count_does_not_evaluate_a_subquery_annotation(django_assert_num_queries):
    from django.db.models import OuterRef, Subquery

    from apps.api.models import Employee
    from apps.api.tests.factories import EmployeeFactory
    from backend.pagination import bounded_count

    EmployeeFactory.create_batch(3)
    peers = Employee.objects.filter(org_unit=OuterRef("org_unit")).values("id")[:1]
    with django_assert_num_queries(1) as captured:
        assert bounded_count(Employee.objects.annotate(peer=Subquery(peers)), 10) == 3
    assert captured.captured_queries[0]["sql"].upper().count("SELECT") == 2  # the count and its row source only
