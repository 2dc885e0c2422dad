"""``RowListMixin``: a list page fetched as tuples and rendered by the serializer's compiled plan (ADR 0035)."""

from rest_framework.response import Response


class RowListMixin:
    """``list()`` as DRF's ``ListModelMixin`` writes it, with the page fetched by ``values_list`` when the serializer
    can render rows (``CompiledRepresentationMixin.row_plan``) and the paginator can fetch them (``fetching_rows``):
    the same filters, scope, order, count and body, without a model instance per row. Any other serializer, queryset
    or paginator is listed as DRF lists it."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        row_plan = getattr(self.get_serializer_class(), "row_plan", None)
        plan = row_plan(queryset) if row_plan is not None else None
        fetching_rows = getattr(self.paginator, "fetching_rows", None)
        if plan is None or fetching_rows is None:
            page = self.paginate_queryset(queryset)
            if page is None:
                return Response(self.get_serializer(queryset, many=True).data)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        with fetching_rows(plan.lookups):
            page = self.paginate_queryset(queryset)
        rows = queryset.values_list(*plan.lookups) if page is None else page
        data = self.get_serializer().rows_representation(plan, rows)
        return Response(data) if page is None else self.get_paginated_response(data)
