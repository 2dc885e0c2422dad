"""Shared pytest fixtures: API clients per role, cache reset, and the PostgreSQL-only marker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

pytest_plugins = ["backend.tests.browser"]  # the ``browser`` fixture: Selenium against the live admin


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if _on_postgres():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (triggers, exclusion constraints, row locks or concurrency); "
        "set DATABASE_URL=postgres://... to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def csrf_client() -> APIClient:
    """A client that enforces CSRF like a browser would."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def make_user(db):
    from apps.users.tests.factories import UserFactory

    def _make(role: str = "admin", **kwargs):
        return UserFactory(role=role, **kwargs)

    return _make


@pytest.fixture
def auth_client(make_user):
    """``auth_client(role)`` → (client authenticated with a bearer token, user)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.users.snapshots import user_snapshot_get

    def _client(role: str = "admin", user=None, **kwargs):
        user = user or make_user(role, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        # A signed-in user's snapshot is cached after their first request (0 queries to authenticate);
        # warming it here keeps query counts about the endpoint, equal from the first request on.
        user_snapshot_get(user.pk)
        return client, user

    return _client


# --- the real job queue (PostgreSQL) -------------------------------------------------------------------------------

# What bin/with-worker runs: every queue, two jobs at a time (a long audit walk never holds up plan solving).
WORKER_ARGS = ("procrastinate", "worker", "--concurrency=2")


class JobQueue:
    """procrastinate's tables in the test database, and workers as real subprocesses (``manage.py procrastinate
    worker``) connected to it — the path production takes, periodic deferrer included."""

    root = Path(__file__).resolve().parent
    tables = ("procrastinate_jobs", "procrastinate_periodic_defers", "procrastinate_events", "procrastinate_workers")

    def empty(self) -> None:
        """The queue's tables are not Django-managed, so no test flush clears them: start every test empty."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")

    def env(self, **extra: str) -> dict:
        from django.db import connection

        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test_worker",
            "LOG_LEVEL": "WARNING",
            **extra,
        }

    def run_once(self, *, queues: str = "", timeout: float = 120, **env: str) -> None:
        """``procrastinate worker --one-shot``: process what is queued (on ``queues``, default all), then stop."""
        only = [f"--queues={queues}"] if queues else []
        subprocess.run(  # noqa: S603 -- our own interpreter and manage.py
            [sys.executable, "manage.py", "procrastinate", "worker", *only, "--one-shot"],
            cwd=self.root,
            env=self.env(**env),
            check=True,
            timeout=timeout,
            capture_output=True,
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        """A long-running worker (``WORKER_ARGS``, or ``args`` as the command line); stop it with ``stop``."""
        return subprocess.Popen(  # noqa: S603
            list(args) or [sys.executable, "manage.py", *WORKER_ARGS],
            cwd=self.root,
            env=self.env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @staticmethod
    def stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=30)

    def jobs(self) -> list[tuple]:
        """``(task_name, queue, status)`` of every job, oldest first."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT task_name, queue_name, status FROM procrastinate_jobs ORDER BY id")
            return cursor.fetchall()

    @staticmethod
    def wait_for(predicate, seconds: float, what: str):
        """Poll ``predicate`` until it returns something truthy (returned), or fail saying ``what`` never happened."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.3)
        raise AssertionError(f"{what} did not happen within {seconds:.0f} s")


@pytest.fixture
def job_queue(transactional_db) -> JobQueue:
    """The real job queue on PostgreSQL (mark the test ``postgres``): empty before and after the test."""
    queue = JobQueue()
    queue.empty()
    yield queue
    queue.empty()
