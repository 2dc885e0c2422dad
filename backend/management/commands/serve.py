"""`manage.py serve`: apply migrations (``release_migrate``: as the owner, if any), then serve the ASGI app (one
command for newcomers and for production).

Without ``--production``: uvicorn in this process (``--reload`` for development). With ``--production``: the
production server, granian with ``--workers`` processes (``backend/serving.py``), replacing this process
(``exec``) so it receives the platform's SIGTERM directly.
"""

import os
import sys

import uvicorn
from django.core.management import call_command
from django.core.management.base import BaseCommand

from backend.serving import production_command


class Command(BaseCommand):
    help = "Apply migrations, then serve the API (uvicorn; --production: granian with several workers)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
        parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations first")
        parser.add_argument(
            "--production",
            action="store_true",
            help="the production server (granian, --workers processes), as the Docker image and App Runner run it",
        )

    def handle(self, *args, **options):
        if options["production"] and options["reload"]:
            self.stderr.write("--reload is for development; --production does not reload.")
            sys.exit(2)
        if not options["no_migrate"]:
            call_command("release_migrate", verbosity=1)  # as the owner when DATABASE_OWNER_URL is set
        self.stdout.write(self.style.SUCCESS(f"Serving Coveris on http://{options['host']}:{options['port']}/"))
        if options["production"]:
            command = production_command(
                host=options["host"], port=options["port"], workers=options["workers"], python=sys.executable
            )
            self.stdout.flush()
            os.execv(command[0], command)  # noqa: S606 (our own fixed command line)
            return  # not reached, except where execv is replaced (tests)
        uvicorn.run(
            "config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=None if options["reload"] else options["workers"],
            reload=options["reload"],
            lifespan="off",
            proxy_headers=True,
        )
