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
from contextlib import contextmanager
from functools import cached_property, partial

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from backend.statements import cached, page_rows, statement_key

ESTIMATED_HEADER = "X-Count-Estimated"


def key_rows(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The rows of ``queryset`` as one light statement, ``SELECT pk ...`` (compiled SQL and parameters), for counting
    them: without the ``select_related`` joins (Django's count drops them too) and without selecting annotations (a
    subquery per row, such as the ledger's reversals, is not evaluated 10,001 times to count rows; a join an
    annotation or a filter added stays). None for a queryset whose row count could depend on its selected columns
    (``DISTINCT``, ``GROUP BY``, aggregates, window functions, set operations, ``extra``, an existing slice). Raises
    ``EmptyResultSet`` for a filter that matches nothing (``pk__in=[]``, ``.none()``)."""
    query = queryset.query
    if (
        query.distinct
        or query.combinator
        or query.group_by is not None
        or any(a.contains_aggregate or a.contains_over_clause for a in query.annotations.values())
        or query.extra
        or query.is_sliced
    ):
        return None
    return queryset.values_list("pk").query.sql_with_params()


def planner_row_estimate(queryset: QuerySet, rows: tuple[str, tuple] | None = None) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` returns (None on other databases), planned for ``rows``
    (``key_rows(queryset)``, the same rows in a lighter statement) when given."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = rows or queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # the driver may hand back the JSON text
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset: QuerySet, limit: int, rows: tuple[str, tuple] | None = None) -> int:
    """``queryset[:limit].count()``: how many rows, stopping at ``limit``, in one light statement.

    Django's own count of a sliced queryset clones the query twice and resolves an aggregate over a subquery (about
    a tenth of a list request's CPU, ADR 0031). This counts the same rows by their primary keys,
    ``SELECT COUNT(*) FROM (SELECT pk ... LIMIT n)`` (``key_rows``, or ``rows`` if the caller compiled it already);
    a queryset ``key_rows`` refuses goes through Django's count unchanged.
    """
    if rows is None:
        try:
            rows = key_rows(queryset)
        except EmptyResultSet:  # Django runs no query either
            return 0
        if rows is None:
            return queryset[:limit].count()
    sql, params = rows
    with connections[queryset.db].cursor() as cursor:
        # Django's compiled SQL, unsliced (key_rows refuses slices and set operations), so a LIMIT may follow it.
        cursor.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT {int(limit)}) bounded", params)  # noqa: S608
        return cursor.fetchone()[0]


class CheapCountPaginator(Paginator):
    """A Paginator whose ``count`` is exact up to a limit and estimated above it, and whose pages know whether a
    next page exists by fetching one extra row, not from the count.

    With ``values``, a page's rows are tuples of those lookups (``values_list``), while the count still runs over
    ``object_list`` itself: the page's lookups would add their joins to it (ADR 0035).
    """

    def __init__(self, *args, exact_limit: int | None = None, values: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exact_limit = settings.COVERIS_EXACT_COUNT_LIMIT if exact_limit is None else exact_limit
        self.estimated = False
        self.values = values

    @cached_property
    def statement_key(self) -> tuple | None:
        """The key under which the count's and the page's statements are compiled once (``backend.statements``)."""
        return statement_key(self.object_list) if isinstance(self.object_list, QuerySet) else None

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        unordered = self.object_list.order_by()
        key = self.statement_key
        try:
            # compiled once for the count and, above the limit, the estimate
            rows = cached(None if key is None else (key, "key_rows"), lambda: key_rows(unordered))
        except EmptyResultSet:
            return 0
        bounded = bounded_count(unordered, self.exact_limit + 1, rows)  # COUNT(*) over a LIMITed subquery
        if bounded <= self.exact_limit:
            return bounded
        estimate = planner_row_estimate(unordered, rows)
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
        top = bottom + self.per_page + 1
        if self.values is None:
            rows = list(self.object_list[bottom:top])
        else:
            rows = page_rows(self.object_list, self.values, bottom, top, self.statement_key)
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

    @contextmanager
    def fetching_rows(self, values: tuple[str, ...]):
        """Within: ``paginate_queryset`` answers the page's rows as tuples of ``values`` (``values_list``)."""
        self.django_paginator_class = partial(CheapCountPaginator, values=values)
        try:
            yield
        finally:
            del self.django_paginator_class

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
