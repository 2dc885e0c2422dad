from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Org structure, positions and employees."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.api"
    label = "api"
    verbose_name = "Org structure, positions and employees"
