from django.apps import AppConfig


class TagsConfig(AppConfig):
    """Tags."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.tags"
    label = "tags"
    verbose_name = "Tags"
