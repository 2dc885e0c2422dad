"""``backend.filters.FilterBackend`` skips django-filter when the request names no filter. That is only safe while
every FilterSet of every list leaves the queryset unchanged when no parameter is given: held here for all of them,
found through the URL configuration (a new list is covered without being named)."""

import pytest
from django.core.exceptions import EmptyResultSet
from django.http import QueryDict
from django.urls import get_resolver
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from backend.filters import FilterBackend


def _views_with_filtersets():
    found = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            view = getattr(pattern.callback, "cls", None)
            if getattr(view, "filterset_class", None) is not None:
                found[view.__name__] = view

    walk(get_resolver().url_patterns)
    return sorted(found.items())


VIEWS = _views_with_filtersets()


def test_the_lists_are_found():
    names = {name for name, _ in VIEWS}
    assert {"EmployeeViewSet", "AssignmentViewSet", "LedgerEntryViewSet"} <= names, names
    assert len(VIEWS) >= 8


def _sql(queryset) -> str:
    """The queryset's SQL; a queryset that can match nothing (SQLite's change list before any change) has none."""
    try:
        return str(queryset.query)
    except EmptyResultSet:
        return "<matches nothing>"


@pytest.mark.parametrize(("name", "view"), VIEWS, ids=[name for name, _ in VIEWS])
def test_no_parameters_leave_the_queryset_unchanged(make_user, name, view):
    request = Request(APIRequestFactory().get("/"))
    request.user = make_user("admin")
    queryset = view(request=request, kwargs={}, format_kwarg=None, action="list").get_queryset()
    filterset = view.filterset_class(data=QueryDict(), queryset=queryset, request=request)
    assert filterset.is_valid(), filterset.errors
    assert _sql(filterset.qs) == _sql(queryset)


def test_paging_alone_does_not_build_a_filterset(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a FilterSet was built")

    monkeypatch.setattr(FilterBackend, "get_filterset", refuse)
    request = APIRequestFactory().get("/", {"page": "2", "page_size": "10"})
    request.query_params = request.GET
    marker = object()
    assert FilterBackend().filter_queryset(request, marker, view=None) is marker


def test_any_other_parameter_goes_through_django_filter(monkeypatch):
    built = []
    monkeypatch.setattr(FilterBackend, "get_filterset", lambda self, *args: built.append(args) or None)
    request = APIRequestFactory().get("/", {"page": "2", "state": "active"})
    request.query_params = request.GET
    marker = object()
    assert FilterBackend().filter_queryset(request, marker, view=None) is marker
    assert built
