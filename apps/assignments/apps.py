from django.apps import AppConfig


class AssignmentsConfig(AppConfig):
    """Assignments."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.assignments"
    label = "assignments"
    verbose_name = "Assignments"

    def ready(self) -> None:
        from apps.assignments.services import assignments_close_on_termination, assignments_close_on_termination_many
        from apps.fsm.services import register_after_transition, register_after_transition_many

        register_after_transition("employee.terminate", assignments_close_on_termination)
        register_after_transition_many(
            "employee.terminate", assignments_close_on_termination_many, replaces=assignments_close_on_termination
        )
