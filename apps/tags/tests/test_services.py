import datetime

import pytest
from django.utils import timezone

from apps.api.tests.factories import EmployeeFactory, PositionFactory
from apps.tags import services
from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from apps.tags.tests.factories import EmployeeTagFactory, PositionTagFactory, TagCatalogFactory
from backend.errors import ConflictError, InvalidInputError
from backend.request_context import current_request_id

D = datetime.date


@pytest.fixture
def hr(make_user):
    return make_user("hr")


@pytest.fixture
def employee(db):
    return EmployeeFactory()


@pytest.fixture
def position(db):
    return PositionFactory()


@pytest.fixture
def tag(db):
    return TagCatalogFactory(code="forklift", name="Forklift licence")


@pytest.fixture
def request_id():
    token = current_request_id.set("req-123")
    yield "req-123"
    current_request_id.reset(token)


class Boom(Exception):
    pass


@pytest.fixture
def fail_after_log(monkeypatch):
    """Make the service raise right after it wrote its log row, inside its transaction."""
    real_log = services._log

    def _log_then_fail(**kwargs):
        real_log(**kwargs)
        assert TagChangeLog.objects.count() == 1  # the row was written before the failure
        raise Boom

    monkeypatch.setattr(services, "_log", _log_then_fail)


# --- employee tags ------------------------------------------------------------------------------


def test_employee_tag_add_writes_one_log_row(employee, tag, hr, request_id):
    et = services.employee_tag_add(
        employee=employee, tag=tag, actor=hr, level=4, valid_from=D(2026, 2, 1), valid_until=D(2026, 12, 31)
    )

    row = TagChangeLog.objects.get()
    assert (row.action, row.target_type, row.target_id) == ("add", "employee", et.pk)
    assert (row.employee_id, row.position_id, row.tag_id) == (employee.pk, None, tag.pk)
    assert row.before is None
    assert row.after == {
        "employee": employee.pk,
        "tag": tag.pk,
        "tag_code": "forklift",
        "level": 4,
        "valid_from": "2026-02-01",
        "valid_until": "2026-12-31",
    }
    assert (row.actor, row.actor_email, row.request_id) == (hr, hr.email, "req-123")
    assert row.created_at is not None


def test_employee_tag_add_defaults_to_today_open_ended(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr)
    assert (et.level, et.valid_until) == (1, None)
    assert et.valid_from == timezone.localdate()
    row = TagChangeLog.objects.get()
    assert row.after["valid_until"] is None
    assert row.request_id == ""  # no request in flight: "-" is stored as blank


def test_employee_tag_change_logs_before_and_after(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr, level=2, valid_from=D(2026, 1, 1))
    other = hr.__class__.objects.create_user(email="other-hr@coveris.test", password="x", role="hr")

    services.employee_tag_change(employee_tag=et, actor=other, level=5, valid_until=D(2026, 6, 30))

    row = TagChangeLog.objects.order_by("id").last()
    assert TagChangeLog.objects.count() == 2
    assert (row.action, row.target_id, row.actor, row.actor_email) == ("change", et.pk, other, other.email)
    assert row.before["level"] == 2
    assert row.before["valid_until"] is None
    assert row.after["level"] == 5
    assert row.after["valid_until"] == "2026-06-30"
    assert row.after["valid_from"] == row.before["valid_from"] == "2026-01-01"
    et.refresh_from_db()
    assert (et.level, et.valid_until) == (5, D(2026, 6, 30))


def test_employee_tag_change_can_reopen_the_period(employee, tag, hr):
    et = services.employee_tag_add(
        employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1), valid_until=D(2026, 3, 1)
    )
    services.employee_tag_change(employee_tag=et, actor=hr, valid_until=None)
    et.refresh_from_db()
    assert et.valid_until is None
    assert TagChangeLog.objects.order_by("id").last().after["valid_until"] is None


def test_employee_tag_noop_change_writes_nothing(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr, level=3, valid_from=D(2026, 1, 1))

    services.employee_tag_change(employee_tag=et, actor=hr, level=3, valid_from=D(2026, 1, 1), valid_until=None)
    services.employee_tag_change(employee_tag=et, actor=hr)

    assert TagChangeLog.objects.count() == 1


