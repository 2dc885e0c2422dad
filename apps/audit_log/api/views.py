"""The audit read side: read-only viewsets over every log table, the chain report, point-in-time state.

A new log table plugs in with a subclass naming ``log_model``::

    class AssignmentTransitionLogViewSet(TransitionLogViewSet):
        log_model = AssignmentTransitionLog
    csv_employee_path = "assignment.employee"
    csv_position_path = "assignment.position"

    router.register("assignment-transitions", AssignmentTransitionLogViewSet)
"""

from django.shortcuts import get_object_or_404
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ReadOnlyModelViewSet

from apps.api.models import Employee
from apps.assignments.models import AssignmentTransitionLog
from apps.audit_log.api.serializers import (
    AsOfSerializer,
    ChainReportSerializer,
    ChainVerificationSerializer,
    ChangeSerializer,
    DigestSerializer,
    HistoryItemSerializer,
    StateAtQuerySerializer,
    StateAtSerializer,
    TagChangeLogSerializer,
    VerifyRequestSerializer,
    transition_log_serializer,
)
from apps.audit_log.filtersets import (
    ChainVerificationFilterSet,
    ChangeFilterSet,
    TagChangeLogFilterSet,
    transition_log_filterset,
)
from apps.audit_log.models import ChainVerification
from apps.audit_log.selectors import (
    CHANGE_MODELS,
    HISTORY_ROUTES,
    BeforeCreationError,
    DeletedError,
    audit_chain_report,
    change_queryset,
    change_rows,
    employee_as_of,
    employee_state_at,
    python_events,
    python_events_filter,
    record_history,
    uses_triggers,
)
from apps.fsm.models import EmployeeTransitionLog
from apps.tags.models import TagChangeLog
from backend.audit.checkpoints import DigestError, checkpoint_take, digest_check_signature, digest_of
from backend.errors import ConflictError
from backend.filters import FilterBackend
from backend.permissions import AUDIT_READERS, RolePermission
from backend.renderers import CSVRenderer, JSONRenderer
from backend.throttles import AuditVerifyRateThrottle
from backend.viewsets import RowListMixin

# The most rows one CSV export returns; more is a 400 asking for a narrower range (no silent truncation).
CSV_MAX_ROWS = 10_000

TIME_ORDER = ("created_at", "id")


class AuditReadOnlyMixin:
    """Audit readers only (admin, hr, auditor), and no method but GET/HEAD/OPTIONS.

    A write method is refused with 405 before authentication: the resource has no such method, whoever
    asks, so the answer does not depend on (or reveal anything about) the caller.
    """

    permission_classes = [RolePermission]
    read_roles = AUDIT_READERS
    write_roles = frozenset()
    http_method_names = ["get", "head", "options"]

    def initial(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class AuditLogViewSet(AuditReadOnlyMixin, RowListMixin, ReadOnlyModelViewSet):
    """List and retrieve over one append-only log table, oldest first (``?ordering=-created_at`` for newest)."""

    log_model = None
    renderer_classes = [JSONRenderer, CSVRenderer]
    filter_backends = [FilterBackend, OrderingFilter]
    ordering_fields = list(TIME_ORDER)
    ordering = list(TIME_ORDER)
    # Relations the serializer reads; joined so the query count does not grow with the page.
    select_related: tuple[str, ...] = ()

    def paginate_queryset(self, queryset):
        # CSV is an export: every matching row (up to CSV_MAX_ROWS), not one page of them.
        if getattr(self.request.accepted_renderer, "format", None) != "csv":
            return super().paginate_queryset(queryset)
        rows = list(queryset[: CSV_MAX_ROWS + 1])
        if len(rows) > CSV_MAX_ROWS:
            raise exceptions.ValidationError(
                {"since": [f"More than {CSV_MAX_ROWS} rows match: narrow the export with since/until or a filter."]}
            )
        return rows

    def get_paginated_response(self, data):
        if getattr(self.request.accepted_renderer, "format", None) == "csv":
            return Response(data, headers={"Content-Disposition": f'attachment; filename="{self.csv_name()}"'})
        return super().get_paginated_response(data)

    def csv_name(self) -> str:
        return f"{self.log_model._meta.db_table}.csv"

    # CSV exports name people and posts, not only ids: the relation path (from a row) to its Employee and to its
    # Position, whose employee_number, name and code become extra columns (joined, so queries stay constant).
    csv_employee_path: str | None = None
    csv_position_path: str | None = None

    def is_csv(self) -> bool:
        return getattr(getattr(self.request, "accepted_renderer", None), "format", None) == "csv"

    @classmethod
    def csv_related(cls) -> list[str]:
        """The relations a CSV export reads (the serializer's and the human identifiers'), to join."""
        paths = (cls.csv_employee_path, cls.csv_position_path)
        return [*cls.select_related, *(path.replace(".", "__") for path in paths if path)]

    @classmethod
    def csv_rows(cls, rows, context: dict | None = None) -> list[dict]:
        """The CSV export's rows: the list's serializer plus ``employee_number``, ``employee_name`` and
        ``position_code`` (the admin's audit-list export uses this too: one mapping)."""
        data = cls.serializer_class(rows, many=True, context=context or {}).data
        for instance, row in zip(rows, data, strict=True):
            row.update(csv_identifiers(instance, cls.csv_employee_path, cls.csv_position_path))
        return data

    def get_queryset(self):
        queryset = self.log_model.objects.order_by(*TIME_ORDER)
        related = self.csv_related() if self.is_csv() else list(self.select_related)
        # Never select_related() with no names: that joins every non-null foreign key, recursively.
        return queryset.select_related(*related) if related else queryset

    def list(self, request, *args, **kwargs):
        if not self.is_csv():
            return super().list(request, *args, **kwargs)
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.csv_rows(rows, self.get_serializer_context()))


