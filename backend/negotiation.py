"""Content negotiation: DRF's, its answer kept per (``Accept`` header, format, renderers) — ADR 0051.

DRF negotiates on every request: it tokenizes and parses the ``Accept`` header into media types, parses each
renderer's media type, orders them by precedence and matches them — about 50 µs of a list request's CPU under ASGI,
to answer, nearly always, "JSON, ``application/json``". The answer is a function of the header, the format asked for
(``?format=`` or a suffix) and the renderers offered (their classes, media types and formats), so it is kept under
exactly those: which of the offered renderers, and the media type. Anything DRF refuses (406, 404 for an unknown
format) is refused by DRF again on every request, never kept. The header is client input, so the store is bounded
(emptied when full, as the verified tokens of ADR 0031): a client sending ever new headers costs speed, not memory.
"""

from rest_framework.negotiation import DefaultContentNegotiation

from backend.bounded import BoundedDict

SELECTED_MAX = 1024
_selected: BoundedDict = BoundedDict(SELECTED_MAX)  # key -> (the renderer's position, the media type)


class CachedContentNegotiation(DefaultContentNegotiation):
    """``DefaultContentNegotiation`` whose ``select_renderer`` answer is kept (see the module)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        format_ = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        offered = tuple((type(renderer), renderer.media_type, renderer.format) for renderer in renderers)
        key = (request.headers.get("accept"), format_, offered)
        kept = _selected.get(key)
        if kept is not None:
            return renderers[kept[0]], kept[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        _selected.keep(key, (next(n for n, offer in enumerate(renderers) if offer is renderer), media_type))
        return renderer, media_type
