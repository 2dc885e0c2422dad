from django.apps import AppConfig


class BusinessRulesConfig(AppConfig):
    """Business rules."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.business_rules"
    label = "business_rules"
    verbose_name = "Business rules"
