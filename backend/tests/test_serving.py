"""The production command: `serve --production` exec()s granian with the workers asked for; the Dockerfile and
App Runner both use it; and it really serves (two workers, keep-alive) with the production settings."""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_serve_production_execs_granian_with_the_workers_asked_for(monkeypatch):
    calls = []
    monkeypatch.setattr("os.execv", lambda path, argv: calls.append((path, argv)))
    call_command("serve", "--production", "--no-migrate", "--workers", "3", "--port", "8123", "--host", "0.0.0.0")
    ((path, argv),) = calls
    assert path == sys.executable
    assert argv[:4] == [sys.executable, "-m", "granian", "config.asgi:application"]
    options = dict(zip(argv[4::1], argv[5::1], strict=False))
    assert options["--interface"] == "asgi"
    assert options["--workers"] == "3"
    assert options["--port"] == "8123"
    assert options["--host"] == "0.0.0.0"
    assert options["--loop"] == "uvloop"


def test_the_image_and_app_runner_run_the_production_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    apprunner = (ROOT / "apprunner.yaml").read_text()
    assert '"python", "manage.py", "serve", "--production", "--no-migrate", "--host", "0.0.0.0"]' in dockerfile
    assert "manage.py serve --production --no-migrate --host 0.0.0.0" in apprunner
    assert "uvicorn" not in dockerfile.split("CMD", 1)[1]


def _free_port() -> int:
    for port in range(8100, 8200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8100-8199")


@pytest.mark.postgres
def test_the_production_command_serves_keep_alive_requests_with_two_workers(django_db_setup):
    from django.conf import settings

    port = _free_port()
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHON_DOTENV_DISABLED": "1",
        # The production settings refuse a test_* database name; nothing here queries the database.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/coveris_serving",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "serve", "--production", "--no-migrate", "--workers", "2", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "the production command did not come up in 60 s"
                time.sleep(0.2)
        statuses = []
        for _ in range(20):  # one connection, kept alive
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()
        assert statuses == [200] * 20
    finally:
        server.terminate()
        server.wait(timeout=30)
