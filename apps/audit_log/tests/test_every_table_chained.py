"""Every audit table is hash-chained: rows written by the real services verify, and one edited row in any of
them (triggers switched off, as the table owner could) is reported by the API and the command, naming the table
and the row."""

import io

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.assignments.models import AssignmentTransitionLog
from apps.assignments.services import assignment_create, assignment_transition
from apps.audit_log.tests.conftest import VERIFY_URL
from apps.business_rules.models import BusinessRuleVersion
from apps.business_rules.services import rule_create
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition
from apps.offer.models import LedgerEntry
from apps.tags.models import TagCatalog, TagChangeLog
from apps.tags.services import employee_tag_add
from backend.audit.chain import chain_verify, chained_log_models

# (model, a text column an attacker might rewrite)
TABLES = [
    (EmployeeTransitionLog, "reason"),
    (AssignmentTransitionLog, "reason"),
    (LedgerEntry, "reason"),
    (TagChangeLog, "actor_email"),
    (BusinessRuleVersion, "snapshot"),
]


@pytest.fixture
def audit_rows(hr_user):
    """At least two rows in every audit table, each written by its real service."""
    import datetime
    from decimal import Decimal

    for _ in range(2):
        employee = EmployeeFactory(contracted_weekly_hours=40)
        employee_transition(employee_id=employee.pk, name="activate", actor=hr_user, reason="start")
        assignment, *_ = assignment_create(
            actor=hr_user,
            employee=employee,
            position=PositionFactory(),
            start_date=datetime.date(2026, 2, 2),
            weekly_hours=Decimal(10),
        )
        assignment_transition(assignment_id=assignment.pk, name="approve", actor=hr_user, reason="ok")
        employee_tag_add(
            employee=employee, tag=TagCatalog.objects.create(code=f"T{employee.pk}", name="t"), actor=hr_user
        )
    for code in ("R_ONE", "R_TWO"):
        rule_create(
            actor=hr_user,
            code=code,
            name=code,
            rule_type="employee_state",
            params={"states": ["active"]},
            events=["assignment.approve"],
            is_active=False,
        )


def test_the_services_write_verifiable_chains_in_every_audit_table(audit_rows):
    assert {model for model, _ in TABLES} <= set(chained_log_models())
    for model, _ in TABLES:
        report = chain_verify(model)
        assert report.ok, report
        assert report.checked >= 2, report
        rows = list(model.objects.order_by("id"))
        assert rows[0].prev_hash in ("", *[r.hash for r in rows])  # the migration may have sealed earlier rows
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


@pytest.mark.postgres
@pytest.mark.parametrize(("model", "column"), TABLES, ids=[m._meta.db_table for m, _ in TABLES])
def test_an_edited_row_in_any_audit_table_is_reported_with_its_table_and_id(model, column, audit_rows, auth_client):
    target = model.objects.order_by("id")[1]
    table = model._meta.db_table
    value = '{"forged": true}' if column == "snapshot" else "forged"
    uri = f"{model._meta.app_label}.{model.__name__}:append_only"
    with pgtrigger.ignore(uri), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, target.pk])  # noqa: S608

    body = auth_client("auditor")[0].get(VERIFY_URL).json()
    assert body["ok"] is False
    broken = {t["table"]: t["first_broken_id"] for t in body["tables"] if not t["ok"]}
    assert broken == {table: target.pk}

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit_chain", "--skip-states", stdout=out)
    assert f"{table}: BROKEN at id {target.pk}" in out.getvalue()
    assert sum("BROKEN" in line for line in out.getvalue().splitlines()) == 1
