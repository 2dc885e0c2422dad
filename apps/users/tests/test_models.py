"""The User model and its manager: email login, role-driven staff status and admin permissions."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from rest_framework.test import APIClient

from apps.users.choices import HR_ADMIN_APPS, Role
from apps.users.models import User
from apps.users.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_create_user_normalises_the_email_and_hashes_the_password():
    user = User.objects.create_user(" Alice.Smith@Example.COM ", "s3cret-pass", role=Role.EMPLOYEE)

    assert user.email == "alice.smith@example.com"
    assert user.check_password("s3cret-pass")
    assert user.password != "s3cret-pass"
    assert user.role == Role.EMPLOYEE
    assert not user.is_superuser
    assert not user.is_staff
    assert user.is_active


def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "pw")


def test_create_user_without_password_cannot_log_in():
    user = User.objects.create_user("nopass@coveris.test")

    assert not user.has_usable_password()


def test_create_superuser_is_an_admin_with_staff_and_superuser():
    user = User.objects.create_superuser("Root@Coveris.TEST", "s3cret-pass")

    assert user.email == "root@coveris.test"
    assert user.role == Role.ADMIN
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password("s3cret-pass")


def test_create_superuser_refuses_a_non_admin_role():
    with pytest.raises(ValueError, match="admin"):
        User.objects.create_superuser("root@coveris.test", "pw", role=Role.HR)


def test_emails_are_unique_whatever_their_case():
    User.objects.create_user("dup@coveris.test", "pw")

    with pytest.raises(IntegrityError):
        User.objects.create_user("DUP@Coveris.test", "pw")


def test_save_lowercases_the_email():
    user = UserFactory(email="Upper@Coveris.TEST")

    user.refresh_from_db()
    assert user.email == "upper@coveris.test"


def test_get_by_natural_key_is_case_insensitive():
    user = UserFactory(email="natural@coveris.test")

    assert User.objects.get_by_natural_key("NATURAL@coveris.test") == user


def test_login_is_case_insensitive(db):
    UserFactory(email="mixed@coveris.test")

    response = APIClient().post(
        "/api/auth/login/", {"email": "MIXED@Coveris.Test", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content


def test_role_outside_the_choices_is_refused_by_the_database():
    user = UserFactory()

    with pytest.raises(IntegrityError):
        User.objects.filter(pk=user.pk).update(role="overlord")


@pytest.mark.parametrize(
    ("role", "staff"),
    [
        (Role.ADMIN, True),
        (Role.HR, True),
        (Role.MANAGER, False),
        (Role.AUDITOR, False),
        (Role.EMPLOYEE, False),
        ("", False),
    ],
)
def test_staff_status_follows_the_role(role, staff):
    # is_staff passed in is ignored: the role decides.
    user = UserFactory(role=role, is_staff=not staff)

    user.refresh_from_db()
    assert user.is_staff is staff


def test_changing_the_role_changes_staff_status():
    user = UserFactory(role=Role.EMPLOYEE)
    assert not user.is_staff

    user.role = Role.HR
    user.save()
    user.refresh_from_db()
    assert user.is_staff

    user.role = Role.MANAGER
    user.save()
    user.refresh_from_db()
    assert not user.is_staff


def test_changing_the_role_with_update_fields_also_saves_staff_status():
    user = UserFactory(role=Role.EMPLOYEE)

    user.role = Role.HR
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert user.is_staff

    user.role = Role.AUDITOR
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert not user.is_staff


def test_changing_the_email_with_update_fields_saves_it_lowercased():
    user = UserFactory()

    user.email = "New.Address@Coveris.TEST"
    user.save(update_fields=["email"])
    user.refresh_from_db()

    assert user.email == "new.address@coveris.test"


def test_hr_has_workforce_permissions_but_not_user_management():
    hr = UserFactory(role=Role.HR)

    for app_label in HR_ADMIN_APPS:
        assert hr.has_perm(f"{app_label}.change_anything")
        assert hr.has_module_perms(app_label)
    assert hr.has_perm("users.view_user")
    assert not hr.has_perm("users.add_user")
    assert not hr.has_perm("users.change_user")
    assert not hr.has_perm("users.delete_user")
    assert not hr.has_perm("auth.change_group")
    assert not hr.has_perm("token_blacklist.delete_outstandingtoken")
    assert not hr.has_module_perms("auth")
    assert not hr.is_superuser


def test_admin_role_has_every_permission():
    admin = UserFactory(role=Role.ADMIN)

    assert admin.has_perm("users.add_user")
    assert admin.has_perm("auth.change_group")
    assert admin.has_module_perms("auth")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AUDITOR, Role.EMPLOYEE, ""])
def test_other_roles_have_no_admin_permissions(role):
    user = UserFactory(role=role)

    assert not user.has_perm("api.change_employee")
    assert not user.has_perm("users.view_user")
    assert not user.has_module_perms("api")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HR])
def test_inactive_users_have_no_permissions(role):
    user = UserFactory(role=role, is_active=False)

    assert not user.has_perm("api.change_employee")
    assert not user.has_module_perms("api")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.ADMIN, 200), (Role.HR, 200), (Role.MANAGER, 302), (Role.EMPLOYEE, 302)]
)
def test_only_admin_and_hr_sign_in_to_the_django_admin(client, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get("/admin/").status_code == status


def test_hr_sees_users_in_the_admin_but_cannot_add_them(client):
    client.force_login(UserFactory(role=Role.HR))

    assert client.get("/admin/users/user/").status_code == 200
    assert client.get("/admin/users/user/add/").status_code == 403


def test_createsuperuser_noinput_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Ops@Coveris.TEST")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase")

    call_command("createsuperuser", "--noinput", verbosity=0)

    user = User.objects.get(email="ops@coveris.test")
    assert user.is_superuser
    assert user.is_staff
    assert user.role == Role.ADMIN
    assert user.check_password("a-long-admin-passphrase")


def test_createsuperuser_noinput_refuses_an_existing_email_in_another_case(monkeypatch):
    UserFactory(email="ops@coveris.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "OPS@coveris.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase")

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", "--noinput", verbosity=0)
    assert User.objects.count() == 1


def test_createsuperuser_noinput_requires_the_email(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase")

    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", verbosity=0)
    assert not User.objects.exists()
