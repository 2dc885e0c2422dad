"""The rule catalogue: CRUD through the services, the type registry, snapshots, and hypothetical evaluation."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.business_rules.api.serializers import (
    BusinessRuleSerializer,
    BusinessRuleVersionSerializer,
    EvaluateInputSerializer,
    EvaluateOutputSerializer,
    RuleTypesSerializer,
)
from apps.business_rules.choices import KNOWN_EVENTS, Severity
from apps.business_rules.engine import event_evaluate
from apps.business_rules.filtersets import BusinessRuleFilterSet
from apps.business_rules.registry import REGISTRY
from apps.business_rules.selectors import business_rule_list, business_rule_version_list
from apps.business_rules.services import rule_create, rule_update
from backend.errors import ConflictError
from backend.filters import FilterBackend
from backend.permissions import READ_ALL, WRITE_WORKFORCE


class BusinessRuleViewSet(viewsets.ModelViewSet):
    """``/api/business-rules/``: admin and hr write, managers and auditors read, employees nothing.

    Rules are never deleted (log rows cite their code and version): DELETE answers 409 ``conflict``, and a
    rule is retired with ``is_active: false``. ``evaluate`` is a POST that writes nothing, so every reader
    may use it.
    """

    queryset = business_rule_list()
    serializer_class = BusinessRuleSerializer
    filterset_class = BusinessRuleFilterSet
    filter_backends = [FilterBackend]
    read_roles = READ_ALL
    write_roles = WRITE_WORKFORCE
    action_roles = {"evaluate": READ_ALL}

    def get_queryset(self):
        return business_rule_list()

    def perform_create(self, serializer):
        serializer.instance = rule_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        rule, actor = serializer.instance, self.request.user
        serializer.instance = rule_update(rule=rule, actor=actor, **serializer.validated_data)

    def perform_destroy(self, instance):
        raise ConflictError(
            "Business rules are not deleted: transition logs cite their code and version. "
            "Deactivate it instead (is_active=false).",
            details={"rule": instance.code, "version": instance.version, "deactivate_with": {"is_active": False}},
        )

    @extend_schema(responses=RuleTypesSerializer, summary="Registered rule types, their param schemas, the events")
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def types(self, request):
        body = {
            "types": [REGISTRY[identifier].as_dict() for identifier in sorted(REGISTRY)],
            "events": list(KNOWN_EVENTS),
            "severities": list(Severity.values),
        }
        return Response(body)

    @extend_schema(responses=BusinessRuleVersionSerializer(many=True), summary="The rule's snapshots, oldest first")
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request, pk=None):
        page = self.paginate_queryset(business_rule_version_list(rule=self.get_object()))
        return self.get_paginated_response(BusinessRuleVersionSerializer(page, many=True).data)

    @extend_schema(
        request=EvaluateInputSerializer,
        responses=EvaluateOutputSerializer,
        summary="Evaluate a hypothetical event against the rules (writes nothing)",
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def evaluate(self, request):
        data = EvaluateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        outcome = event_evaluate(event=data.validated_data["event"], context=data.to_context(actor=request.user))
        return Response(outcome)
