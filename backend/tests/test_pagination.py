"""CoverisPagination: ?page=N&page_size=M (M ≤ 100), the SPEC §3 body, bad pages answer 404 in the error shape."""

import pytest
from django.conf import settings

from apps.users.models import User
from backend.tests.utils import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("backend.tests.urls")]

USERS = "/api/test/users/"
BODY_KEYS = {"count", "total_pages", "page", "page_size", "next", "previous", "results"}


@pytest.fixture
def reader(auth_client):
    client, _ = auth_client("auditor")
    return client


def _add_users(n: int) -> None:
    User.objects.bulk_create(User(email=f"bulk{i}@coveris.test", role="employee") for i in range(n))


def test_body_shape_and_default_page_size(reader):
    _add_users(29)  # 30 with the reader
    assert settings.COVERIS_PAGE_SIZE == 25
    body = reader.get(USERS).json()
    assert set(body) == BODY_KEYS
    assert body["count"] == 30
    assert body["total_pages"] == 2
    assert body["page"] == 1
    assert body["page_size"] == 25
    assert len(body["results"]) == 25
    assert body["previous"] is None
    assert body["next"].endswith(f"{USERS}?page=2")
    ids = [row["id"] for row in body["results"]]
    assert ids == sorted(ids)


def test_last_page_links_back(reader):
    _add_users(29)
    body = reader.get(USERS, {"page": 2}).json()
    assert body["page"] == 2
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"].endswith(USERS)


def test_page_size_is_honoured(reader):
    _add_users(29)
    body = reader.get(USERS, {"page_size": 10, "page": 3}).json()
    assert body["page_size"] == 10
    assert body["page"] == 3
    assert body["total_pages"] == 3
    assert len(body["results"]) == 10
    assert "page_size=10" in body["previous"]
    assert body["next"] is None


def test_page_size_is_capped_at_100(reader):
    _add_users(120)
    body = reader.get(USERS, {"page_size": 1000}).json()
    assert body["page_size"] == 100
    assert len(body["results"]) == 100
    assert body["total_pages"] == 2


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", ""])
def test_nonsense_page_size_falls_back_to_the_default(reader, page_size):
    _add_users(29)
    response = reader.get(USERS, {"page_size": page_size})
    assert response.status_code == 200
    assert response.json()["page_size"] == 25


def test_default_page_size_follows_the_setting(reader, settings):
    _add_users(9)
    settings.COVERIS_PAGE_SIZE = 4
    body = reader.get(USERS).json()
    assert body["page_size"] == 4
    assert body["total_pages"] == 3


def test_a_single_page_has_no_links(reader):
    body = reader.get(USERS).json()
    assert (body["count"], body["total_pages"], body["page"]) == (1, 1, 1)
    assert body["next"] is None
    assert body["previous"] is None


@pytest.mark.parametrize("page", ["abc", "9999", "0", "-1", "1.5"])
def test_bad_page_is_not_found_in_the_error_shape(reader, page):
    error = assert_error(reader.get(USERS, {"page": page}), 404, "not_found")
    assert error["message"] == "Invalid page."
