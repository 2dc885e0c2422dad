"""The admin writes tags through the services: every add, change and removal there leaves a log row."""

import pytest

from apps.tags.models import EmployeeTag, PositionTag, TagCatalog, TagChangeLog
from apps.tags.tests.factories import EmployeeTagFactory, TagCatalogFactory


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _employee_tag_form(world, **overrides):
    return {
        "employee": world.emp_in.pk,
        "tag": world.tag.pk,
        "level": 4,
        "valid_from": "2026-05-01",
        "valid_until": "",
        **overrides,
    }


def test_admin_add_employee_tag_writes_a_log_row(world, admin_client, admin_user):
    response = admin_client.post("/admin/tags/employeetag/add/", _employee_tag_form(world))

    assert response.status_code == 302, response.content.decode()[:2000]
    created = EmployeeTag.objects.get(employee=world.emp_in, valid_from="2026-05-01")
    row = TagChangeLog.objects.get()
    assert (row.action, row.target_type, row.target_id, row.employee_id) == (
        "add",
        "employee",
        created.pk,
        world.emp_in.pk,
    )
    assert (row.actor, row.actor_email) == (admin_user, admin_user.email)
    assert row.after["level"] == 4
    assert row.after["valid_until"] is None
    assert row.before is None
    assert row.request_id  # the admin request's id, like the API's


def test_admin_change_employee_tag_writes_before_and_after(world, admin_client, admin_user):
    url = f"/admin/tags/employeetag/{world.et_in.pk}/change/"
    form = {"level": 9, "valid_from": "2026-01-01", "valid_until": "2026-12-31"}

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    row = TagChangeLog.objects.get()
    assert (row.action, row.target_id, row.actor) == ("change", world.et_in.pk, admin_user)
    assert (row.before["level"], row.after["level"], row.after["valid_until"]) == (3, 9, "2026-12-31")


def test_admin_save_without_changes_writes_no_log_row(world, admin_client):
    url = f"/admin/tags/employeetag/{world.et_in.pk}/change/"
    response = admin_client.post(url, {"level": 3, "valid_from": "2026-01-01", "valid_until": ""})
    assert response.status_code == 302
    assert not TagChangeLog.objects.exists()


def test_admin_delete_employee_tag_writes_a_log_row(world, admin_client, admin_user):
    et_id = world.et_in.pk
    response = admin_client.post(f"/admin/tags/employeetag/{et_id}/delete/", {"post": "yes"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not EmployeeTag.objects.filter(pk=et_id).exists()
    row = TagChangeLog.objects.get()
    assert (row.action, row.target_id, row.actor, row.after) == ("remove", et_id, admin_user, None)
    assert row.before["level"] == 3


def test_admin_bulk_delete_writes_one_log_row_each(world, admin_client):
    ids = [world.et_in.pk, world.et_out.pk]
    response = admin_client.post(
        "/admin/tags/employeetag/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not EmployeeTag.objects.filter(pk__in=ids).exists()
    rows = TagChangeLog.objects.order_by("target_id")
    assert [(r.action, r.target_id) for r in rows] == [("remove", i) for i in sorted(ids)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"valid_until": "2026-04-30"}, "Must be on or after valid_from"),
        ({"level": 0}, "from 1 to 10"),
        ({"level": 11}, "from 1 to 10"),
        ({"valid_from": "2026-01-01"}, "must be unique"),  # et_in already starts then
        ({"valid_from": "not a date"}, "Enter a valid date"),
    ],
)
def test_admin_refuses_bad_employee_tags_on_the_form(overrides, message, world, admin_client):
    count = EmployeeTag.objects.count()
    response = admin_client.post("/admin/tags/employeetag/add/", _employee_tag_form(world, **overrides))

    assert response.status_code == 200  # the form again, with the error, not a 500
    assert message in response.content.decode()
    assert EmployeeTag.objects.count() == count
    assert not TagChangeLog.objects.exists()