def test_employee_tag_remove_logs_what_was_there(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr, level=7, valid_from=D(2026, 1, 1))
    et_id = et.pk

    services.employee_tag_remove(employee_tag=et, actor=hr)

    assert not EmployeeTag.objects.filter(pk=et_id).exists()
    row = TagChangeLog.objects.order_by("id").last()
    assert (row.action, row.target_type, row.target_id, row.employee_id) == ("remove", "employee", et_id, employee.pk)
    assert row.before["level"] == 7
    assert row.after is None
    assert row.actor == hr


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"level": 0}, "level"),
        ({"level": 11}, "level"),
        ({"level": True}, "level"),
        ({"valid_from": D(2026, 5, 1), "valid_until": D(2026, 4, 30)}, "valid_until"),
    ],
)
def test_employee_tag_add_refuses_bad_values_and_writes_nothing(employee, tag, hr, kwargs, field):
    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_add(employee=employee, tag=tag, actor=hr, **kwargs)
    assert field in exc.value.details
    assert not EmployeeTag.objects.exists()
    assert not TagChangeLog.objects.exists()


def test_employee_tag_same_day_period_is_fine(employee, tag, hr):
    et = services.employee_tag_add(
        employee=employee, tag=tag, actor=hr, valid_from=D(2026, 5, 1), valid_until=D(2026, 5, 1)
    )
    assert et.pk


def test_inactive_tag_cannot_be_newly_assigned(employee, hr):
    retired = TagCatalogFactory(is_active=False)
    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_add(employee=employee, tag=retired, actor=hr)
    assert "inactive" in str(exc.value.details["tag"][0])
    assert not EmployeeTag.objects.exists()
    assert not TagChangeLog.objects.exists()


def test_existing_holders_of_a_deactivated_tag_can_still_be_changed(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr, level=1)
    services.tag_catalog_update(tag=tag, is_active=False)
    services.employee_tag_change(employee_tag=et, actor=hr, level=2)
    assert TagChangeLog.objects.count() == 2


def test_duplicate_employee_tag_is_a_validation_error(employee, tag, hr):
    services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1))
    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1))
    assert "(employee, tag, valid_from)" in str(exc.value.details["tag"][0])
    assert TagChangeLog.objects.count() == 1
    # Another start date for the same tag is another row.
    services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2027, 1, 1))


def test_duplicate_caught_by_the_database_is_still_a_validation_error(employee, tag, hr, monkeypatch):
    """Two concurrent adds both pass the Python check; the unique constraint decides, and it is a 400."""
    services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1))
    monkeypatch.setattr(services, "employee_tag_errors", lambda **kwargs: {})

    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1))

    assert "tag" in exc.value.details
    assert EmployeeTag.objects.count() == 1
    assert TagChangeLog.objects.count() == 1


def test_employee_tag_change_refused_changes_nothing(employee, tag, hr):
    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr, level=2, valid_from=D(2026, 3, 1))
    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_change(employee_tag=et, actor=hr, level=4, valid_until=D(2026, 2, 1))
    assert "valid_until" in exc.value.details
    et.refresh_from_db()
    assert (et.level, et.valid_until) == (2, None)
    assert TagChangeLog.objects.count() == 1


def test_employee_tag_change_into_a_duplicate_start_is_refused(employee, tag, hr):
    services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 1, 1), valid_until=D(2026, 6, 1))
    later = services.employee_tag_add(employee=employee, tag=tag, actor=hr, valid_from=D(2026, 7, 1))
    with pytest.raises(InvalidInputError) as exc:
        services.employee_tag_change(employee_tag=later, actor=hr, valid_from=D(2026, 1, 1))
    assert "tag" in exc.value.details
    assert TagChangeLog.objects.count() == 2


def test_employee_tag_add_rolls_back_with_its_log_row(employee, tag, hr, fail_after_log):
    with pytest.raises(Boom):
        services.employee_tag_add(employee=employee, tag=tag, actor=hr)
    assert not EmployeeTag.objects.exists()
    assert not TagChangeLog.objects.exists()


def test_employee_tag_change_rolls_back_with_its_log_row(employee, tag, hr, monkeypatch):
    et = EmployeeTagFactory(employee=employee, tag=tag, level=2)
    real_log = services._log

    def _log_then_fail(**kwargs):
        real_log(**kwargs)
        raise Boom

    monkeypatch.setattr(services, "_log", _log_then_fail)
    with pytest.raises(Boom):
        services.employee_tag_change(employee_tag=et, actor=hr, level=9)
    et.refresh_from_db()
    assert et.level == 2
    assert not TagChangeLog.objects.exists()


def test_employee_tag_remove_rolls_back_with_its_log_row(employee, tag, hr, fail_after_log):
    et = EmployeeTagFactory(employee=employee, tag=tag)
    with pytest.raises(Boom):
        services.employee_tag_remove(employee_tag=et, actor=hr)
    assert EmployeeTag.objects.filter(pk=et.pk).exists()
    assert not TagChangeLog.objects.exists()


# --- position tags ------------------------------------------------------------------------------


def test_position_tag_add_change_remove_each_write_one_row(position, tag, hr):
    pt = services.position_tag_add(position=position, tag=tag, actor=hr, min_level=2, required=False)
    services.position_tag_change(position_tag=pt, actor=hr, min_level=4)
    services.position_tag_change(position_tag=pt, actor=hr, min_level=4, required=False)  # no-op
    pt_id = pt.pk
    services.position_tag_remove(position_tag=pt, actor=hr)

    rows = list(TagChangeLog.objects.order_by("id"))
    assert [r.action for r in rows] == ["add", "change", "remove"]
    assert {(r.target_type, r.target_id, r.position_id, r.employee_id, r.actor_id) for r in rows} == {
        ("position", pt_id, position.pk, None, hr.pk)
    }
    expected = {"position": position.pk, "tag": tag.pk, "tag_code": "forklift", "min_level": 2, "required": False}
    assert rows[0].before is None
    assert rows[0].after == expected
    assert rows[1].before == expected
    assert rows[1].after == {**expected, "min_level": 4}
    assert rows[2].before == {**expected, "min_level": 4}
    assert rows[2].after is None
    assert not PositionTag.objects.exists()


@pytest.mark.parametrize("min_level", [0, 11, "3"])
def test_position_tag_bad_level_writes_nothing(position, tag, hr, min_level):
    with pytest.raises(InvalidInputError) as exc:
        services.position_tag_add(position=position, tag=tag, actor=hr, min_level=min_level)
    assert "min_level" in exc.value.details
    assert not PositionTag.objects.exists()
    assert not TagChangeLog.objects.exists()


def test_position_tag_duplicate_and_inactive_tag_refused(position, tag, hr):
    services.position_tag_add(position=position, tag=tag, actor=hr)
    with pytest.raises(InvalidInputError) as exc:
        services.position_tag_add(position=position, tag=tag, actor=hr)
    assert "(position, tag)" in str(exc.value.details["tag"][0])
    with pytest.raises(InvalidInputError) as exc:
        services.position_tag_add(position=position, tag=TagCatalogFactory(is_active=False), actor=hr)
    assert "inactive" in str(exc.value.details["tag"][0])
    assert TagChangeLog.objects.count() == 1


def test_position_tag_change_rolls_back_with_its_log_row(position, tag, hr, fail_after_log):
    pt = PositionTagFactory(position=position, tag=tag, min_level=1)
    with pytest.raises(Boom):
        services.position_tag_change(position_tag=pt, actor=hr, min_level=3)
    pt.refresh_from_db()
    assert pt.min_level == 1
    assert not TagChangeLog.objects.exists()


# --- catalogue ----------------------------------------------------------------------------------


def test_tag_catalog_create_update_and_duplicate_code(db):
    tag = services.tag_catalog_create(code=" german ", name="German", category="language")
    assert (tag.code, tag.category, tag.is_active) == ("german", "language", True)

    services.tag_catalog_update(tag=tag, name="German (B2)", is_active=False)
    tag.refresh_from_db()
    assert (tag.name, tag.is_active) == ("German (B2)", False)

    with pytest.raises(InvalidInputError) as exc:
        services.tag_catalog_create(code="german", name="Again")
    assert "code" in exc.value.details
    with pytest.raises(InvalidInputError) as exc:
        services.tag_catalog_create(code="x", name="X", category="hobby")
    assert "category" in exc.value.details
    assert TagCatalog.objects.count() == 1


def test_tag_catalog_delete_only_when_never_used(employee, tag, hr):
    unused = TagCatalogFactory()
    services.tag_catalog_delete(tag=unused)
    assert not TagCatalog.objects.filter(pk=unused.pk).exists()

    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr)
    services.employee_tag_remove(employee_tag=et, actor=hr)
    with pytest.raises(ConflictError):  # no holder left, but its history must stay readable
        services.tag_catalog_delete(tag=tag)
    assert TagCatalog.objects.filter(pk=tag.pk).exists()


def test_changing_or_removing_a_row_removed_meanwhile_is_not_found(employee, tag, hr):
    from backend.errors import NotFoundError

    et = services.employee_tag_add(employee=employee, tag=tag, actor=hr)
    stale = EmployeeTag.objects.get(pk=et.pk)
    services.employee_tag_remove(employee_tag=et, actor=hr)

    with pytest.raises(NotFoundError):
        services.employee_tag_change(employee_tag=stale, actor=hr, level=2)
    with pytest.raises(NotFoundError):
        services.employee_tag_remove(employee_tag=stale, actor=hr)
    assert TagChangeLog.objects.count() == 2
