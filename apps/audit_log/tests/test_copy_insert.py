"""``copy_insert`` (``COPY`` on PostgreSQL) writes what ``bulk_create`` writes, and chained rows written through it
(``ChainedQuerySet.bulk_create``) verify: ids in list order, every column as ``bulk_create`` stores it (ADR 0032)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import Assignment
from apps.fsm.models import EmployeeTransitionLog
from apps.offer.models import LedgerEntry
from backend.audit.chain import chain_verify
from backend.bulk_copy import copy_insert

SKIP = {"id", "created_at", "updated_at", "prev_hash", "hash"}


def _values(model, ids) -> list[dict]:
    rows = model.objects.filter(pk__in=ids).order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in SKIP} for row in rows]


def _assignments(employees, position, start: datetime.date) -> list[Assignment]:
    return [
        Assignment(
            employee=e,
            position=position,
            start_date=start,
            end_date=None if i % 2 else start + datetime.timedelta(days=30),
            weekly_hours=Decimal("12.50") + i,
        )
        for i, e in enumerate(employees)
    ]


def _activation_log(employee, reason: str, day: datetime.date, **fields) -> EmployeeTransitionLog:
    return EmployeeTransitionLog(
        employee=employee,
        transition="activate",
        source_state="pending",
        target_state="active",
        reason=reason,
        effective_date=day,
        **fields,
    )


@pytest.mark.django_db
def test_copy_insert_writes_what_bulk_create_writes():
    employees = EmployeeFactory.create_batch(4)
    first, second, third = PositionFactory.create_batch(3)  # one per path: no two open assignments overlap
    day = datetime.date(2026, 3, 2)
    with transaction.atomic():
        by_bulk = Assignment.objects.bulk_create(_assignments(employees, first, day))
        with CaptureQueriesContext(connection) as queries:
            by_copy = copy_insert(Assignment, _assignments(employees, second, day))
    if connection.vendor == "postgresql":  # the rows went through COPY, not an INSERT
        assert not [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    copied = _values(Assignment, [a.pk for a in by_copy])
    assert {r.pop("position_id") for r in copied} == {second.pk}
    bulk = _values(Assignment, [a.pk for a in by_bulk])
    assert {r.pop("position_id") for r in bulk} == {first.pk}
    assert copied == bulk
    ids = [a.pk for a in by_copy]
    assert ids == sorted(ids)
    assert min(ids) > max(a.pk for a in by_bulk)
    assert all(not a._state.adding for a in by_copy)
    stored = Assignment.objects.in_bulk(ids)
    assert all(stored[a.pk].created_at is not None and stored[a.pk].updated_at is not None for a in by_copy)
    # The sequence moved past the copied ids: the next ordinary insert takes a larger one.
    later = Assignment.objects.create(employee=employees[0], position=third, start_date=day, weekly_hours=1)
    assert later.pk > max(ids)


@pytest.mark.postgres  # the exclusion constraint is PostgreSQL's
@pytest.mark.django_db
def test_a_constraint_copy_breaks_is_an_integrity_error_as_for_an_insert():
    employee, position = EmployeeFactory(), PositionFactory()
    day = datetime.date(2026, 3, 2)
    copy_insert(Assignment, _assignments([employee], position, day))
    with pytest.raises(IntegrityError), transaction.atomic():  # the exclusion constraint: overlapping, same position
        copy_insert(Assignment, _assignments([employee], position, day))


@pytest.mark.django_db
def test_copy_insert_refuses_objects_that_already_have_ids():
    employee = EmployeeFactory()
    position = PositionFactory()
    row = _assignments([employee], position, datetime.date(2026, 3, 2))[0]
    row.pk = 10**9
    if connection.vendor == "postgresql":
        with pytest.raises(ValueError, match="primary key"):
            copy_insert(Assignment, [row])


@pytest.mark.django_db
def test_chained_rows_written_by_copy_verify_and_equal_the_per_row_path():
    employee = EmployeeFactory()
    rule_results = [{"rule": "DEMO_X", "outcome": "pass", "observed": Decimal("1.50"), "on": datetime.date(2026, 1, 5)}]

    def log(n: int) -> EmployeeTransitionLog:
        day = datetime.date(2026, 1, n)
        return _activation_log(employee, f"reason {n}", day, actor_email="hr@example.test", rule_results=rule_results)

    one = log(1)
    one.save()  # the per-row path
    many = EmployeeTransitionLog.objects.bulk_create([log(n) for n in range(2, 6)])  # COPY on PostgreSQL
    after = log(6)
    after.save()  # and the chain goes on after them
    ids = [one.pk, *(row.pk for row in many), after.pk]
    assert ids == sorted(ids)
    report = chain_verify(EmployeeTransitionLog)
    assert report.ok, report.as_dict()
    assert report.checked == 6
    rows = _values(EmployeeTransitionLog, ids)
    assert [r["reason"] for r in rows] == [f"reason {n}" for n in range(1, 7)]
    assert all(r["rule_results"] == rows[0]["rule_results"] for r in rows)
    assert rows[0]["rule_results"][0]["observed"] == "1.50"  # stored as JSON gives it back, as hashed


@pytest.mark.django_db
def test_ledger_postings_through_copy_verify():
    employee = EmployeeFactory()
    rows = [
        LedgerEntry(
            employee=employee,
            kind="contracted",
            basis="weekly_rate",
            hours=Decimal(h),
            period_start=datetime.date(2026, 1, 5),
            source="employee",
        )
        for h in (40, -40, 36)
    ]
    created = LedgerEntry.objects.bulk_create(rows)
    assert [r.pk for r in created] == sorted(r.pk for r in created)
    assert list(LedgerEntry.objects.order_by("pk").values_list("hours", flat=True)) == [
        Decimal("40.00"),
        Decimal("-40.00"),
        Decimal("36.00"),
    ]
    report = chain_verify(LedgerEntry)
    assert report.ok, report.as_dict()


@pytest.mark.django_db
def test_prepare_runs_on_each_row_in_list_order_before_the_row_is_written():
    employees = EmployeeFactory.create_batch(3)
    position = PositionFactory()
    seen = []

    def prepare(assignment):
        seen.append(assignment.pk)
        assignment.notes = f"prepared as row {len(seen)}"  # written: the row goes out after this

    with transaction.atomic():
        created = copy_insert(Assignment, _assignments(employees, position, datetime.date(2026, 3, 2)), prepare=prepare)
    ids = [a.pk for a in created]
    assert len(seen) == 3
    if connection.vendor == "postgresql":  # COPY: each row has its id (taken first, in list order) when prepared
        assert seen == ids
    stored = Assignment.objects.filter(pk__in=ids).order_by("pk").values_list("notes", flat=True)
    assert list(stored) == ["prepared as row 1", "prepared as row 2", "prepared as row 3"]


@pytest.mark.django_db
def test_a_row_that_fails_to_seal_half_way_through_the_copy_writes_none_of_them_and_the_chain_goes_on():
    employee = EmployeeFactory()

    def log(reason: str) -> EmployeeTransitionLog:
        return _activation_log(employee, reason, datetime.date(2026, 1, 5), rule_results=[])

    EmployeeTransitionLog.objects.bulk_create([log("before")])
    broken = [log("first"), log("second"), log("third")]
    broken[1].rule_results = [object()]  # not JSON: sealing this row raises once the first row is on its way
    with pytest.raises(TypeError), transaction.atomic():
        EmployeeTransitionLog.objects.bulk_create(broken)
    assert list(EmployeeTransitionLog.objects.values_list("reason", flat=True)) == ["before"]
    EmployeeTransitionLog.objects.bulk_create([log("after")])
    assert list(EmployeeTransitionLog.objects.order_by("pk").values_list("reason", flat=True)) == ["before", "after"]
    report = chain_verify(EmployeeTransitionLog)
    assert report.ok, report.as_dict()
