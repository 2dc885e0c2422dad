"""PostgreSQL: two crossing moves of org units (A under B, B under A) at once: one wins, one gets the cycle 400."""

import threading

import pytest
from django.db import connection

from apps.api.models import OrgUnit
from apps.api.services import org_unit_create, org_unit_update
from backend.errors import InvalidInputError


def _move_concurrently(moves) -> list[str]:
    barrier = threading.Barrier(len(moves))
    results: list[str] = []

    def run(unit, parent):
        try:
            barrier.wait()
            org_unit_update(unit=unit, parent=parent)
            results.append("moved")
        except InvalidInputError as exc:
            results.append("refused" if "parent" in exc.details else repr(exc))
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_crossing_subtree_moves_wait_for_each_other(monkeypatch):
    """D under A, C under B; "A under C" and "B under D" at once. Both read their subtree before either locks,
    then lock subtree + new parent in pk order: one waits, then sees the other's move and refuses the cycle —
    no deadlock (which answered 500 when only the unit and its new parent were locked)."""
    import threading

    from django.db import connection

    from apps.api import services as api_services
    from apps.api.models import OrgUnit
    from apps.api.services import org_unit_create, org_unit_update

    a, b = org_unit_create(code="A", name="A"), org_unit_create(code="B", name="B")
    c = org_unit_create(code="C", name="C", parent=b)
    d = org_unit_create(code="D", name="D", parent=a)
    barrier = threading.Barrier(2, timeout=10)
    real_lock_move = api_services._lock_move

    def lock_move_together(unit_pk, new_parent_pk):
        barrier.wait()  # both have read their unit's path; now both try to lock
        return real_lock_move(unit_pk, new_parent_pk)

    monkeypatch.setattr(api_services, "_lock_move", lock_move_together)
    outcomes: dict[str, str] = {}

    def move(label, unit, parent):
        try:
            org_unit_update(unit=OrgUnit.objects.get(pk=unit.pk), parent=OrgUnit.objects.get(pk=parent.pk))
            outcomes[label] = "moved"
        except InvalidInputError:
            outcomes[label] = "refused"
        except Exception as exc:  # a deadlock or anything else is the failure this test exists for
            outcomes[label] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=("A→C", a, c)), threading.Thread(target=move, args=("B→D", b, d))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["moved", "refused"], outcomes
    for unit in OrgUnit.objects.select_related("parent"):
        expected = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
        assert unit.path == expected, (unit.code, unit.path, expected)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_three_crossing_moves_never_deadlock(attempt, monkeypatch, settings):
    """A→B, B→C and C→A at once (issue 11): each move locks subtree + new parent in pk order, but a move that waited
    could then rewrite rows another move had just put under its subtree — out of order, a deadlock (500). Moves now
    take one advisory lock first, so they run one at a time: every outcome is a move or a cycle refusal."""
    from apps.api import services as api_services

    settings.DATABASE_TRANSACTION_ATTEMPTS = 1  # no retry to hide a deadlock: it would surface as a ConflictError
    a, b, c = (org_unit_create(code=f"{name}{attempt}", name=name) for name in "ABC")
    barrier = threading.Barrier(3, timeout=10)
    real_serialize = api_services._serialize_moves

    def all_at_once():
        barrier.wait()  # the three transactions are open and about to lock
        real_serialize()

    monkeypatch.setattr(api_services, "_serialize_moves", all_at_once)
    results = _move_concurrently([(a, b), (b, c), (c, a)])
    assert sorted(results) == ["moved", "moved", "refused"], results
    for unit in OrgUnit.objects.select_related("parent").filter(pk__in=[a.pk, b.pk, c.pk]):
        expected = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
        assert unit.path == expected, (unit.code, unit.path, expected)
