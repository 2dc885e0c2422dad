"""Hours ledger and clock: thin views over the selectors (reads) and the services (writes)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.offer.api.serializers import (
    BalancePageSerializer,
    BalanceQuerySerializer,
    ClockEventSerializer,
    ClockSerializer,
    LedgerAdjustmentSerializer,
    LedgerEntrySerializer,
    LedgerReverseSerializer,
)
from apps.offer.filtersets import ClockEventFilterSet, LedgerEntryFilterSet
from apps.offer.selectors import (
    balance_rows,
    balance_totals,
    clock_event_list,
    employee_scope,
    ledger_entry_list,
    week_range,
)
from apps.offer.services import clock_in, clock_out, ledger_adjust, ledger_reverse
from apps.users.choices import Role
from backend.filters import FilterBackend
from backend.pagination import CoverisPagination
from backend.permissions import READ_ALL, WRITE_WORKFORCE
from backend.schema import documents_errors
from backend.viewsets import RenderedInViewMixin, RowListMixin

READERS = READ_ALL | {Role.EMPLOYEE}
EVERY_ROLE = frozenset(Role.values)


class MethodNotAllowedFirstMixin:
    """A method the resource lacks is 405 for everyone, before authentication (as the audit endpoints answer)."""

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class LedgerEntryViewSet(
    MethodNotAllowedFirstMixin, RowListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """``/api/hours-ledger/entries/``: read the ledger; POST a manual adjustment; POST ``{id}/reverse/``.

    Entries are never changed or deleted: PUT, PATCH and DELETE are 405.
    """

    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerEntryFilterSet
    filter_backends = [FilterBackend]
    http_method_names = ["get", "post", "head", "options"]
    read_roles = READERS
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return ledger_entry_list(user=self.request.user)

    @extend_schema(request=LedgerAdjustmentSerializer, responses={201: LedgerEntrySerializer})
    def create(self, request, *args, **kwargs):
        """Post a manual adjustment (admin, hr): signed hours on one balance column, with a reason."""
        serializer = LedgerAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = ledger_adjust(actor=request.user, **serializer.validated_data)
        return Response(self._output(entry), status=status.HTTP_201_CREATED)

    @extend_schema(request=LedgerReverseSerializer, responses={201: LedgerEntrySerializer})
    @documents_errors("conflict")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Reverse a manual entry in full (admin, hr); a second reversal is 409."""
        serializer = LedgerReverseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = ledger_reverse(actor=request.user, entry=self.get_object(), reason=serializer.validated_data["reason"])
        return Response(self._output(entry), status=status.HTTP_201_CREATED)

    def _output(self, entry) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=entry.pk)).data


@extend_schema(
    parameters=[
        OpenApiParameter("from", str, required=True, description="YYYY-MM-DD; its ISO week is the first"),
        OpenApiParameter("to", str, required=True, description="YYYY-MM-DD; its ISO week is the last (≤ 104 weeks)"),
        OpenApiParameter("employee", int, description="One employee"),
        OpenApiParameter("org_unit", int, description="Employees of this unit and its subtree"),
        OpenApiParameter("page", int),
        OpenApiParameter("page_size", int),
    ],
    responses=BalancePageSerializer,
    summary="Hours balances per employee per ISO week, and their totals",
)
class BalanceView(RenderedInViewMixin, GenericAPIView):
    """``/api/hours-ledger/balances/``: contracted, assigned, leave, worked and available per employee per week.

    Paginated by employee: a page holds every week's row of its employees; ``totals`` covers all of them.
    """

    read_roles = READERS
    pagination_class = CoverisPagination
    filter_backends: list = []

    def get(self, request):
        query = BalanceQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["from"], query.validated_data["to"]
        employees = employee_scope(user=request.user)
        if "employee" in query.validated_data:
            employees = employees.filter(pk=query.validated_data["employee"].pk)
        if "org_unit" in query.validated_data:
            employees = employees.filter(org_unit__path__startswith=query.validated_data["org_unit"].path)
        page = self.paginate_queryset(employees.order_by("last_name", "first_name", "id").values_list("id", flat=True))
        rows = [_strings(row) for row in balance_rows(employee_ids=list(page), start=start, end=end)]
        response = self.get_paginated_response(rows)
        first, last = week_range(start, end)
        results = response.data.pop("results")
        response.data.update(
            {
                "week_from": first.isoformat(),
                "week_to": last.isoformat(),
                "weeks": ((last - first).days + 1) // 7,
                "totals": _strings(balance_totals(employees=employees, start=start, end=end)),
                "results": results,
            }
        )
        return response


def _strings(row: dict) -> dict:
    """Decimals as two-decimal strings and dates as ISO text, like the rest of the API."""
    return {key: value.isoformat() if hasattr(value, "isoformat") else _text(value) for key, value in row.items()}


def _text(value):
    return value if isinstance(value, int) else str(value)


class _ClockView(MethodNotAllowedFirstMixin, GenericAPIView):
    """POST only; whoever has a role gets this far, the service decides whose clock they may work (403)."""

    serializer_class = ClockSerializer
    write_roles = EVERY_ROLE
    read_roles = frozenset()
    filter_backends: list = []

    def _input(self, request) -> dict:
        serializer = ClockSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema(request=ClockSerializer, responses={201: ClockEventSerializer}, summary="Clock in (open a shift)")
class ClockInView(_ClockView):
    """``POST /api/clock/in/``: open a shift; a second clock-in the same day breaks CLOCK_ONCE_PER_DAY (422)."""

    @documents_errors("conflict", "rule_violation")
    def post(self, request):
        data = self._input(request)
        event, results = clock_in(
            actor=request.user, employee_id=data.get("employee"), acknowledge_warnings=data["acknowledge_warnings"]
        )
        body = {**ClockEventSerializer(event).data, "rule_results": results}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(request=ClockSerializer, responses={200: ClockEventSerializer}, summary="Clock out (close the shift)")
class ClockOutView(_ClockView):
    """``POST /api/clock/out/``: close the open shift (409 if none) and post its worked hours to the ledger."""

    @documents_errors("conflict", "rule_violation")
    def post(self, request):
        data = self._input(request)
        event, entry, results = clock_out(
            actor=request.user, employee_id=data.get("employee"), acknowledge_warnings=data["acknowledge_warnings"]
        )
        body = {
            **ClockEventSerializer(event).data,
            "ledger_entry": LedgerEntrySerializer(entry).data,
            "rule_results": results,
        }
        return Response(body, status=status.HTTP_200_OK)


class ClockEventViewSet(MethodNotAllowedFirstMixin, viewsets.ReadOnlyModelViewSet):
    """``/api/clock/events/``: shifts, newest first, scoped like the ledger."""

    serializer_class = ClockEventSerializer
    filterset_class = ClockEventFilterSet
    filter_backends = [FilterBackend]
    http_method_names = ["get", "head", "options"]
    read_roles = READERS

    def get_queryset(self):
        return clock_event_list(user=self.request.user)
