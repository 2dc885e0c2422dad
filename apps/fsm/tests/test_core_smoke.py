import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from apps.api.services import employee_create, org_unit_create
from apps.fsm.chain import chain_verify
from apps.fsm.models import EmployeeTransitionLog
from apps.fsm.services import employee_transition


@pytest.fixture
def employee(db):
    unit = org_unit_create(code="ROOT", name="Root")
    return employee_create(
        employee_number="E1",
        first_name="Ada",
        last_name="L",
        email="ada@x.test",
        org_unit=unit,
        hire_date=datetime.date(2026, 1, 1),
    )


def test_activate_writes_chained_log(employee, make_user):
    actor = make_user("hr")
    outcome = employee_transition(employee_id=employee.pk, name="activate", actor=actor, reason="start")
    outcome2 = employee_transition(employee_id=employee.pk, name="start_leave", actor=actor)
    assert outcome.instance.state == "active" and outcome2.instance.state == "on_leave"
    rows = list(EmployeeTransitionLog.objects.order_by("id"))
    assert [r.transition for r in rows] == ["activate", "start_leave"]
    assert rows[1].prev_hash == rows[0].hash and rows[0].actor_email == actor.email
    assert chain_verify(EmployeeTransitionLog).ok


@pytest.mark.postgres
def test_raw_update_refused(employee, make_user):
    employee_transition(employee_id=employee.pk, name="activate", actor=make_user("hr"))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE fsm_employeetransitionlog SET reason = 'x'")
