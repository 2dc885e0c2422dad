"""Org units, positions and employees: thin viewsets over the selectors (reads) and services (writes)."""

from rest_framework import viewsets

from apps.api.api.imports import ImportActionMixin
from apps.api.api.serializers import EmployeeSerializer, OrgUnitSerializer, PositionSerializer
from apps.api.filtersets import EmployeeFilterSet, OrgUnitFilterSet, PositionFilterSet
from apps.api.imports import EmployeeResource, PositionResource
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
from backend.filters import FilterBackend
from backend.permissions import READ_ALL, WRITE_WORKFORCE
from backend.viewsets import RowListMixin

# Employees read their own record, unit and positions; the selectors narrow each role to its scope.
READERS = READ_ALL | {Role.EMPLOYEE}


class WorkforceModelViewSet(viewsets.ModelViewSet):
    """Read roles per resource, writes for admin/hr; filtering, search and ordering all in the FilterSet."""

    filter_backends = [FilterBackend]
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


class PositionViewSet(ImportActionMixin, WorkforceModelViewSet):
    serializer_class = PositionSerializer
    filterset_class = PositionFilterSet
    import_resource = PositionResource

    def get_queryset(self):
        return position_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = position_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = position_update(position=serializer.instance, **serializer.validated_data)


class EmployeeViewSet(ImportActionMixin, TransitionActionMixin, RowListMixin, WorkforceModelViewSet):
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilterSet
    import_resource = EmployeeResource
    transition_kind = EMPLOYEE_TRANSITIONS
    # Whoever can see the employee reaches the transitions action; the service decides who may perform (403).
    action_roles = {"transitions": READERS}

    def get_queryset(self):
        return employee_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = employee_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = employee_update(
            employee=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