def _follow(obj, path: str | None):
    for part in path.split(".") if path else ():
        obj = getattr(obj, part, None) if obj is not None else None
    return obj if path else None


def csv_identifiers(instance, employee_path: str | None, position_path: str | None) -> dict:
    """``employee_number``, ``employee_name`` and ``position_code`` of a log row (blank where it has none)."""
    columns = {}
    if employee_path:
        employee = _follow(instance, employee_path)
        columns["employee_number"] = employee.employee_number if employee else ""
        columns["employee_name"] = f"{employee.first_name} {employee.last_name}" if employee else ""
    if position_path:
        position = _follow(instance, position_path)
        columns["position_code"] = position.code if position else ""
    return columns


class TransitionLogViewSet(AuditLogViewSet):
    """Any ``TransitionLogBase`` table: a subclass sets ``log_model``; filters and serializer follow from it."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.log_model is not None:
            cls.queryset = cls.log_model.objects.all()  # for the router's basename and the schema
            if "serializer_class" not in cls.__dict__:
                cls.serializer_class = transition_log_serializer(cls.log_model)
            if "filterset_class" not in cls.__dict__:
                cls.filterset_class = transition_log_filterset(cls.log_model)


class EmployeeTransitionLogViewSet(TransitionLogViewSet):
    """``/api/audit/employee-transitions/``: every employee transition."""

    log_model = EmployeeTransitionLog
    csv_employee_path = "employee"


class AssignmentTransitionLogViewSet(TransitionLogViewSet):
    """``/api/audit/assignment-transitions/``: every assignment transition (cascades included)."""

    log_model = AssignmentTransitionLog
    csv_employee_path = "assignment.employee"
    csv_position_path = "assignment.position"


class TagChangeLogViewSet(AuditLogViewSet):
    """``/api/audit/tag-changes/``: every add, change and removal of an employee or position tag."""

    log_model = TagChangeLog
    queryset = TagChangeLog.objects.all()
    serializer_class = TagChangeLogSerializer
    filterset_class = TagChangeLogFilterSet
    select_related = ("tag",)
    csv_employee_path = "employee"
    csv_position_path = "position"


class ChangeViewSet(AuditLogViewSet):
    """``/api/audit/changes/``: every create, update and delete of a tracked record (the change history), oldest
    first, with the changed fields' before and after, the actor, the request id and a service's reason."""

    serializer_class = ChangeSerializer
    filterset_class = ChangeFilterSet
    filter_backends = [FilterBackend]
    lookup_value_regex = r"[a-z_]+:\d+"

    def get_queryset(self):
        return change_queryset()

    def csv_name(self) -> str:
        return "changes.csv"

    def list(self, request, *args, **kwargs):
        if uses_triggers():
            queryset = self.filter_queryset(self.get_queryset())
        else:  # SQLite: the rows the Python recorder wrote, filtered with the same (validated) parameters
            filterset = self.filterset_class(request.query_params, queryset=self.get_queryset(), request=request)
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            params = {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}
            queryset = python_events_filter(python_events(model=params.get("model")), **params)
        page = self.paginate_queryset(queryset)
        rows = change_rows(page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        model, _, pk = kwargs["pk"].partition(":")
        try:
            if uses_triggers():
                events = change_queryset(model=model).filter(pgh_id=int(pk))
            elif model in CHANGE_MODELS:
                events = python_events(model=model, pgh_id=int(pk))
            else:
                raise KeyError(model)
        except (KeyError, ValueError) as exc:
            raise exceptions.NotFound() from exc
        rows = change_rows(events)
        if not rows:
            raise exceptions.NotFound()
        return Response(self.get_serializer(rows[0]).data)


class RecordHistoryView(AuditReadOnlyMixin, APIView):
    """``/api/audit/<model>/<id>/history/``: one record's field changes, transitions and tag changes, in time
    order. ``<model>`` is a route: users, org-units, positions, employees, coverage-requirements, employee-tags,
    position-tags, business-rules, assignments. A record never seen gives an empty list (it may have been
    deleted before its history began); an unknown model is a 404."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(responses=HistoryItemSerializer(many=True), summary="The whole history of one record")
    def get(self, request, model: str, pk: int):
        if model not in HISTORY_ROUTES:
            raise exceptions.NotFound(f"No history for '{model}'.")
        items = record_history(model=HISTORY_ROUTES[model], object_id=pk)
        return Response(HistoryItemSerializer(items, many=True).data)


