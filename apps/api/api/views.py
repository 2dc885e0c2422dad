"""Org units, positions and employees: thin viewsets over the selectors (reads) and services (writes)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.api.api.serializers import (
    EmployeeSerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
    OrgUnitSerializer,
    PositionSerializer,
)
from apps.api.filtersets import EmployeeFilterSet, OrgUnitFilterSet, PositionFilterSet
from apps.api.imports import employee_import
from apps.api.selectors import employee_list, org_unit_list, position_list
from apps.api.services import (
    employee_create,
    employee_update,
    org_unit_create,
    org_unit_update,
    position_create,
    position_update,
)
from apps.fsm.api.views import TransitionActionMixin
from apps.fsm.services import EMPLOYEE_TRANSITIONS
from apps.users.choices import Role
from backend.permissions import READ_ALL, WRITE_WORKFORCE

# Employees read their own record, unit and positions; the selectors narrow each role to its scope.
READERS = READ_ALL | {Role.EMPLOYEE}


class WorkforceModelViewSet(viewsets.ModelViewSet):
    """Read roles per resource, writes for admin/hr; filtering, search and ordering all in the FilterSet."""

    filter_backends = [DjangoFilterBackend]
    read_roles = READERS
    write_roles = WRITE_WORKFORCE


class OrgUnitViewSet(WorkforceModelViewSet):
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilterSet

    def get_queryset(self):
        return org_unit_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = org_unit_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = org_unit_update(unit=serializer.instance, **serializer.validated_data)


class PositionViewSet(WorkforceModelViewSet):
    serializer_class = PositionSerializer
    filterset_class = PositionFilterSet

    def get_queryset(self):
        return position_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = position_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = position_update(position=serializer.instance, **serializer.validated_data)


class EmployeeViewSet(TransitionActionMixin, WorkforceModelViewSet):
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilterSet
    transition_kind = EMPLOYEE_TRANSITIONS
    # Whoever can see the employee reaches the transitions action; the service decides who may perform (403).
    action_roles = {"transitions": READERS}

    def get_queryset(self):
        return employee_list(user=self.request.user)

    @extend_schema(request={"multipart/form-data": ImportRequestSerializer}, responses={200: ImportReportSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_file(self, request):
        """Import employees from a CSV/XLSX file (admin, hr), all or nothing, through the same service as the admin's
        import page. Any bad row: 400 with a "row N" entry per bad row, its errors in words; nothing written."""
        body = ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        try:
            report = employee_import(
                content=upload.read(),
                file_name=upload.name,
                actor=request.user,
                dry_run=body.validated_data["dry_run"],
            )
        except ValueError as exc:
            raise exceptions.ValidationError({"file": [str(exc)]}) from exc
        if report.problems:  # details stay "field → messages": one key per bad row, e.g. "row 3"
            raise exceptions.ValidationError(
                {
                    "file": [f"{len(report.problems)} row(s) have errors; nothing was imported."],
                    **{f"row {p.row}": p.messages() for p in report.problems},
                }
            )
        return Response(ImportReportSerializer(report.as_dict()).data)

    def perform_create(self, serializer):
        serializer.instance = employee_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = employee_update(
            employee=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
