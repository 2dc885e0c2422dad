from django.core.management.base import BaseCommand

from apps.users.services import sessions_prune


class Command(BaseCommand):
    help = "Delete sign-in sessions and refresh tokens that can no longer sign anyone in (the worker runs it daily)."

    def handle(self, *args, **options):
        sessions, tokens = sessions_prune()
        self.stdout.write(f"pruned {sessions} sessions and {tokens} expired refresh tokens")
