"""The production command: `serve --production` exec()s granian with the workers asked for; the Dockerfile and
App Runner both use it; and it really serves (two workers, keep-alive) with the production settings."""

import http.client
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from backend.serving import free_port, production_environment, running_server

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


@pytest.mark.postgres
def test_the_production_command_serves_keep_alive_requests_with_two_workers(django_db_setup):
    from django.conf import settings

    try:
        port = free_port()
    except RuntimeError:
        pytest.skip("no free port in 8100-8199")
    db = settings.DATABASES["default"]
    # The production settings refuse a test_* database name; nothing here queries the database.
    env = production_environment(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/coveris_serving"
    )
    command = [sys.executable, "manage.py", "serve", "--production", "--no-migrate", "--workers", "2"]
    with running_server([*command, "--port", str(port)], port=port, env=env):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        statuses = []
        for _ in range(20):  # one connection, kept alive
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()
    assert statuses == [200] * 20


def test_a_server_that_exits_is_reported_with_its_error():
    command = [sys.executable, "-c", "import sys; sys.stderr.write('cannot bind'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match="exited with 3: cannot bind"), running_server(command, port=1, env={}):
        pass
