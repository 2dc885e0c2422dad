from django.apps import AppConfig


class AssignmentsConfig(AppConfig):
    """Assignments."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.assignments"
    label = "assignments"
    verbose_name = "Assignments"
