"""ADR 0039: a list's count and page statements, compiled once per query state (``backend/statements.py``), are the
statements Django compiles on every request — held here for every list, each role scope, every documented filter
(found from each list's FilterSet, so a new filter is covered without being named) and every ordering: the same SQL
with its parameters, the same status and the same body with the cache off, cold and warm; and warm requests compile
nothing."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.db.models.sql import Query
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django_filters import filters as django_filters
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory, OrgUnitFactory
from apps.api.tests.test_compiled_representation import LIST_URLS, rows  # noqa: F401 (a fixture)
from apps.offer import selectors as offer_selectors
from apps.tags.models import EmployeeTag, TagCatalog
from backend import statements
from backend.filters import UTCDateTimeFilter

# One role of each scope (hr and auditor read what admin reads, with the same query): everyone, a subtree, oneself.
ROLES = ("admin", "manager", "employee")


def _filterset(url: str):
    return resolve(url).func.cls.filterset_class


def _choices(filter_) -> list[str]:
    choices = filter_.extra["choices"]
    choices = choices() if callable(choices) else choices
    return [str(choices[0][0]), str(choices[-1][0])]


def _model_choices(filter_, user) -> list[str]:
    queryset = filter_.extra.get("queryset", getattr(filter_, "queryset", None))
    if callable(queryset):
        request = Request(APIRequestFactory().get("/"))
        request.user = user
        queryset = queryset(request)
    ids = list(queryset.model._default_manager.order_by("pk").values_list("pk", flat=True))
    return [str(ids[0]), str(ids[-1])]


def _queries(url: str, user) -> list[str]:
    """Page 1 with no parameter, with each filter alone (two valid values, so that requests differ by a value
    only), with each ordering either way, with all filters at once, and a later page."""
    queries = ["", "page=2&page_size=1"]
    together = []
    for name, filter_ in _filterset(url).base_filters.items():
        if isinstance(filter_, django_filters.OrderingFilter):
            queries += [f"{name}={prefix}{key}" for key in filter_.param_map for prefix in ("", "-")]
            continue
        if isinstance(filter_, django_filters.ModelChoiceFilter):
            values = _model_choices(filter_, user)
        elif isinstance(filter_, django_filters.ChoiceFilter | django_filters.MultipleChoiceFilter):
            values = _choices(filter_)
        elif isinstance(filter_, UTCDateTimeFilter | django_filters.IsoDateTimeFilter):
            values = ["2026-03-02T00:00:00Z", "2026-03-03T12:00:00Z"]
        elif isinstance(filter_, django_filters.DateFilter):
            values = ["2026-03-02", "2026-04-30"]
        elif isinstance(filter_, django_filters.BooleanFilter):
            values = ["true", "false"]
        elif isinstance(filter_, django_filters.NumberFilter) or type(filter_).__name__ == "IdFilter":
            values = ["1", "2"]
        elif isinstance(filter_, django_filters.CharFilter):
            values = ["a", "Sp"]
        else:
            raise AssertionError(f"{url} {name}: {type(filter_).__name__} needs values here")
        queries += [f"{name}={value}" for value in values]
        together.append(f"{name}={values[0]}")
    queries.append("&".join(together))
    return queries


@pytest.fixture
def people(rows, make_user):  # noqa: F811
    """``rows`` and a user of each scope, the manager over the rows' unit, the employee one of its people."""
    employee = rows.employee
    tag = TagCatalog.objects.get(code="forklift")
    EmployeeTag.objects.create(employee=employee, tag=tag)
    EmployeeFactory(org_unit=OrgUnitFactory())  # someone outside the manager's unit
    return {
        "admin": make_user("admin"),
        "manager": make_user("manager", org_unit=employee.org_unit),
        "employee": employee.user,
    }


def _answer(client, path: str) -> tuple:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response.status_code, response.content, [query["sql"] for query in captured]


@pytest.mark.parametrize("url", LIST_URLS)
def test_cached_statements_are_djangos_own(url, people, auth_client):
    requests = []  # (role, client, path) for each role that may read the list
    for role in ROLES:
        client, user = auth_client(user=people[role])
        if client.get(url).status_code != 403:  # the audit lists are not every role's
            requests += [(role, client, f"{url}?{query}") for query in _queries(url, user)]
    with override_settings(COVERIS_STATEMENT_CACHE=False):
        expected = [_answer(client, path) for _, client, path in requests]
    statements._cache.clear()
    # Every request after every other in one cache, twice: an entry one request left must never serve another.
    for attempt in ("cold", "warm"):
        for (role, client, path), off in zip(requests, expected, strict=True):
            assert off[0] in (200, 400, 404), (role, path, off[1][:300])  # 404: a page past the last
            assert _answer(client, path) == off, (attempt, role, path)
    assert statements._cache


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_warm_list_compiles_nothing(url, people, auth_client, monkeypatch):
    compiled = []
    page = statements._compile_page

    def counting_page(*args):
        compiled.append("page")
        return page(*args)

    monkeypatch.setattr(statements, "_compile_page", counting_page)
    for role in ROLES:
        client, _ = auth_client(user=people[role])
        statements._cache.clear()
        if client.get(url).status_code == 403:
            continue
        compiled.clear()
        entries = dict(statements._cache)
        assert entries, role  # the query state was keyable
        assert client.get(url).status_code == 200
        assert compiled == [], role
        assert statements._cache == entries, role  # nothing compiled or added: the count's statement was kept too


