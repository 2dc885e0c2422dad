from django.apps import AppConfig


class OfferConfig(AppConfig):
    """Hours ledger (supply)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.offer"
    label = "offer"
    verbose_name = "Hours ledger (supply)"
