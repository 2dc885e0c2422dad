from django.apps import AppConfig


class AuditLogConfig(AppConfig):
    """Audit trail (read side)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.audit_log"
    label = "audit_log"
    verbose_name = "Audit trail (read side)"
