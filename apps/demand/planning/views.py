"""``/api/coverage/plans/``: create a plan (202, solved on the job queue), read it, list them, apply one."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.demand.filtersets import PlanFilterSet
from apps.demand.planning.selectors import plan_list
from apps.demand.planning.serializers import (
    PlanApplySerializer,
    PlanCreateSerializer,
    PlanDetailSerializer,
    PlanSerializer,
)
from apps.demand.planning.services import plan_apply, plan_create
from apps.demand.selectors import org_units_in_scope, positions_in_scope
from apps.users.choices import Role
from backend.errors import InvalidInputError
from backend.filters import FilterBackend
from backend.permissions import READ_ALL, WRITE_WORKFORCE

PLANNERS = WRITE_WORKFORCE | {Role.MANAGER}


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans: admin, hr and managers (their subtree) plan and apply; auditors read."""

    filter_backends = [FilterBackend]
    filterset_class = PlanFilterSet
    read_roles = READ_ALL
    write_roles = PLANNERS

    def get_queryset(self):
        return plan_list(user=self.request.user)

    def get_serializer_class(self):
        return PlanDetailSerializer if self.action == "retrieve" else PlanSerializer

    @extend_schema(request=PlanCreateSerializer, responses={202: PlanSerializer}, summary="Ask for a plan")
    def create(self, request):
        user = request.user
        scope = {"positions": positions_in_scope(user=user), "org_units": org_units_in_scope(user=user)}
        query = PlanCreateSerializer(data=request.data, context={"request": request, "scope": scope})
        query.is_valid(raise_exception=True)
        q = query.validated_data
        org_unit = q.get("org_unit")
        if user.role == Role.MANAGER and org_unit is None:
            org_unit = user.org_unit  # a manager plans within their own subtree
            if org_unit is None:
                raise InvalidInputError(message="A manager without an org unit cannot plan.", details={"org_unit": []})
        plan = plan_create(
            actor=user,
            start=q["period"].start,
            end=q["period"].end,
            org_unit=org_unit,
            positions=q.get("positions"),
            objective=q.get("objective"),
            seed=q["seed"],
            time_limit=q.get("time_limit"),
        )
        plan.refresh_from_db()
        body = PlanSerializer(plan, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(request=PlanApplySerializer, responses=PlanDetailSerializer, summary="Apply a solved plan")
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        plan = self.get_object()
        options = PlanApplySerializer(data=request.data)
        options.is_valid(raise_exception=True)
        plan_apply(plan_id=plan.pk, actor=request.user, **options.validated_data)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanDetailSerializer(plan, context={"request": request}).data)
