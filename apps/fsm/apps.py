from django.apps import AppConfig


class FsmConfig(AppConfig):
    """Employee lifecycle."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.fsm"
    label = "fsm"
    verbose_name = "Employee lifecycle"

    def ready(self):
        # The error envelope is backend's; the details of the two errors this app raises are typed here.
        from apps.fsm.api.serializers import RuleViolationDetailsSerializer, TransitionNotAllowedDetailsSerializer
        from backend.schema import register_error_details

        register_error_details("rule_violation", RuleViolationDetailsSerializer)
        register_error_details("transition_not_allowed", TransitionNotAllowedDetailsSerializer)
