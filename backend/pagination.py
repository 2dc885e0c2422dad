"""CoverisPagination: page-based, ``?page=N&page_size=M`` with M capped at 100."""

from django.conf import settings
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class CoverisPagination(PageNumberPagination):
    """Page-number pagination with the response body SPEC §3 names."""

    page_size_query_param = "page_size"

    # Read per request, not frozen at import time, so settings overrides (and tests) take effect.
    @property
    def page_size(self) -> int:
        return settings.COVERIS_PAGE_SIZE

    @property
    def max_page_size(self) -> int:
        return settings.COVERIS_MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "total_pages": self.page.paginator.num_pages,
                "page": self.page.number,
                "page_size": self.page.paginator.per_page,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "total_pages", "page", "page_size", "results"],
            "properties": {
                "count": {"type": "integer"},
                "total_pages": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }
