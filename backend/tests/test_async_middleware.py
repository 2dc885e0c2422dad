"""The middleware stack runs async end to end under ASGI: no sync-only middleware (each cost two thread hops per
request), and the async path answers like the sync one (request id, /healthz, the API's JSON errors)."""

from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient
from django.utils.module_loading import import_string

# Sync on purpose, with the reason. Everything from such a middleware down runs in the view's thread, so the stack
# pays one hop there — the one a sync view pays anyway.
SYNC_BY_DESIGN = {
    # django-pghistory's context is bound to the database connection of the thread that runs the view; run in the
    # event loop it would tag a different connection than the one the view writes through.
    "backend.middleware.HistoryContextMiddleware",
}


def test_every_middleware_is_async_capable():
    sync_only = [path for path in settings.MIDDLEWARE if not getattr(import_string(path), "async_capable", False)]
    assert set(sync_only) <= SYNC_BY_DESIGN, f"sync-only middleware add thread hops to every ASGI request: {sync_only}"
    # Above the first sync one, every middleware runs on the event loop.
    first_sync = min(settings.MIDDLEWARE.index(path) for path in SYNC_BY_DESIGN)
    assert first_sync > settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")


def test_healthz_and_request_id_on_the_async_path():
    response = async_to_sync(AsyncClient().get)("/healthz", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"] == "probe-1"


def test_api_errors_keep_the_error_shape_on_the_async_path():
    response = async_to_sync(AsyncClient().get)("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert len(response["X-Request-ID"]) == 32


def test_a_static_file_is_served_on_the_async_path(settings, tmp_path):
    """WhiteNoise's replacement serves files (from a thread) and passes everything else on."""
    from backend.middleware import StaticFilesMiddleware

    (tmp_path / "probe.txt").write_text("static probe")
    settings.WHITENOISE_AUTOREFRESH = False
    settings.STATIC_ROOT = tmp_path

    async def downstream(request):
        from django.http import HttpResponse

        return HttpResponse("from the view")

    middleware = StaticFilesMiddleware(downstream, settings)
    from django.test import RequestFactory

    static = async_to_sync(middleware)(RequestFactory().get("/static/probe.txt"))
    assert static.status_code == 200
    assert b"".join(static.streaming_content) == b"static probe"
    other = async_to_sync(middleware)(RequestFactory().get("/api/employees/"))
    assert other.content == b"from the view"
