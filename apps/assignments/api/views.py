"""Assignments: thin viewset over the selector (reads), services (writes) and the shared transitions action."""

from rest_framework import status, viewsets
from rest_framework.response import Response

from apps.assignments.api.serializers import AssignmentSerializer
from apps.assignments.filtersets import AssignmentFilterSet
from apps.assignments.selectors import assignment_list
from apps.assignments.services import ASSIGNMENT_TRANSITIONS, assignment_create, assignment_update
from apps.fsm.api.views import TransitionActionMixin
from apps.users.choices import Role
from backend.filters import FilterBackend
from backend.permissions import READ_ALL
from backend.schema import documents_errors
from backend.viewsets import RowListMixin

READERS = READ_ALL | {Role.EMPLOYEE}
WRITERS = frozenset({Role.ADMIN, Role.HR, Role.MANAGER})


class AssignmentViewSet(TransitionActionMixin, RowListMixin, viewsets.ModelViewSet):
    """CRUD without delete: an assignment ends by ``cancel``, ``reject`` or ``complete``, never by deletion."""

    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    filter_backends = [FilterBackend]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    read_roles = READERS
    write_roles = WRITERS
    transition_kind = ASSIGNMENT_TRANSITIONS
    action_roles = {"transitions": READERS}

    def get_queryset(self):
        return assignment_list(user=self.request.user, page_only=self.action == "list")

    def _write(self, request, instance=None, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        options = {
            "acknowledge_warnings": data.pop("acknowledge_warnings", False),
            "override_reason": data.pop("override_reason", ""),
        }
        if instance is None:
            assignment, results = assignment_create(actor=request.user, **data, **options)
        else:
            assignment, results = assignment_update(assignment=instance, actor=request.user, **data, **options)
        assignment = self.get_queryset().get(pk=assignment.pk)
        body = {**self.get_serializer(assignment).data, "rule_results": results}
        return Response(body, status=status.HTTP_201_CREATED if instance is None else status.HTTP_200_OK)

    @documents_errors("rule_violation")
    def create(self, request, *args, **kwargs):
        return self._write(request)

    @documents_errors("rule_violation")
    def update(self, request, *args, **kwargs):
        return self._write(request, self.get_object(), partial=kwargs.get("partial", False))