@contextmanager
def _new_connection_object():
    """``connections["default"]`` replaced by a new connection object of the same database, as Django makes one for
    every request under ASGI (its connections are context-local, and each request runs in a context of its own); the
    previous one is put back after."""
    own = connections["default"]
    fresh = connections.create_connection("default")
    connections["default"] = fresh
    try:
        yield fresh
    finally:
        connections["default"] = own
        fresh.close()


def test_a_new_connection_object_of_the_same_database_has_the_same_key():
    queryset = Employee.objects.select_related("org_unit").order_by("last_name", "id")
    key = statements.statement_key(queryset)
    assert key is not None
    with _new_connection_object() as fresh:
        assert connections["default"] is fresh
        assert statements.statement_key(queryset) == key


@pytest.mark.django_db(transaction=True)  # committed rows: a second connection to the database must see them
@pytest.mark.parametrize("url", LIST_URLS)
def test_a_list_compiled_on_one_connection_object_is_served_on_the_next(url, people, auth_client, monkeypatch):
    """A request with its own connection object (every request under ASGI) uses what an earlier one compiled, and
    answers the same: the same body, the same statements, nothing compiled."""
    client, _ = auth_client(user=people["admin"])
    statements._cache.clear()
    cold = _answer(client, url)
    assert cold[0] == 200, cold[1][:300]
    entries = dict(statements._cache)
    assert entries
    compiled = []
    page = statements._compile_page
    monkeypatch.setattr(statements, "_compile_page", lambda *args: compiled.append("page") or page(*args))
    with _new_connection_object() as fresh:
        with CaptureQueriesContext(fresh) as captured:
            response = client.get(url)
        warm = (response.status_code, response.content, [query["sql"] for query in captured])
    assert warm == cold
    assert compiled == []
    assert statements._cache == entries


LEDGER_URL = "/api/hours-ledger/entries/"


@pytest.mark.postgres  # the reversals are an array subquery on PostgreSQL only (a prefetch query elsewhere)
def test_the_ledgers_reversals_compile_as_djangos_array_subquery(people, auth_client, monkeypatch):
    """ADR 0046: ``ReversalIds`` is Django's ``ArraySubquery`` resolved when compiling, not when annotating — for
    every role, filter, ordering and page the same SQL, parameters, status and body as the ``ArraySubquery``
    annotation itself, with the statement cache off and on."""
    requests = []
    for role in ROLES:
        client, user = auth_client(user=people[role])
        requests += [(role, client, f"{LEDGER_URL}?{query}") for query in _queries(LEDGER_URL, user)]
    for cache in (False, True):
        with override_settings(COVERIS_STATEMENT_CACHE=cache):
            ours = [_answer(client, path) for _, client, path in requests]
            with monkeypatch.context() as patched:
                patched.setattr(offer_selectors, "ReversalIds", offer_selectors.reversal_ids_subquery)
                djangos = [_answer(client, path) for _, client, path in requests]
        for (role, _, path), mine, theirs in zip(requests, ours, djangos, strict=True):
            assert mine == theirs, (cache, role, path)
    assert any(b"ARRAY(SELECT" in sql.encode() for _, _, statements in ours for sql in statements)
    assert any(re.search(rb'"reversed_by":\[\d', body) for _, body, _ in ours)  # a reversal's id, not only []


def _query_objects(state) -> int:
    """How many ``Query`` objects a ``query_state`` holds (the query itself and every subquery's)."""
    if not isinstance(state, tuple):
        return 0
    return (state[:1] == (Query,)) + sum(map(_query_objects, state))


@pytest.mark.postgres
def test_the_ledgers_statement_key_walks_no_subquery(people):
    """ADR 0046: the ledger's key walks its own query only — the reversals' annotation holds no inner query to walk
    (an ``ArraySubquery`` resolved when annotating held one, walked on every request) — and stays keyable."""
    for role in ROLES:
        state = statements.query_state(offer_selectors.ledger_entry_list(user=people[role]).query)
        assert state is not None, role
        assert _query_objects(state) == 1, role
