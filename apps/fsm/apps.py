from django.apps import AppConfig


class FsmConfig(AppConfig):
    """Employee lifecycle."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.fsm"
    label = "fsm"
    verbose_name = "Employee lifecycle"
