"""``manage.py grant_app_role --role coveris_app [--database owner]``: least-privilege grants for the app's role."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from backend.audit.roles import grant_app_role


class Command(BaseCommand):
    help = (
        "Grant the application's database role full DML on domain tables and only SELECT/INSERT on audit tables. "
        "Run as the tables' owner (e.g. --database owner, DATABASE_OWNER_URL) after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="The role the application connects as (DATABASE_URL).")
        parser.add_argument("--database", default="default", help="The alias to run as (the owner).")

    def handle(self, *args, role: str, database: str, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Roles and grants are PostgreSQL's; nothing to do on " + connection.vendor + ".")
        grant_app_role(role, using=connection)
        self.stdout.write(self.style.SUCCESS(f"{role}: SELECT/INSERT only on the audit tables; DML on the others."))
