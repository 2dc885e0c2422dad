"""Corrections: HR's manual adjustments and reversals (API and service), and the ledger's immutability in Python
and, on PostgreSQL, in the database itself."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.offer.models import LedgerEntry
from apps.offer.services import ledger_adjust, ledger_reverse
from apps.offer.tests.conftest import D, assert_error, column
from backend import errors
from backend.audit.db import AppendOnlyError

JAN = (D(2026, 1, 5), D(2026, 2, 1))
URL = "/api/hours-ledger/entries/"


def adjustment(employee, **overrides) -> dict:
    return {
        "employee": employee.pk,
        "adjusts": "worked",
        "basis": "total",
        "hours": "6.00",
        "period_start": "2026-01-13",
        "period_end": "2026-01-13",
        "reason": "Forgot to clock in",
        **overrides,
    }


def test_hr_posts_an_adjustment_that_counts_in_its_column(active, auth_client):
    employee = active()
    client, hr = auth_client("hr")
    response = client.post(URL, adjustment(employee), HTTP_X_REQUEST_ID="req-adjust-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("kind", "adjusts", "column", "basis", "hours", "source", "reverses", "reason")} == {
        "kind": "adjustment",
        "adjusts": "worked",
        "column": "worked",
        "basis": "total",
        "hours": "6.00",
        "source": "manual",
        "reverses": None,
        "reason": "Forgot to clock in",
    }
    entry = LedgerEntry.objects.get(pk=body["id"])
    assert (entry.actor_id, entry.actor_email, entry.request_id) == (hr.pk, hr.email, "req-adjust-1")
    assert column(employee, "worked", *JAN) == ["0.00", "6.00", "0.00", "0.00"]


def test_a_negative_weekly_rate_adjustment_lowers_the_contract_over_its_period(active, admin):
    employee = active()
    ledger_adjust(
        actor=admin,
        employee=employee,
        adjusts="contracted",
        basis="weekly_rate",
        hours=Decimal("-10"),
        period_start=D(2026, 1, 14),
        period_end=D(2026, 1, 20),
        reason="Short week agreed",
    )
    # Wed–Sun of week 2 (5/7 × −10) and Mon–Tue of week 3 (2/7 × −10).
    assert column(employee, "contracted", *JAN) == ["40.00", "32.86", "37.14", "40.00"]
    assert column(employee, "available", *JAN) == ["40.00", "32.86", "37.14", "40.00"]


def test_a_total_adjustment_spreads_evenly_over_its_days(active, admin):
    employee = active()
    ledger_adjust(
        actor=admin,
        employee=employee,
        adjusts="assigned",
        hours=Decimal("14"),
        period_start=D(2026, 1, 8),
        period_end=D(2026, 1, 21),  # 14 days: 4 + 7 + 3
        reason="Ad-hoc cover",
    )
    assert column(employee, "assigned", *JAN) == ["4.00", "7.00", "3.00", "0.00"]


def test_reversal_of_a_manual_entry_cancels_it_and_a_second_is_409(active, auth_client):
    employee = active()
    client, hr = auth_client("hr")
    original = client.post(URL, adjustment(employee)).json()

    response = client.post(f"{URL}{original['id']}/reverse/", {"reason": "Entered twice"})
    assert response.status_code == 201, response.content
    reversal = response.json()
    assert (reversal["reverses"], reversal["hours"], reversal["adjusts"], reversal["reason"]) == (
        original["id"],
        "-6.00",
        "worked",
        "Entered twice",
    )
    assert (reversal["period_start"], reversal["period_end"]) == ("2026-01-13", "2026-01-13")
    assert column(employee, "worked", *JAN) == ["0.00"] * 4
    assert client.get(f"{URL}{original['id']}/").json()["reversed_by"] == [reversal["id"]]

    count = LedgerEntry.objects.count()
    error = assert_error(client.post(f"{URL}{original['id']}/reverse/", {"reason": "Again"}), 409, "conflict")
    assert error["details"]["reversed_by"] == reversal["id"]
    assert_error(client.post(f"{URL}{reversal['id']}/reverse/", {"reason": "Undo the undo"}), 409, "conflict")
    assert LedgerEntry.objects.count() == count


def test_automatic_entries_are_not_reversed_by_hand(active, auth_client):
    employee = active()
    client, _ = auth_client("admin")
    contract = LedgerEntry.objects.get(employee=employee)
    error = assert_error(client.post(f"{URL}{contract.pk}/reverse/", {"reason": "No"}), 409, "conflict")
    assert error["details"]["source"] == "employee"
    assert LedgerEntry.objects.count() == 1


def test_reversal_needs_a_reason(active, admin):
    employee = active()
    entry = ledger_adjust(
        actor=admin,
        employee=employee,
        adjusts="leave",
        hours=Decimal(8),
        period_start=D(2026, 1, 5),
        period_end=D(2026, 1, 5),
        reason="Sick day",
    )
    with pytest.raises(errors.InvalidInputError, match="reason"):
        ledger_reverse(actor=admin, entry=entry, reason="   ")
    assert not LedgerEntry.objects.filter(reverses=entry).exists()


def test_the_database_holds_one_manual_reversal_per_entry(active, admin):
    employee = active()
    entry = ledger_adjust(
        actor=admin,
        employee=employee,
        adjusts="leave",
        hours=Decimal(8),
        period_start=D(2026, 1, 5),
        period_end=D(2026, 1, 5),
        reason="Sick day",
    )
    ledger_reverse(actor=admin, entry=entry, reason="Was not sick")
    duplicate = {
        "employee": employee,
        "kind": "adjustment",
        "adjusts": "leave",
        "basis": "total",
        "hours": Decimal(-8),
        "period_start": D(2026, 1, 5),
        "period_end": D(2026, 1, 5),
        "source": "manual",
        "reverses": entry,
        "reason": "Race",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(**duplicate)


# --- append-only -----------------------------------------------------------------------------------


@pytest.fixture
def entry(active) -> LedgerEntry:
    active()
    return LedgerEntry.objects.get()


def test_saving_a_changed_entry_is_refused(entry):
    entry.hours = Decimal(1)
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert LedgerEntry.objects.get().hours == Decimal(40)


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_updates_are_refused(entry):
    with pytest.raises(AppendOnlyError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(hours=0)
    with pytest.raises(AppendOnlyError), transaction.atomic():
        entry.employee.ledger_entries.update(hours=0)
    assert LedgerEntry.objects.get().hours == Decimal(40)


TABLE = LedgerEntry._meta.db_table


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [f"UPDATE {TABLE} SET hours = 0", f"UPDATE {TABLE} SET reason = reason", f"DELETE FROM {TABLE}"],
    ids=["update", "no-op-update", "delete"],
)
def test_raw_sql_update_and_delete_are_refused_by_postgres(entry, sql):
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert LedgerEntry.objects.get().hours == Decimal(40)


@pytest.mark.postgres
def test_postgres_refuses_even_the_base_manager(entry):
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        LedgerEntry._base_manager.filter(pk=entry.pk).update(hours=0)
    assert LedgerEntry.objects.get().hours == Decimal(40)
