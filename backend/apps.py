from django.apps import AppConfig


class BackendConfig(AppConfig):
    """Cross-cutting plumbing (auth, errors, pagination, health, serve command, the audit machinery, checkpoints)."""

    name = "backend"
    label = "backend"
    verbose_name = "Coveris plumbing"

    def ready(self) -> None:
        from backend import schema  # noqa: F401  (registers drf-spectacular extensions)
        from backend.audit import recorder
        from backend.pool import install

        recorder.connect()  # the change history from Python where there are no triggers (SQLite)
        install()  # the pool's checkout check; Django creates its pool lazily, after this
