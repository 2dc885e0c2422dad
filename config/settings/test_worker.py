"""Settings of the job-queue workers that the PostgreSQL tests start as subprocesses (``job_queue`` in conftest.py):
the test settings, but long work goes on the real queue and a solving plan beats every second. The environment
still chooses ``COVERIS_PLAN_STALE_SECONDS`` and ``COVERIS_AUDIT_VERIFY_CRON`` (base.py reads them)."""

from config.settings.test import *  # noqa: F403

COVERIS_JOBS = "queue"
COVERIS_PLAN_HEARTBEAT_SECONDS = 1
