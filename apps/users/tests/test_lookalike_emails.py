"""Emails are matched exactly on their normalised spelling (apps.users.emails), never with the database's
case-insensitive lookup: PostgreSQL's UPPER() folds look-alikes (ı→I, ſ→S) into other people's addresses."""

import pytest
from rest_framework.test import APIClient

from apps.users.models import User
from apps.users.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _login(email, password="wrong-password", ip="10.0.0.1"):
    client = APIClient(REMOTE_ADDR=ip)
    return client.post("/api/auth/login/", {"email": email, "password": password}, format="json")


def test_a_lookalike_address_is_another_account_not_a_way_in():
    UserFactory(email="admin@big.test", role="admin")
    response = _login("admın@bıg.test", password=DEFAULT_PASSWORD)  # dotless ı
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "coveris_access" not in response.cookies


def test_two_addresses_that_fold_together_do_not_break_login():
    sam = UserFactory(email="sam@x.test", role="employee")
    User.objects.create_user("ſam@x.test", "another-password-123", role="employee")  # long s
    response = _login("sam@x.test", password=DEFAULT_PASSWORD)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == sam.pk


def test_case_and_spaces_still_do_not_matter():
    user = UserFactory(email="casey@x.test", role="employee")
    assert _login("  CaSeY@X.test ", password=DEFAULT_PASSWORD).json()["id"] == user.pk
