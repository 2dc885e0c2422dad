"""Recompute the weekly coverage rollup from scratch (after a bulk load, a restore, or to move its horizon)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.demand.periods import monday
from apps.demand.rollups import default_horizon, rollup_rebuild
from backend import timezones


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Recompute demand_coverageweek from the requirement and assignment tables over a horizon (default: three "
        "years back to two years ahead of today). Safe while the API serves: writers wait for it. PostgreSQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=_date, help="First day the rollup must hold (its Monday).")
        parser.add_argument("--to", dest="last", type=_date, help="Last day the rollup must hold (its Monday).")

    def handle(self, *args, first=None, last=None, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The rollups live in PostgreSQL only; on SQLite the reports always compute live.")
        default_first, default_last = default_horizon(timezones.today())
        first, last = monday(first or default_first), monday(last or default_last)
        if last < first:
            raise CommandError("--to comes before --from.")
        rows = rollup_rebuild(first_week=first, last_week=last)
        if options["verbosity"]:
            self.stdout.write(f"Coverage rollup rebuilt: {rows} position-weeks from {first} to {last}.")
