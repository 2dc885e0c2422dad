"""``CachedContentNegotiation`` (ADR 0051) answers what DRF's negotiation answers — the same renderer and media type,
or the same refusal — for every Accept header, format and set of renderers, the first time and every time after."""

import itertools

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from backend import negotiation
from backend.negotiation import CachedContentNegotiation
from backend.renderers import CSVRenderer, JSONRenderer

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/json; charset=utf-8",
    "application/*",
    "text/csv",
    "text/csv, application/json;q=0.5",
    "application/json;q=0.5, text/csv",
    "text/html",
    "text/html, */*;q=0.1",
    "application/xml",
    "nonsense",
    "",
    ",,,",
    "application/json" + ", text/plain" * 400,  # longer than DRF reads
]
FORMATS = [None, "json", "csv", "xml", "api"]
RENDERER_SETS = [
    [JSONRenderer],
    [JSONRenderer, CSVRenderer],
    [CSVRenderer, JSONRenderer],
    [JSONRenderer, BrowsableAPIRenderer],
]


def _answer(negotiator, accept, format_, renderer_classes, suffix):
    query = {} if format_ is None or suffix else {"format": format_}
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/x/", query, **headers))
    renderers = [renderer() for renderer in renderer_classes]
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, format_ if suffix else None)
    except (NotAcceptable, Http404) as exc:
        return ("refused", type(exc), str(exc))
    return (renderers.index(renderer), type(renderer), media_type)


@pytest.mark.parametrize("suffix", [False, True], ids=["query", "suffix"])
def test_the_kept_answer_is_drfs_answer(suffix):
    negotiation._selected.clear()
    cases = list(itertools.product(ACCEPTS, FORMATS, range(len(RENDERER_SETS))))
    drf = DefaultContentNegotiation()
    expected = [_answer(drf, accept, fmt, RENDERER_SETS[n], suffix) for accept, fmt, n in cases]
    assert {answer[0] for answer in expected} >= {"refused", 0, 1}  # refusals and both positions exercised
    for attempt in ("cold", "warm", "warm again"):
        kept = CachedContentNegotiation()
        for (accept, fmt, n), answer in zip(cases, expected, strict=True):
            assert _answer(kept, accept, fmt, RENDERER_SETS[n], suffix) == answer, (attempt, accept, fmt, n)
    assert negotiation._selected  # the answers were kept


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(negotiation._selected, "max_size", 5)
    negotiation._selected.clear()
    for n in range(12):
        _answer(CachedContentNegotiation(), f"application/json; v={n}", None, [JSONRenderer], False)
        assert len(negotiation._selected) <= 5
