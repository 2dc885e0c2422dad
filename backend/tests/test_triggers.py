"""``backend.triggers``: row triggers' ignore checks take no exception path inside a bulk transaction, and still
decide exactly as before (nothing ignored unless asked, the asked trigger ignored inside its block)."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.api.models import Employee
from apps.api.tests.factories import EmployeeFactory
from apps.audit_log.models import EmployeeEvent
from backend import triggers

pytestmark = pytest.mark.postgres


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        return cursor.fetchone()[0]


def _check_raises_inside() -> bool:
    """Whether ``_pgtrigger_should_ignore``'s read of the setting raises (its exception path): the same read and
    cast, in a savepoint."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT CAST(current_setting('pgtrigger.ignore') AS text[])")
    except DatabaseError:
        return True
    return False


def _rename(employee, name: str) -> int:
    """Update one tracked column; returns how many change-history rows the employee has after it."""
    Employee.objects.filter(pk=employee.pk).update(first_name=name)
    return EmployeeEvent.objects.filter(pgh_obj_id=employee.pk).count()


def test_the_checks_read_a_valid_empty_list_and_still_ignore_nothing(db):
    employee = EmployeeFactory()
    before = EmployeeEvent.objects.filter(pgh_obj_id=employee.pk).count()
    triggers.checks_without_exceptions()
    assert _setting() == "{}"
    assert not _check_raises_inside()
    with connection.cursor() as cursor:
        cursor.execute("SELECT _pgtrigger_should_ignore('pgtrigger_update_update_a6a7a')")
        assert cursor.fetchone()[0] is False
    assert _rename(employee, "Changed") == before + 1  # the history trigger still writes


def test_pgtrigger_ignore_leaves_an_empty_setting_and_ours_restores_the_empty_list(db):
    import pgtrigger

    employee = EmployeeFactory()
    count = EmployeeEvent.objects.filter(pgh_obj_id=employee.pk).count()
    with pgtrigger.ignore("api.Employee:update_update"):
        pass
    assert _check_raises_inside()  # what pgtrigger leaves behind: every later check raises and rolls back
    with triggers.ignore("api.Employee:update_update"):
        assert _rename(employee, "Ignored") == count  # ignored inside the block
    assert _setting() == "{}"
    assert not _check_raises_inside()
    assert _rename(employee, "Tracked") == count + 1  # and tracked again after it


@pytest.mark.django_db(transaction=True)
def test_the_setting_is_local_to_the_transaction():
    with transaction.atomic():
        triggers.checks_without_exceptions()
        assert _setting() == "{}"
    assert _setting() != "{}"


def test_outside_a_transaction_or_postgresql_it_does_nothing(monkeypatch, db):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    triggers.checks_without_exceptions()  # no statement: SQLite has no such setting
    monkeypatch.undo()
    assert _setting() != "{}"
