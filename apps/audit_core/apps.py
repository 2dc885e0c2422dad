from django.apps import AppConfig


class AuditCoreConfig(AppConfig):
    """Audit machinery every app may use: append-only tables, the hash chain. Imports no other app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.audit_core"
    label = "audit_core"
    verbose_name = "Audit machinery"
