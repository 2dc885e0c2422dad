from django.apps import AppConfig


class BackendConfig(AppConfig):
    """Cross-cutting plumbing (auth, errors, pagination, health, serve command, the audit machinery, checkpoints)."""

    name = "backend"
    label = "backend"
    verbose_name = "Coveris plumbing"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's lists need the width: with the nav sidebar (340 px) and the filters, the State column of
        # assignments was off-screen at 1280 px (measured by the browser tests). Its links are on the index page and
        # in the breadcrumbs of every page (docs/admin.md, ADR 0030).
        admin.site.enable_nav_sidebar = False

        from backend import schema  # noqa: F401  (registers drf-spectacular extensions)
        from backend.audit import recorder
        from backend.lookups import install as install_lookups
        from backend.pool import install
        from backend.timestamptz import install as install_timestamptz_loader

        recorder.connect()  # the change history from Python where there are no triggers (SQLite)
        install()  # the pool's checkout check; Django creates its pool lazily, after this
        install_timestamptz_loader()  # timestamptz columns parsed by psycopg's C loader (ADR 0031)
        install_lookups()  # field__in_array: a list as one array parameter on PostgreSQL (ADR 0037)
