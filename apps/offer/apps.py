from django.apps import AppConfig


class OfferConfig(AppConfig):
    """Hours ledger (supply)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.offer"
    label = "offer"
    verbose_name = "Hours ledger (supply)"

    def ready(self) -> None:
        from apps.fsm.services import register_after_transition, register_after_transition_many
        from apps.offer.services import TRANSITION_HOOKS, TRANSITION_HOOKS_MANY

        # Postings run inside the transition's transaction: a refused or rolled-back transition posts nothing.
        for event, hook in TRANSITION_HOOKS.items():
            register_after_transition(event, hook)
        for event, twin in TRANSITION_HOOKS_MANY.items():
            register_after_transition_many(event, twin, replaces=TRANSITION_HOOKS[event])
