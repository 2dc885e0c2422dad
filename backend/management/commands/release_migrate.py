"""``manage.py release_migrate``: what every release (and ``serve`` before serving) runs to bring the schema up to
date — as the tables' owner when there is one.

With ``DATABASE_OWNER_URL`` set (alias ``owner``), migrations run as the owner and then the application's role
(the user of ``DATABASE_URL``) gets its grants again (``grant_app_role``: new tables need them; audit tables stay
``SELECT``/``INSERT`` only, docs/stack/deployment.md). Without it one role does both (development, CI): a plain
``migrate``.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from backend.audit.roles import grant_app_role


def owner_alias() -> str | None:
    """The database alias migrations run as: ``owner`` when ``DATABASE_OWNER_URL`` configured one."""
    return "owner" if "owner" in connections.databases else None


class Command(BaseCommand):
    help = (
        "Apply migrations as the tables' owner (DATABASE_OWNER_URL, alias 'owner') and re-grant the application's "
        "role (DATABASE_URL's user) its least privileges; a plain migrate when no owner is configured."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", help="Migrate as this alias (default: 'owner' when configured).")
        parser.add_argument("--role", help="The application's role to grant (default: DATABASE_URL's user).")

    def handle(self, *args, database: str | None = None, role: str | None = None, **options):
        verbosity = options["verbosity"]
        owner = database or owner_alias()
        alias = owner or "default"
        call_command("migrate", database=alias, interactive=False, verbosity=verbosity)
        if owner is None and not role:
            return  # one role owns and uses the tables: nothing to grant
        connection = connections[alias]
        if connection.vendor != "postgresql":
            raise CommandError("Roles and grants are PostgreSQL's; run without --role on " + connection.vendor + ".")
        role = role or connections["default"].settings_dict["USER"]
        if not role or role == connection.settings_dict["USER"]:
            raise CommandError(
                "The application's role must differ from the owner's: DATABASE_URL and DATABASE_OWNER_URL name the "
                f"same role ({role!r}); revoking its privileges would lock the owner out of its own tables."
            )
        grant_app_role(role, using=connection)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Migrated as {alias}; {role}: SELECT/INSERT only on audit tables."))
