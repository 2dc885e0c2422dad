from django.apps import AppConfig


class UsersConfig(AppConfig):
    """Users and authentication."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.users"
    label = "users"
    verbose_name = "Users and authentication"
