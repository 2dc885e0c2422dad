"""PostgreSQL: two crossing moves of org units (A under B, B under A) at once: one wins, one gets the cycle 400."""

import threading

import pytest
from django.db import connection
from rest_framework.exceptions import ValidationError

from apps.api.models import OrgUnit
from apps.api.services import org_unit_create, org_unit_update


def _move_concurrently(moves) -> list[str]:
    barrier = threading.Barrier(len(moves))
    results: list[str] = []

    def run(unit, parent):
        try:
            barrier.wait()
            org_unit_update(unit=unit, parent=parent)
            results.append("moved")
        except ValidationError as exc:
            results.append("refused" if "parent" in exc.detail else repr(exc))
        except Exception as exc:  # a deadlock or any other database error is a failure of the test
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=move) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(10))
def test_crossing_moves_neither_deadlock_nor_make_a_cycle(attempt):
    a = org_unit_create(code=f"A{attempt}", name="A")
    b = org_unit_create(code=f"B{attempt}", name="B")
    results = _move_concurrently([(a, b), (b, a)])
    assert sorted(results) == ["moved", "refused"], results
    a.refresh_from_db()
    b.refresh_from_db()
    upper, lower = (a, b) if b.parent_id == a.pk else (b, a)
    assert upper.parent_id is None
    assert lower.path == f"/{upper.pk}/{lower.pk}/"
    assert OrgUnit.objects.filter(path__startswith=upper.path).count() == 2