class EmployeeAsOfView(AuditReadOnlyMixin, APIView):
    """``/api/audit/employees/{id}/as-of/?at=``: the whole employee record as it was at a past moment.

    400 (naming ``at``) when ``at`` is missing, malformed, in the future, before anything was recorded about the
    employee, or after their deletion; a naive ``at`` is read as UTC.
    """

    @extend_schema(
        parameters=[OpenApiParameter("at", str, required=True, description="ISO 8601 instant (naive = UTC)")],
        responses=AsOfSerializer,
        summary="An employee's whole record at a moment, from the change history",
    )
    def get(self, request, pk: int):
        query = StateAtQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            result = employee_as_of(employee_id=pk, at=query.validated_data["at"])
        except (BeforeCreationError, DeletedError) as exc:
            raise exceptions.ValidationError({"at": [str(exc)]}) from exc
        return Response(AsOfSerializer(result).data)


class ChainVerificationViewSet(AuditLogViewSet):
    """``/api/audit/verifications/``: every full walk of the audit trail (nightly on the job queue, or
    ``manage.py verify_audit_chain``), with its status and, per table, the rows checked and the first broken row.
    The newest is the latest word on the whole trail; ``/api/audit/verify/`` checks only what was appended since."""

    log_model = ChainVerification
    serializer_class = ChainVerificationSerializer
    filterset_class = ChainVerificationFilterSet
    renderer_classes = [JSONRenderer]  # per-table results are nested: no CSV


class AuditChainVerifyView(AuditReadOnlyMixin, APIView):
    """``/api/audit/verify/``: the rows appended to every chained table since the last signed checkpoint (GET, or
    POST with no body), or since a digest the auditor kept (POST ``{"digest": ...}``), checked to continue it.

    Bounded (at most ``AUDIT_VERIFY_MAX_ROWS`` rows per table) and throttled: no request walks the whole log.
    """

    http_method_names = ["get", "post", "head", "options"]
    write_roles = AUDIT_READERS  # POST only carries a digest to check against: it writes nothing
    throttle_classes = [AuditVerifyRateThrottle]

    @extend_schema(responses=ChainReportSerializer, summary="Verify the rows appended since the last checkpoint")
    def get(self, request):
        return Response(ChainReportSerializer(audit_chain_report()).data)

    @extend_schema(
        request=VerifyRequestSerializer,
        responses=ChainReportSerializer,
        summary="Verify the audit tables only grew since a digest (or since the last checkpoint)",
    )
    def post(self, request):
        body = VerifyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        digest_tables = None
        if "digest" in body.validated_data:
            try:
                digest_tables = digest_check_signature(body.validated_data["digest"])
            except DigestError as exc:
                raise exceptions.ValidationError({"digest": [str(exc)]}) from exc
        return Response(ChainReportSerializer(audit_chain_report(digest_tables=digest_tables)).data)


class AuditDigestView(AuditReadOnlyMixin, APIView):
    """``/api/audit/digest/``: takes a signed checkpoint of every chained table (walking only the rows appended
    since the previous one) and returns it. 409 when a chain is broken: nothing broken is ever signed."""

    throttle_classes = [AuditVerifyRateThrottle]

    @extend_schema(responses=DigestSerializer, summary="The current signed digest of every audit table")
    def get(self, request):
        checkpoint, reports = checkpoint_take()
        if checkpoint is None:
            broken = {r["table"]: r["first_broken_id"] for r in reports if not r["ok"]}
            raise ConflictError("An audit chain is broken; no digest is signed until it is resolved.", details=broken)
        return Response(DigestSerializer(digest_of(checkpoint)).data)


class EmployeeStateAtView(AuditReadOnlyMixin, APIView):
    """``/api/audit/employees/{id}/state-at/?at=``: the employee's state at a past moment, from the log.

    400 (naming ``at``) when ``at`` is missing, malformed, in the future, or before the employee was created;
    a naive ``at`` is read as UTC. 404 for an unknown employee.
    """

    @extend_schema(
        parameters=[OpenApiParameter("at", str, required=True, description="ISO 8601 instant (naive = UTC)")],
        responses=StateAtSerializer,
        summary="An employee's state at a moment, reconstructed from the transition log",
    )
    def get(self, request, pk: int):
        employee = get_object_or_404(Employee, pk=pk)
        query = StateAtQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data["at"]
        try:
            result = employee_state_at(employee=employee, at=at)
        except BeforeCreationError as exc:
            raise exceptions.ValidationError({"at": [str(exc)]}) from exc
        body = {
            "employee": employee.pk,
            "at": at,
            "state": result.state,
            "since": result.since,
            "log_entry": result.log_entry.pk if result.log_entry else None,
        }
        return Response(StateAtSerializer(body).data)
