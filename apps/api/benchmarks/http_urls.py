"""``bench_lists_http.py``'s URLconf: every production URL, plus ``/api/bench-baseline/<n>/``, the least a Django view
can do to answer the n-th list's JSON (the bytes the real endpoint answered, read once per worker from the file
``COVERIS_BENCH_BODIES`` names). It sits under ``/api/`` so the same middleware handle it as the lists."""

import json
import os
from functools import cache

from django.http import HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


@cache
def _bodies() -> list[bytes]:
    with open(os.environ["COVERIS_BENCH_BODIES"], encoding="utf-8") as file:
        return [body.encode() for body in json.load(file)]


def baseline(request, index: int) -> HttpResponse:
    """A plain Django view returning a list's JSON as it is."""
    return HttpResponse(_bodies()[index], content_type="application/json")


urlpatterns = [*urlpatterns, path("api/bench-baseline/<int:index>/", baseline)]
