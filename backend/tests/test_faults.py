"""Database faults degrade the service, they do not crash it: 503 with Retry-After, 409 after retries, never 500.

The PostgreSQL tests use real faults: connections killed with ``pg_terminate_backend`` (only this test database's
connections), a pool pointed at a port nothing listens on, a pool whose only connection is held. The others run
everywhere and check the classification and the retry helper with the driver's own exception classes.
"""

import copy
import socket
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.utils import InterfaceError
from psycopg_pool import PoolTimeout
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from backend.db import is_database_unavailable, is_transaction_conflict, retry_on_conflict, sqlstate
from backend.exceptions import ConflictError

BOUND_SLACK = 1.5  # seconds allowed above a configured wait on this shared, noisy machine


def _wrapped(driver_error: Exception) -> OperationalError:
    """A driver error as Django raises it: django.db.OperationalError with the driver's error as its cause."""
    try:
        raise OperationalError(str(driver_error)) from driver_error
    except OperationalError as exc:
        return exc


# --- classification (any database) --------------------------------------------------------------------------------


def test_deadlock_and_serialization_failure_are_conflicts_not_outages():
    for driver_error in (psycopg.errors.DeadlockDetected("deadlock"), psycopg.errors.SerializationFailure("x")):
        exc = _wrapped(driver_error)
        assert is_transaction_conflict(exc)
        assert not is_database_unavailable(exc)
    assert sqlstate(_wrapped(psycopg.errors.DeadlockDetected("deadlock"))) == "40P01"


def test_pool_timeout_broken_connection_and_admin_shutdown_are_outages():
    for exc in (
        _wrapped(PoolTimeout("couldn't get a connection after 3.00 sec")),
        _wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
        _wrapped(psycopg.OperationalError("connection refused")),
        InterfaceError("connection already closed"),
    ):
        assert is_database_unavailable(exc), exc
        assert not is_transaction_conflict(exc)


def test_other_errors_are_neither():
    assert not is_database_unavailable(ValueError("x"))
    assert not is_transaction_conflict(_wrapped(psycopg.errors.UniqueViolation("dup")))


@pytest.mark.django_db
def test_retry_reruns_the_transaction_then_answers_conflict(monkeypatch):
    monkeypatch.setattr("backend.db.time.sleep", lambda seconds: None)
    calls = []

    @retry_on_conflict
    @transaction.atomic
    def collides_twice():
        calls.append(1)
        if len(calls) < 3:
            raise _wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))
        return "done"

    @retry_on_conflict(attempts=2)
    def always_collides():
        calls.append(1)
        raise _wrapped(psycopg.errors.SerializationFailure("could not serialize access"))

    # pytest-django wraps the test in a transaction: leave it, as a request would be outside any transaction.
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", False)
    assert collides_twice() == "done"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(ConflictError):
        always_collides()
    assert len(calls) == 2


@pytest.mark.django_db
def test_no_retry_inside_an_outer_transaction():
    """Inside an outer atomic block the transaction is already doomed: the error goes up unchanged, untried."""
    calls = []

    @retry_on_conflict
    def collides():
        calls.append(1)
        raise _wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))

    with pytest.raises(OperationalError):
        collides()
    assert calls == [1]


