"""``RowListMixin``: a list page fetched as tuples and rendered by the serializer's compiled plan (ADR 0035), and
rendered on the view's own thread under ASGI (ADR 0051)."""

from django.core.handlers.asgi import ASGIRequest
from rest_framework.response import Response


def _rendered(response):
    async def render():
        return response

    return render


class RenderedInViewMixin:
    """Under ASGI, the response is rendered by the view, on the thread it runs on, not in a thread hop of its own.

    Django's ASGI handler renders a response that has a ``render`` method (DRF's ``Response``) with
    ``sync_to_async(response.render)`` after the view returns: a second trip to the request's thread (~0.1 ms of CPU
    a request, ADR 0051) to do what the view's thread could have done before returning. So a view with this mixin
    renders in ``finalize_response`` — the last thing DRF's ``dispatch`` does — and gives the response an ``async``
    ``render`` answering it as it is, which the handler awaits without a hop. The bytes, headers and status are the
    ones Django would render a moment later; no middleware of ours has a ``process_template_response`` (which would
    run between the two). Under WSGI and Django's test client (sync handler) nothing changes.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(request._request, ASGIRequest) and not getattr(response, "is_rendered", True):
            response.render()
            response.render = _rendered(response)
        return response


class RowListMixin(RenderedInViewMixin):
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
