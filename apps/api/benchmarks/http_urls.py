"""``bench_lists_http.py``'s URLconf: every production URL, plus two baselines per list, under ``/api/`` so the same
middleware handle them as the lists:

- ``/api/bench-baseline/<n>/`` — the target's baseline (issue 8: "a minimal Django view serving the same JSON on the
  same server"): a plain Django view doing the n-th list's work by hand, with no DRF — the floor's statements
  (``floor.py``: the same bounded count, one ``SELECT`` of the page's columns) on Django's own connection, a dict
  per row, the JSON bytes, an ``HttpResponse``. The benchmark checks its bytes equal the endpoint's.
- ``/api/bench-static/<n>/`` — the bytes the n-th list answered, read once per worker: no database at all. Reported
  beside the baseline so the cost of the database round trips stays visible.

The file ``COVERIS_BENCH_BODIES`` names holds the static bytes and the balance statements the endpoint ran (the
weekly windows are the endpoint's business rule, replayed as ``bench_lists.py`` replays them).
"""

import json
import os
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from psycopg.types.json import JsonbLoader

from apps.api.benchmarks.floor import BALANCES_URL, HTTP_LISTS, Floor
from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


@cache
def _recorded() -> dict:
    with open(os.environ["COVERIS_BENCH_BODIES"], encoding="utf-8") as file:
        recorded = json.load(file)
    return {"bodies": [body.encode() for body in recorded["bodies"]], "statements": recorded["statements"]}


def _cursor():
    """A cursor on Django's connection that decodes ``jsonb`` (Django's loads it as text for JSONField to parse)."""
    cursor = connection.cursor()
    cursor.cursor.adapters.register_loader("jsonb", JsonbLoader)
    return cursor


def baseline(request, index: int) -> HttpResponse:
    """The n-th list's JSON, computed by hand on Django's connection."""
    url = HTTP_LISTS[index]
    floor = Floor(_cursor, settings.COVERIS_EXACT_COUNT_LIMIT, origin=request.build_absolute_uri("/")[:-1])
    body = floor.balances(url, _recorded()["statements"]) if url == BALANCES_URL else floor.list_page(url)
    return HttpResponse(body, content_type="application/json")


def static(request, index: int) -> HttpResponse:
    """The bytes the n-th list answered, as they are."""
    return HttpResponse(_recorded()["bodies"][index], content_type="application/json")


urlpatterns = [
    *urlpatterns,
    path("api/bench-baseline/<int:index>/", baseline),
    path("api/bench-static/<int:index>/", static),
]