@pytest.mark.parametrize(
    ("driver_error", "status", "code"),
    [
        (PoolTimeout("couldn't get a connection after 3.00 sec"), 503, "service_unavailable"),
        (
            psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
            503,
            "service_unavailable",
        ),
        (psycopg.errors.DeadlockDetected("deadlock detected"), 409, "conflict"),
    ],
)
def test_the_api_maps_database_faults_to_503_or_409(monkeypatch, driver_error, status, code):
    """Wherever the fault surfaces in a DRF view (here: authenticating), the error shape, not a 500 (any database)."""

    def fails(self, request):
        raise _wrapped(driver_error)

    monkeypatch.setattr("backend.authentication.CookieJWTAuthentication.authenticate", fails)
    response = APIClient().get("/api/employees/", HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    if status == 503:
        assert int(response["Retry-After"]) > 0
        assert response.json()["error"]["details"] == {"retry_after_seconds": int(response["Retry-After"])}


# --- real faults on PostgreSQL ----------------------------------------------------------------------------------


def _terminate_other_backends() -> int:
    """Kill every connection to this test's own database except the killer's (a fresh, unpooled connection)."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_first_requests_after_the_server_drops_pooled_connections_succeed(auth_client):
    client, _ = auth_client("hr")
    pool = connection.pool
    assert pool is not None, "the PostgreSQL settings use Django's psycopg pool"
    # Several idle pooled connections, as a worker has after a busy moment.
    held = [pool.getconn() for _ in range(4)]
    for pg in held:
        pool.putconn(pg)
    connection.close()  # the test thread's connection goes back to the pool too, as after every request

    assert _terminate_other_backends() >= 4

    statuses = []
    for _ in range(40):
        statuses.append(client.get("/api/employees/").status_code)
        connection.close()  # a request returns its connection at the end (the test client does not)
    assert statuses == [200] * 40
    assert client.get("/readyz").status_code == 200


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


@contextmanager
def _default_database(**changes):
    """Swap the ``default`` connection for one with other settings (its own pool), for this thread; restore after."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    original = connections[DEFAULT_DB_ALIAS]
    settings_dict = copy.deepcopy(original.settings_dict)
    pool_changes = changes.pop("pool", {})
    settings_dict.update(changes)
    settings_dict["OPTIONS"]["pool"] = {**settings_dict["OPTIONS"].get("pool", {}), **pool_changes}
    saved_pool = DatabaseWrapper._connection_pools.pop(DEFAULT_DB_ALIAS, None)
    wrapper = DatabaseWrapper(settings_dict, alias=DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = wrapper
    try:
        yield wrapper
    finally:
        wrapper.close()
        if DEFAULT_DB_ALIAS in DatabaseWrapper._connection_pools:
            wrapper.close_pool()
        connections[DEFAULT_DB_ALIAS] = original
        if saved_pool is not None:
            DatabaseWrapper._connection_pools[DEFAULT_DB_ALIAS] = saved_pool


def _bearer_client() -> APIClient:
    token = AccessToken()
    token["user_id"] = 1  # a well-signed token: authenticating it needs the database
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _assert_503(response, started: float, bound: float) -> None:
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content
    assert int(response["Retry-After"]) > 0
    assert elapsed < bound + BOUND_SLACK, f"answered after {elapsed:.1f}s; the bound is {bound}s"


@pytest.mark.postgres
def test_database_unreachable_is_503_with_retry_after_within_the_pool_timeout(
    django_db_setup, django_db_blocker, settings
):
    settings.READYZ_TIMEOUT = 0.5
    with django_db_blocker.unblock(), _default_database(PORT=str(_closed_port()), pool={"timeout": 1.0}):
        client = _bearer_client()
        for method, path, body in (
            ("get", "/api/employees/", None),
            ("post", "/api/auth/login/", {"email": "hr@example.com", "password": "not-the-password"}),
        ):
            started = time.monotonic()
            response = getattr(client, method)(path, body, format="json")
            _assert_503(response, started, bound=1.0)
            assert response.json()["error"]["code"] == "service_unavailable"
            assert response.json()["error"]["details"] == {"retry_after_seconds": int(response["Retry-After"])}

        started = time.monotonic()
        response = client.get("/readyz")
        _assert_503(response, started, bound=0.5)
        assert response.json()["checks"]["database"] == "unreachable"

        # Outside the API (the admin's session lookup fails in its middleware): 503 with Retry-After too.
        client.cookies["sessionid"] = "x" * 32
        started = time.monotonic()
        _assert_503(client.get("/admin/"), started, bound=1.0)


@pytest.mark.postgres
def test_pool_exhausted_is_503_then_serves_again(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), _default_database(pool={"min_size": 1, "max_size": 1, "timeout": 0.5}) as db:
        client = _bearer_client()
        db.pool.open()
        only = db.pool.getconn()  # another request holds the pool's only connection
        try:
            started = time.monotonic()
            response = client.get("/api/employees/")
            _assert_503(response, started, bound=0.5)
            assert response.json()["error"]["code"] == "service_unavailable"
        finally:
            db.pool.putconn(only)
        db.close()
        # The connection is back: the same request reaches the database again (no such user → 401, not 503).
        assert client.get("/api/employees/").status_code == 401


# --- deadlocks: retried, then 409; never 500 ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_both_transactions_succeed():
    """Two threads lock rows A then B and B then A, in step (barrier): PostgreSQL aborts one with a deadlock, the
    helper re-runs it, and both end up done — deterministic, whichever thread PostgreSQL picks."""
    from apps.api.models import OrgUnit
    from apps.api.services import org_unit_create

    a, b = org_unit_create(code="DLA", name="A"), org_unit_create(code="DLB", name="B")
    barrier = threading.Barrier(2, timeout=10)
    attempts: list[str] = []
    outcomes: dict[str, str] = {}

    def lock_in_order(label, first, second):
        @retry_on_conflict
        @transaction.atomic
        def work():
            attempts.append(label)
            OrgUnit.objects.select_for_update().get(pk=first.pk)
            if attempts.count(label) == 1:
                barrier.wait()  # both hold their first row; now each asks for the other's
            OrgUnit.objects.select_for_update().get(pk=second.pk)
            OrgUnit.objects.filter(pk=first.pk).update(name=f"{label} was here")

        try:
            work()
            outcomes[label] = "done"
        except Exception as exc:  # a deadlock reaching the caller is the failure this test exists for
            outcomes[label] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=lock_in_order, args=("AB", a, b)),
        threading.Thread(target=lock_in_order, args=("BA", b, a)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes == {"AB": "done", "BA": "done"}
    assert len(attempts) == 3, f"exactly one transaction ran twice: {attempts}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("attempts", "expected"), [(1, [200, 409]), (3, [200, 200])])
def test_crossing_transitions_over_http_answer_200_or_409_never_500(
    settings, auth_client, monkeypatch, attempts, expected
):
    """Two employee transitions over HTTP, each made to lock the other's employee first, in step: a real deadlock.
    With one attempt allowed the victim answers 409 conflict; with retries both succeed. Never a 500."""
    import dataclasses

    from apps.api.api.views import EmployeeViewSet
    from apps.api.models import Employee
    from apps.api.tests.factories import EmployeeFactory
    from apps.fsm.services import EMPLOYEE_TRANSITIONS

    settings.DATABASE_TRANSACTION_ATTEMPTS = attempts
    first, second = EmployeeFactory(), EmployeeFactory()
    other = {first.pk: second.pk, second.pk: first.pk}
    barrier = threading.Barrier(2, timeout=10)
    calls: list[int] = []

    def lock_the_other_first(pk):
        calls.append(pk)
        list(Employee.objects.select_for_update().filter(pk=other[pk]).values_list("pk", flat=True))
        if calls.count(pk) == 1:
            barrier.wait()  # both hold the other's row; the transition now locks its own: a cycle

    kind = dataclasses.replace(EMPLOYEE_TRANSITIONS, lock_related=lock_the_other_first)
    monkeypatch.setattr(EmployeeViewSet, "transition_kind", kind)
    clients = [auth_client("hr")[0] for _ in range(2)]
    statuses: list[int] = []

    def request(client, employee):
        try:
            body = {"transition": "activate", "reason": "first day", "effective_date": "2026-01-05"}
            statuses.append(client.post(f"/api/employees/{employee.pk}/transitions/", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=args) for args in ((clients[0], first), (clients[1], second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == expected
    assert len(calls) == (2 if attempts == 1 else 3)  # with retries, the victim ran its transaction twice
