"""`manage.py serve`: apply migrations, then serve the ASGI app with uvicorn (one command for newcomers)."""

import os

import uvicorn
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply migrations, then serve the API with uvicorn (default 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
        parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations first")

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=1)
        self.stdout.write(self.style.SUCCESS(f"Serving Coveris on http://{options['host']}:{options['port']}/"))
        uvicorn.run(
            "config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=None if options["reload"] else options["workers"],
            reload=options["reload"],
            lifespan="off",
            proxy_headers=True,
        )
