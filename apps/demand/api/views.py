"""Demand endpoints: requirement CRUD (thin viewset over selectors and services) and the read-only reports.

The reports validate their query with a serializer (400 naming the field), take the caller's scope from the
selectors, and hand the work to one selector each: coverage, org-unit roll-up, candidates, KPIs.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.api.imports import ImportActionMixin
from apps.demand import services
from apps.demand.api.serializers import (
    CandidateListSerializer,
    CandidateQuerySerializer,
    CoverageQuerySerializer,
    CoverageRequirementSerializer,
    CoverageRowSerializer,
    KpiQuerySerializer,
    KpiSerializer,
    OrgUnitCoverageRowSerializer,
)
from apps.demand.candidates import candidate_rank
from apps.demand.coverage import (
    coverage_by_org_unit_week,
    coverage_by_position_week,
    coverage_org_units,
    coverage_positions,
)
from apps.demand.filtersets import CoverageRequirementFilterSet
from apps.demand.imports import CoverageRequirementResource
from apps.demand.kpis import kpi_summary
from apps.demand.selectors import (
    candidate_pool,
    coverage_requirement_list,
    employees_in_scope,
    org_units_in_scope,
    positions_in_scope,
)
from apps.users.choices import Role
from backend.permissions import READ_ALL, WRITE_WORKFORCE

# Who may read the candidate ranking: the roles that propose assignments, and auditors, who read everything
# (it is a read: the what-if rules write nothing).
CANDIDATE_READERS = WRITE_WORKFORCE | {Role.MANAGER, Role.AUDITOR}


class CoverageRequirementViewSet(ImportActionMixin, viewsets.ModelViewSet):
    """``/api/coverage-requirements/``: admin and hr write; managers read their subtree, auditors everything."""

    serializer_class = CoverageRequirementSerializer
    filterset_class = CoverageRequirementFilterSet
    import_resource = CoverageRequirementResource
    search_fields = ["position__code", "position__title", "notes"]
    ordering_fields = ["valid_from", "valid_to", "priority", "required_weekly_hours", "position__code", "id"]
    read_roles = READ_ALL
    write_roles = WRITE_WORKFORCE

    def get_queryset(self):
        return coverage_requirement_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.coverage_requirement_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.coverage_requirement_update(
            requirement=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.coverage_requirement_delete(requirement=instance)


class _ReportMixin:
    filter_backends: list = []
    read_roles = READ_ALL

    def scope(self) -> dict:
        user = self.request.user
        return {"positions": positions_in_scope(user=user), "org_units": org_units_in_scope(user=user)}

    def query(self, serializer_class, scope: dict) -> dict:
        context = {"request": self.request, "scope": scope}
        serializer = serializer_class(data=self.request.query_params, context=context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class CoverageViewSet(_ReportMixin, viewsets.GenericViewSet):
    """``/api/coverage/``: per position per ISO week; ``org-units/``: the roll-up; ``candidates/``: who could fill."""

    action_roles = {"candidates": CANDIDATE_READERS}

    @extend_schema(
        parameters=[CoverageQuerySerializer],
        responses=CoverageRowSerializer(many=True),
        summary="Coverage per position per ISO week (paginated by position)",
    )
    def list(self, request):
        scope = self.scope()
        q = self.query(CoverageQuerySerializer, scope)
        positions = coverage_positions(
            positions=scope["positions"], period=q["period"], org_unit=q.get("org_unit"), position=q.get("position")
        )
        page = self.paginate_queryset(positions)
        return self.get_paginated_response(coverage_by_position_week(positions=page, period=q["period"]))

    @extend_schema(
        parameters=[CoverageQuerySerializer],
        responses=OrgUnitCoverageRowSerializer(many=True),
        summary="Coverage per org unit (its whole subtree) per ISO week (paginated by org unit)",
    )
    @action(detail=False, methods=["get"], url_path="org-units")
    def org_units(self, request):
        scope = self.scope()
        q = self.query(CoverageQuerySerializer, scope)
        positions = scope["positions"]
        if q.get("position") is not None:
            positions = positions.filter(pk=q["position"].pk)
        page = self.paginate_queryset(coverage_org_units(units=scope["org_units"], org_unit=q.get("org_unit")))
        rows = coverage_by_org_unit_week(units=page, positions=positions, period=q["period"])
        return self.get_paginated_response(rows)

    @extend_schema(
        parameters=[CandidateQuerySerializer],
        responses=CandidateListSerializer,
        summary="Employees ranked for a position over a period, with why each fits or not",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def candidates(self, request):
        scope = self.scope()
        q = self.query(CandidateQuerySerializer, scope)
        period = q["period"]
        body = candidate_rank(
            position=q["position"],
            start=period.start,
            end=period.end,
            hours=q["hours"],
            employees=candidate_pool(user=request.user, org_unit=q.get("org_unit")),
            limit=q["limit"],
        )
        return Response(body)


class KpiViewSet(_ReportMixin, viewsets.ViewSet):
    """``/api/kpis/``: coverage ratio, open gap, utilisation, overtime, headcount by state, transitions."""

    @extend_schema(parameters=[KpiQuerySerializer], responses=KpiSerializer, summary="Key figures for a period")
    def list(self, request):
        scope = self.scope()
        q = self.query(KpiQuerySerializer, scope)
        body = kpi_summary(
            positions=scope["positions"],
            employees=employees_in_scope(user=request.user),
            period=q["period"],
            org_unit=q.get("org_unit"),
            units=scope["org_units"],
        )
        return Response(body)
