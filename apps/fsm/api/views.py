"""The ``transitions`` action shared by every viewset whose model has a state machine."""

from django.db import transaction
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.fsm.api.serializers import (
    TransitionDryRunSerializer,
    TransitionInputSerializer,
    TransitionLogSerializer,
    TransitionOptionSerializer,
    transition_performed_serializer,
)
from apps.fsm.models import TransitionLogBase
from apps.fsm.services import TransitionKind, TransitionRequest, transition_options, transition_perform
from backend.db import retry_on_conflict
from backend.schema import documents_errors


class TransitionActionMixin:
    """Adds GET/POST ``{id}/transitions/``; set ``transition_kind`` on the viewset.

    ``get_object()`` applies the viewset's scoped queryset first, so an object the caller cannot see is
    404 before any role or state check. The viewset's list filters and pagination do not apply to the action
    (``?state=…`` on a detail route must not turn a visible object into a 404), nor appear in its schema.

    Each subclass gets its own OpenAPI description (``__init_subclass__``): GET is a plain array of
    ``TransitionOption``; POST answers ``<Model>TransitionPerformed`` (the subject under its own name, with the
    viewset's serializer) or, with ``dry_run``, ``TransitionDryRun``.
    """

    transition_kind: TransitionKind

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        kind = getattr(cls, "transition_kind", None)
        subject = getattr(cls, "serializer_class", None)
        if kind is None or subject is None:
            return
        model = kind.model.__name__
        performed = transition_performed_serializer(kind.subject_field, subject)
        response = PolymorphicProxySerializer(
            component_name=f"{model}TransitionResponse",
            serializers=[performed, TransitionDryRunSerializer],
            resource_type_field_name=None,
        )
        extend_schema_view(
            transitions=[
                extend_schema(
                    methods=["GET"],
                    responses={200: TransitionOptionSerializer(many=True)},
                    summary="Transitions open to you",
                    description=(
                        f"Every transition of the {kind.model._meta.verbose_name} with whether you may perform it "
                        "now (allowed, blocked_by), what the POST body must carry (needs) and the rule results."
                    ),
                ),
                extend_schema(
                    methods=["POST"],
                    request=TransitionInputSerializer,
                    responses={200: response},
                    summary="Perform (or dry-run) a transition",
                    description=(
                        f"Performs the transition: the {kind.subject_field}, its log entry, the rule results and "
                        "the cascaded log rows; with dry_run, what would happen (nothing is written)."
                    ),
                ),
            ]
        )(cls)

    @documents_errors("transition_not_allowed", "conflict", "rule_violation", methods=["POST"])
    @action(detail=True, methods=["get", "post"], url_path="transitions", filter_backends=[], pagination_class=None)
    def transitions(self, request, pk=None):
        instance = self.get_object()
        kind = self.transition_kind
        if request.method == "GET":
            return Response(transition_options(kind=kind, instance=instance, actor=request.user))

        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        # The response is built inside the transaction: should serialising it fail, the transition is rolled back
        # too, rather than committed behind a 500 the caller would take for "nothing happened".
        # Re-run as a whole should PostgreSQL abort it with a deadlock or serialization failure (then 409).
        @retry_on_conflict
        @transaction.atomic
        def perform() -> dict:
            outcome = transition_perform(
                kind=kind, pk=instance.pk, request=TransitionRequest(actor=request.user, **data.validated_data)
            )
            return self._dry_run_body(outcome) if outcome.dry_run else self._performed_body(kind, outcome)

        return Response(perform())

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
