from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users and authentication."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.users"
    label = "users"
    verbose_name = "Users and authentication"

    def ready(self) -> None:
        from apps.users import signals  # noqa: F401  (connects the snapshot invalidation)
