"""The ``transitions`` action shared by every viewset whose model has a state machine."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.fsm.api.serializers import TransitionInputSerializer, TransitionLogSerializer, TransitionOptionSerializer
from apps.fsm.services import TransitionKind, TransitionRequest, transition_options, transition_perform


class TransitionActionMixin:
    """Adds GET/POST ``{id}/transitions/``; set ``transition_kind`` on the viewset.

    ``get_object()`` applies the viewset's scoped queryset first, so an object the caller cannot see is
    404 before any role or state check.
    """

    transition_kind: TransitionKind

    @extend_schema(
        methods=["GET"], responses={200: TransitionOptionSerializer(many=True)}, summary="Transitions open to you"
    )
    @extend_schema(methods=["POST"], request=TransitionInputSerializer, summary="Perform (or dry-run) a transition")
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request, pk=None):
        instance = self.get_object()
        kind = self.transition_kind
        if request.method == "GET":
            return Response(transition_options(kind=kind, instance=instance, actor=request.user))

        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = transition_perform(
            kind=kind, pk=instance.pk, request=TransitionRequest(actor=request.user, **data.validated_data)
        )
        if outcome.dry_run:
            body = {
                "dry_run": True,
                "allowed": outcome.allowed,
                "transition": outcome.name,
                "current_state": outcome.source,
                "target": outcome.target,
                "blocked_by": outcome.blocked_by,
                "rule_results": outcome.rule_results,
            }
            return Response(body)
        subject = kind.log_model.subject_field
        return Response(
            {
                subject: self.get_serializer(outcome.instance).data,
                "log_entry": TransitionLogSerializer(outcome.log_entry).data,
                "rule_results": outcome.rule_results,
                "cascaded": TransitionLogSerializer(outcome.cascaded, many=True).data,
            }
        )
