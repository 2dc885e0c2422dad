"""A procrastinate worker whose solves take long (for the test that kills a worker mid-solve).

Run as a script with DJANGO_SETTINGS_MODULE and DATABASE_URL set; the planning service's compute step first
waits ``SLOW_SOLVE_SECONDS`` (a long sleep), so the test can kill the process while its plan is ``solving``.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from apps.demand.planning import services  # noqa: E402

real_compute = services.plan_compute


def slow_compute(**kwargs):
    time.sleep(float(os.environ.get("SLOW_SOLVE_SECONDS", "60")))
    return real_compute(**kwargs)


services.plan_compute = slow_compute
call_command("procrastinate", "worker", "--queues=plans", "--concurrency=1")
