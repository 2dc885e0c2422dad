"""``RenderedInViewMixin`` (backend/viewsets.py, ADR 0051): under ASGI every list renders on the view's thread, so
Django's handler makes no thread hop to render it, and the answer is the one the sync path gives."""

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.test import AsyncClient

from apps.api.benchmarks.floor import BALANCES_URL
from apps.api.tests.test_compiled_representation import LIST_URLS, rows  # noqa: F401 (a fixture)

HEADERS_SET_PER_REQUEST = {"X-Request-ID"}


def _async_get(url: str, client, monkeypatch) -> tuple:
    """The request through the ASGI handler (Django's ``AsyncClient``), with the functions it hopped to a thread."""
    hops = []
    hop = SyncToAsync.__init__

    def recording(self, func, *args, **kwargs):
        hops.append(getattr(func, "__name__", type(func).__name__))
        hop(self, func, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__init__", recording)
    response = async_to_sync(AsyncClient().get)(
        url, headers={"Authorization": client._credentials["HTTP_AUTHORIZATION"]}
    )
    monkeypatch.setattr(SyncToAsync, "__init__", hop)
    return response, hops


def _headers(response) -> dict:
    return {name: value for name, value in response.items() if name not in HEADERS_SET_PER_REQUEST}


@pytest.mark.parametrize("url", [*LIST_URLS, BALANCES_URL, f"{LIST_URLS[0]}?state=nonsense", f"{LIST_URLS[2]}?page=9"])
def test_a_list_renders_on_the_views_thread_and_answers_as_the_sync_path(url, rows, auth_client, monkeypatch):  # noqa: F811
    client, _ = auth_client("admin")
    sync = client.get(url)
    response, hops = _async_get(url, client, monkeypatch)
    assert "render" not in hops, hops
    assert (response.status_code, response.content) == (sync.status_code, sync.content)
    assert _headers(response) == _headers(sync)


def test_a_view_without_it_still_hops_to_render(rows, auth_client, monkeypatch):  # noqa: F811
    """The check above can fail: a DRF view without the mixin is rendered in a hop of its own."""
    client, _ = auth_client("admin")
    response, hops = _async_get("/api/org-units/", client, monkeypatch)
    assert response.status_code == 200
    assert "render" in hops
