"""Log tables are append-only: refused in Python everywhere, and by the database on PostgreSQL."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, models, transaction

from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from backend.audit.chain import chain_verify
from backend.audit.db import AppendOnlyError, AppendOnlyModel

TABLE = EmployeeTransitionLog._meta.db_table


@pytest.fixture
def log_row(make_employee, hr):
    employee = make_employee()
    employee_transition(employee_id=employee.pk, name="activate", actor=hr, reason="start")
    return EmployeeTransitionLog.objects.get()


def append_only_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, AppendOnlyModel)]


# --- Python ---------------------------------------------------------------------------------------


def test_saving_a_changed_row_is_refused(log_row):
    log_row.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        log_row.save()
    with pytest.raises(AppendOnlyError):
        log_row.save(update_fields=["reason"])
    assert EmployeeTransitionLog.objects.get().reason == "start"


def test_deleting_a_row_is_refused(log_row):
    with pytest.raises(AppendOnlyError):
        log_row.delete()
    assert EmployeeTransitionLog.objects.filter(pk=log_row.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda qs: qs.update(reason="x"),
        lambda qs: qs.delete(),
        lambda qs: EmployeeTransitionLog.objects.bulk_update(list(qs), ["reason"]),
    ],
    ids=["update", "delete", "bulk_update"],
)
def test_queryset_updates_and_deletes_are_refused(log_row, change):
    # Each in a savepoint: bulk_update raises inside its own atomic(savepoint=False), dooming the outer one.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        change(EmployeeTransitionLog.objects.all())
    with pytest.raises(AppendOnlyError), transaction.atomic():
        change(log_row.employee.transition_logs.all())  # the related manager too
    assert chain_verify(EmployeeTransitionLog).ok


def test_every_append_only_model_declares_the_database_triggers():
    found = append_only_models()
    assert EmployeeTransitionLog in found
    for model in found:
        names = {t.name for t in getattr(model._meta, "triggers", [])}
        assert {"append_only", "append_only_truncate"} <= names, model


# --- PostgreSQL ----------------------------------------------------------------------------------


def _raw_in_savepoint(sql: str, params=()) -> None:
    # A savepoint, so the test's transaction stays usable after the database refuses.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [f"UPDATE {TABLE} SET reason = 'x'", f"UPDATE {TABLE} SET hash = hash", f"DELETE FROM {TABLE}"],
    ids=["update", "no-op-update", "delete"],
)
def test_raw_sql_update_and_delete_are_refused_by_the_database(log_row, sql):
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"):
        _raw_in_savepoint(sql)
    assert EmployeeTransitionLog.objects.get().reason == "start"


@pytest.mark.postgres
def test_the_database_refuses_even_when_python_is_bypassed(log_row):
    # Django's base manager is a plain Manager: no AppendOnlyQuerySet. The trigger is the guarantee.
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        EmployeeTransitionLog._base_manager.filter(pk=log_row.pk).update(reason="x")
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        models.QuerySet(EmployeeTransitionLog).filter(pk=log_row.pk)._raw_delete(connection.alias)
    assert chain_verify(EmployeeTransitionLog).ok


@pytest.mark.postgres
def test_truncate_is_refused_outside_test_databases(log_row):
    """TRUNCATE is refused everywhere but in databases named ``test_*`` (see ``backend.audit.db``), and pytest runs in
    ``test_<name>``. To see the refusal without a second database, this test makes ``current_database()`` answer
    a production-like name for one savepoint: a function of that name in a scratch schema placed before
    ``pg_catalog`` on the search path (PostgreSQL resolves built-ins through the path when pg_catalog is listed
    explicitly). The trigger, its function and the TRUNCATE are the real ones; only the name is faked, and the
    schema, the function and the setting all roll back with the savepoint.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending FK checks of this transaction
        cursor.execute("CREATE SCHEMA coveris_trunc_check")
        cursor.execute(
            "CREATE FUNCTION coveris_trunc_check.current_database() RETURNS name "
            "LANGUAGE sql AS $$ SELECT 'coveris'::name $$"
        )
        cursor.execute("SET LOCAL search_path = coveris_trunc_check, public, pg_catalog")
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0] == "coveris"  # the disguise works...

        with pytest.raises(DatabaseError, match="TRUNCATE on fsm_employeetransitionlog is refused"):
            _raw_in_savepoint(f"TRUNCATE {TABLE}")  # ...and the trigger refuses

        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_")
    assert EmployeeTransitionLog.objects.filter(pk=log_row.pk).exists()


@pytest.mark.postgres
def test_truncate_is_let_through_in_the_test_database(log_row):
    """The other half of the exception: Django's test flush (TransactionTestCase) truncates every table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {TABLE}")
        assert not EmployeeTransitionLog.objects.exists()
        transaction.set_rollback(True)
    assert EmployeeTransitionLog.objects.exists()


@pytest.mark.postgres
def test_every_append_only_table_has_its_triggers_installed_and_enabled(db):
    """Installed in the database by the migrations, not only declared: BEFORE UPDATE/DELETE per row, BEFORE
    TRUNCATE per statement."""
    row, before, delete, update, truncate = 1, 2, 8, 16, 32
    for model in append_only_models():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.tgtype, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = %s AND NOT t.tgisinternal",
                [model._meta.db_table],
            )
            triggers = cursor.fetchall()
        enabled = [tgtype for tgtype, state in triggers if state == "O"]
        for needed in (row | before | update, row | before | delete, before | truncate):
            assert any(tgtype & needed == needed for tgtype in enabled), (model._meta.db_table, needed, triggers)


@pytest.mark.django_db(transaction=True)
def test_the_test_runners_flush_empties_log_tables(make_employee, hr):
    """A TransactionTestCase (``transaction=True``) ends with a flush: TRUNCATE on PostgreSQL, which the
    truncate trigger lets through in test_* databases. Run here explicitly so a refusal fails a test."""
    employee = make_employee()
    employee_transition(employee_id=employee.pk, name="activate", actor=hr)
    assert EmployeeTransitionLog.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not EmployeeTransitionLog.objects.exists()