def test_admin_refuses_assigning_an_inactive_tag(world, admin_client):
    retired = TagCatalogFactory(code="cobol", is_active=False)
    response = admin_client.post("/admin/tags/employeetag/add/", _employee_tag_form(world, tag=retired.pk))
    assert response.status_code == 200
    assert "inactive" in response.content.decode()
    assert not TagChangeLog.objects.exists()


def test_hr_uses_the_admin_for_position_tags(world, make_user, client):
    hr = make_user("hr")
    client.force_login(hr)
    sql = TagCatalogFactory(code="sql")

    response = client.post(
        "/admin/tags/positiontag/add/", {"position": world.pos_in.pk, "tag": sql.pk, "min_level": 2, "required": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = PositionTag.objects.get(position=world.pos_in, tag=sql)
    response = client.post(f"/admin/tags/positiontag/{created.pk}/change/", {"min_level": 5})  # required unticked
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(f"/admin/tags/positiontag/{created.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    rows = list(TagChangeLog.objects.order_by("id"))
    assert [(r.action, r.target_type, r.actor) for r in rows] == [
        ("add", "position", hr),
        ("change", "position", hr),
        ("remove", "position", hr),
    ]
    assert (rows[1].before["required"], rows[1].after["required"], rows[1].after["min_level"]) == (True, False, 5)


def test_admin_catalogue_add_change_and_protected_delete(world, admin_client):
    response = admin_client.post(
        "/admin/tags/tagcatalog/add/", {"code": "german", "name": "German", "category": "language", "is_active": "on"}
    )
    assert response.status_code == 302
    german = TagCatalog.objects.get(code="german")
    response = admin_client.post(
        f"/admin/tags/tagcatalog/{german.pk}/change/", {"code": "german", "name": "German B2", "category": "language"}
    )
    assert response.status_code == 302
    german.refresh_from_db()
    assert (german.name, german.is_active) == ("German B2", False)

    response = admin_client.post("/admin/tags/tagcatalog/add/", {"code": "german", "name": "Dup", "category": "skill"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()

    # A tag in use cannot be deleted (the admin lists what protects it); an unused one can.
    response = admin_client.post(f"/admin/tags/tagcatalog/{world.tag.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "protected" in response.content.decode()
    assert TagCatalog.objects.filter(pk=world.tag.pk).exists()
    response = admin_client.post(f"/admin/tags/tagcatalog/{german.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TagCatalog.objects.filter(pk=german.pk).exists()


def test_tag_change_log_is_read_only_in_the_admin(world, admin_client, admin_user):
    from apps.tags.services import employee_tag_remove

    employee_tag_remove(
        employee_tag=EmployeeTagFactory(employee=world.emp_in, tag=world.tag, level=1, valid_from="2027-01-01"),
        actor=admin_user,
    )
    row = TagChangeLog.objects.get()

    assert admin_client.get("/admin/tags/tagchangelog/").status_code == 200
    assert admin_client.get("/admin/tags/tagchangelog/?action=remove&target_type=employee").status_code == 200
    assert admin_client.get("/admin/tags/tagchangelog/?q=python").status_code == 200
    assert admin_client.get(f"/admin/tags/tagchangelog/{row.pk}/change/").status_code == 200  # view only
    assert admin_client.get("/admin/tags/tagchangelog/add/").status_code == 403
    assert admin_client.post(f"/admin/tags/tagchangelog/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(f"/admin/tags/tagchangelog/{row.pk}/change/", {"action": "add"})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.action == "remove"
    assert TagChangeLog.objects.count() == 1


@pytest.mark.parametrize("model", ["tagcatalog", "employeetag", "positiontag", "tagchangelog"])
def test_admin_changelists_with_filters_and_search(model, world, admin_client):
    assert admin_client.get(f"/admin/tags/{model}/").status_code == 200
    assert admin_client.get(f"/admin/tags/{model}/?q=python").status_code == 200
