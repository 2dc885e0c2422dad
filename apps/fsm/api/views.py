"""The ``transitions`` action shared by every viewset whose model has a state machine."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.fsm.api.serializers import TransitionInputSerializer, TransitionLogSerializer, TransitionOptionSerializer
from apps.fsm.models import TransitionLogBase
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
        # The response is built inside the transaction: should serialising it fail, the transition is rolled back
        # too, rather than committed behind a 500 the caller would take for "nothing happened".
        with transaction.atomic():
            outcome = transition_perform(
                kind=kind, pk=instance.pk, request=TransitionRequest(actor=request.user, **data.validated_data)
            )
            body = self._dry_run_body(outcome) if outcome.dry_run else self._performed_body(kind, outcome)
        return Response(body)

    @staticmethod
    def _dry_run_body(outcome) -> dict:
        return {
            "dry_run": True,
            "allowed": outcome.allowed,
            "transition": outcome.name,
            "current_state": outcome.source,
            "target": outcome.target,
            "blocked_by": outcome.blocked_by,
            "rule_results": outcome.rule_results,
        }

    def _performed_body(self, kind: TransitionKind, outcome) -> dict:
        # Hooks may return rows of other kinds (ledger entries...); the response lists the cascaded log rows.
        cascaded = [row for row in outcome.cascaded if isinstance(row, TransitionLogBase)]
        return {
            kind.log_model.subject_field: self.get_serializer(outcome.instance).data,
            "log_entry": TransitionLogSerializer(outcome.log_entry).data,
            "rule_results": outcome.rule_results,
            "cascaded": TransitionLogSerializer(cascaded, many=True).data,
        }
