"""CoverisPagination: page-based, ``?page=N&page_size=M`` with M capped at 100, and a count that stays cheap.

Counting every row of a deep table on every page costs more than the page itself (a ``COUNT(*)`` over 400,000 audit
rows reads them all). So the count is exact up to ``COVERIS_EXACT_COUNT_LIMIT`` rows — counted with
``SELECT COUNT(*) FROM (… LIMIT limit + 1)``, which stops early — and above it, on PostgreSQL, the planner's
estimate for the same query (one ``EXPLAIN``, no rows read). The response then carries ``X-Count-Estimated: true``.

Whether there is a next page never depends on that estimate: each page fetches one row more than it shows. A page
past the estimate that still has rows is served (the count grows to cover it); on the last page the count is exact.
See docs/stack/api-conventions.md and ADR 0022.
"""

import json
from functools import cached_property

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

ESTIMATED_HEADER = "X-Count-Estimated"


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` returns (None on other databases)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # the driver may hand back the JSON text
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset: QuerySet, limit: int) -> int:
    """``queryset[:limit].count()``: how many rows, stopping at ``limit``, in one light statement.

    Django's own count of a sliced queryset clones the query twice and resolves an aggregate over a subquery (about
    a tenth of a list request's CPU, ADR 0031). This counts the same rows by their primary keys —
    ``SELECT COUNT(*) FROM (SELECT pk ... LIMIT n)``, without the ``select_related`` joins, which Django's count drops
    as well. A queryset whose row count could depend on its selected columns (``DISTINCT``, ``GROUP BY``,
    annotations, set operations, ``extra``, an existing slice) goes through Django's count unchanged.
    """
    query = queryset.query
    if (
        query.distinct
        or query.combinator
        or query.group_by is not None
        or query.annotations
        or query.extra
        or query.is_sliced
    ):
        return queryset[:limit].count()
    try:
        sql, params = queryset.values_list("pk")[:limit].query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing (``pk__in=[]``, ``.none()``): Django runs no query either
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) bounded", params)  # noqa: S608 (Django's compiled SQL)
        return cursor.fetchone()[0]


class CheapCountPaginator(Paginator):
    """A Paginator whose ``count`` is exact up to a limit and estimated above it, and whose pages know whether a
    next page exists by fetching one extra row, not from the count."""

    def __init__(self, *args, exact_limit: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exact_limit = settings.COVERIS_EXACT_COUNT_LIMIT if exact_limit is None else exact_limit
        self.estimated = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        unordered = self.object_list.order_by()
        bounded = bounded_count(unordered, self.exact_limit + 1)  # COUNT(*) over a LIMITed subquery
        if bounded <= self.exact_limit:
            return bounded
        estimate = planner_row_estimate(unordered)
        if estimate is None:  # no planner to ask (SQLite): count them all
            return unordered.count()
        self.estimated = True
        return max(estimate, bounded)

    def _set_count(self, count: int) -> None:
        self.__dict__["count"] = count
        self.__dict__.pop("num_pages", None)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if self.estimated and int(number) > 1:  # past the estimate: page() finds out whether rows are there
                return int(number)
            raise

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        has_more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if not has_more:
            self._set_count(bottom + len(rows))  # the last page: now the count is exact
            self.estimated = False
        elif self.count < bottom + len(rows) + 1:
            self._set_count(bottom + len(rows) + 1)  # at least one more row than the pages so far
        return self._get_page(rows, number, self)


class CoverisPagination(PageNumberPagination):
    """Page-number pagination with the response body SPEC §3 names, and a cheap count (module docstring)."""

    page_size_query_param = "page_size"
    django_paginator_class = CheapCountPaginator

    # Read per request, not frozen at import time, so settings overrides (and tests) take effect.
    @property
    def page_size(self) -> int:
        return settings.COVERIS_PAGE_SIZE

    @property
    def max_page_size(self) -> int:
        return settings.COVERIS_MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        response = Response(
            {
                "count": paginator.count,
                "total_pages": paginator.num_pages,
                "page": self.page.number,
                "page_size": paginator.per_page,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )
        if getattr(paginator, "estimated", False):
            response[ESTIMATED_HEADER] = "true"
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "total_pages", "page", "page_size", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Exact up to COVERIS_EXACT_COUNT_LIMIT rows; above it an estimate "
                    "(header X-Count-Estimated: true).",
                },
                "total_pages": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }
