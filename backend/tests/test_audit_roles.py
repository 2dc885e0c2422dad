"""The application's least-privilege role cannot change an audit row by any statement it can send: UPDATE, DELETE
and TRUNCATE are refused with and without ``SET pgtrigger.ignore``, and it cannot switch triggers off."""

import pgtrigger
import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.api.tests.factories import EmployeeFactory
from apps.fsm.models import EmployeeTransitionLog
from backend.audit.chain import chain_append

pytestmark = pytest.mark.postgres

TABLE = EmployeeTransitionLog._meta.db_table


@pytest.fixture
def app_role(transactional_db):
    """A login role named after this test database (roles are cluster-wide: parallel test runs must not share one),
    granted as ``manage.py grant_app_role`` does; dropped afterwards."""
    database = connection.settings_dict["NAME"]
    role = f"app_{database}"[:63]
    password = "app-role-test-password"
    with connection.cursor() as cursor:
        if _exists(cursor, role):  # left over by an interrupted run
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')
        cursor.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE")
    call_command("grant_app_role", role=role)
    params = {**connection.get_connection_params(), "user": role, "password": password, "dbname": database}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    try:
        yield params
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def _exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def _as_app(params, *statements):
    """Run ``statements`` in one transaction as the app role; the error the last one raised (None: all ran)."""
    with psycopg.connect(**params, autocommit=False) as conn:
        try:
            with conn.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        except psycopg.Error as exc:
            conn.rollback()
            return exc
        conn.rollback()
        return None


def test_the_app_role_cannot_change_an_audit_row_by_any_statement(app_role):
    employee = EmployeeFactory()
    row = chain_append(
        EmployeeTransitionLog, employee=employee, transition="activate", source_state="pending", target_state="active"
    )
    # The exact value pgtrigger.ignore() sets, the one that lets the owner's UPDATE through.
    with pgtrigger.ignore("fsm.EmployeeTransitionLog:append_only"), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        [value] = cursor.fetchone()
    assert value
    ignore = f"SELECT set_config('pgtrigger.ignore', '{value}', true)"
    attempts = {
        "update": f"UPDATE {TABLE} SET reason = 'x' WHERE id = {row.pk}",
        "delete": f"DELETE FROM {TABLE} WHERE id = {row.pk}",
        "truncate": f"TRUNCATE {TABLE} CASCADE",
    }
    for name, statement in attempts.items():
        for prefix in ([], [ignore]):
            error = _as_app(app_role, *prefix, statement)
            assert isinstance(error, psycopg.errors.InsufficientPrivilege), (name, prefix, error)
    for statement in (
        f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
    ):
        assert isinstance(_as_app(app_role, statement), psycopg.errors.InsufficientPrivilege), statement

    # What it may do: read the log, append to it, and change domain rows.
    assert _as_app(app_role, f"SELECT count(*) FROM {TABLE}") is None
    assert _as_app(app_role, f"UPDATE api_employee SET first_name = 'Ok' WHERE id = {employee.pk}") is None
    assert EmployeeTransitionLog.objects.get(pk=row.pk).hash == row.hash


def _privileges(role: str, table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p "
            "WHERE has_table_privilege(%s, %s, p)",
            [role, table],
        )
        return {p for (p,) in cursor.fetchall()}


def test_release_migrate_migrates_then_grants_the_app_role_least_privilege(app_role):
    role = app_role["user"]
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    assert _privileges(role, "api_employee") == set()

    call_command("release_migrate", database="default", role=role, verbosity=0)

    assert _privileges(role, "api_employee") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    for table in (TABLE, "audit_core_checkpoint", "audit_log_employeeevent", "audit_log_chainverification"):
        assert _privileges(role, table) == {"SELECT", "INSERT"}, table


def test_every_append_only_table_is_an_audit_table_for_the_grants():
    from django.apps import apps

    from backend.audit.db import AppendOnlyModel
    from backend.audit.roles import audit_tables

    append_only = {m._meta.db_table for m in apps.get_models() if issubclass(m, AppendOnlyModel)}
    assert "audit_log_chainverification" in append_only
    assert append_only <= set(audit_tables())


def test_release_migrate_without_an_owner_is_a_plain_migrate(monkeypatch):
    from backend.management.commands import release_migrate

    calls = []
    monkeypatch.setattr(release_migrate, "owner_alias", lambda: None)  # DATABASE_OWNER_URL unset
    monkeypatch.setattr(release_migrate, "call_command", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(release_migrate, "grant_app_role", lambda *args, **kwargs: calls.append(("grant", args)))
    call_command("release_migrate", verbosity=0)
    assert calls == [(("migrate",), {"database": "default", "interactive": False, "verbosity": 0})]


def test_release_migrate_with_an_owner_migrates_as_it_and_grants_the_default_role(monkeypatch):
    from backend.management.commands import release_migrate

    calls = []
    monkeypatch.setattr(release_migrate, "owner_alias", lambda: "default")  # the test database stands in for it
    monkeypatch.setattr(release_migrate, "call_command", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(release_migrate, "grant_app_role", lambda role, using: calls.append(("grant", role)))
    monkeypatch.setitem(connection.settings_dict, "USER", "the_owner")
    with pytest.raises(CommandError, match="same role"):
        call_command("release_migrate", verbosity=0)  # DATABASE_URL's user is the owner here: refused
    call_command("release_migrate", role="coveris_app", verbosity=0)
    assert calls[-2:] == [
        (("migrate",), {"database": "default", "interactive": False, "verbosity": 0}),
        ("grant", "coveris_app"),
    ]
