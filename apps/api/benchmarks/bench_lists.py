"""Benchmark: page 1 of every list endpoint against a hand-written psycopg floor, at 10,000 and 100,000 employees.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris_perf uv run python apps/api/benchmarks/bench_lists.py
    ... bench_lists.py --sizes 10000 --repeat 30

For each size it builds a throw-away database (``test_<name>_bench_lists``) holding that many employees, each with an
assignment, an employee and an assignment transition, a tag change and a ledger entry (``scale.scale_fill``:
``generate_series``, then ``ANALYZE``). Then, per endpoint, side by side in one run:

- **endpoint**: ``GET`` page 1 in process through the whole stack (middleware, JWT authentication, permissions,
  filters, pagination with its cheap count, serializers, JSON rendering), as the admin user;
- **floor**: the least any implementation must do for the same answer, written by hand on a separate psycopg
  connection: the same counting strategy (bounded ``COUNT`` then ``EXPLAIN``), one ``SELECT`` of the page's columns
  joined, a dict per row built in a loop, ``json.dumps``. Its body is checked equal to the endpoint's before timing
  (results exactly; ``count`` exactly when exact, both estimated above the limit);

and prints the query count, the medians and the ratio endpoint ÷ floor (target ≤ 2×), the same endpoint with ADR 0039,
0035, 0031 or 0025 switched off (the same answer checked), and the median thread CPU of the endpoint, the floor,
"ADR 0039 off" and "ADR 0035 off" (steadier than wall time on a loaded machine). Balances' floor replays the
balance SQL of ``apps/offer/selectors.py`` (the weekly windows are the endpoint's business rule, not overhead).
PostgreSQL only. Not collected by pytest. No times are asserted anywhere.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.signals import setting_changed  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from apps.api.benchmarks.floor import BALANCES_URL, LISTS, PAGE, Floor  # noqa: E402
from backend import statements  # noqa: E402


def _without_history_context(sql: str) -> str:
    """The statement without django-pghistory's ``SELECT set_config(...);`` prefix (its middleware adds one to
    every query of a request it tracks)."""
    return re.sub(r"^SELECT set_config\('pghistory\..*?, true\);\s*", "", sql, flags=re.S)


@contextmanager
def _as_before():
    """The stack without ADR 0025's three changes (DRF's own rendering, django-filter on every request, the history
    context on reads), for a same-run comparison. The ledger's array subquery is a selector change and stays."""
    from django_filters.rest_framework import DjangoFilterBackend

    from backend.filters import FilterBackend
    from backend.serializers import CompiledRepresentationMixin

    def drf_rendering(self, instance):
        return super(CompiledRepresentationMixin, self).to_representation(instance)

    with (
        patch.object(CompiledRepresentationMixin, "to_representation", drf_rendering),
        patch.object(FilterBackend, "filter_queryset", DjangoFilterBackend.filter_queryset),
        override_settings(PGHISTORY_MIDDLEWARE_METHODS=("GET", "POST", "PUT", "PATCH", "DELETE")),
    ):
        yield


@contextmanager
def _without_0035():
    """The stack without ADR 0035, for a same-run comparison: pages fetched as model instances and rendered from
    them; every datetime through ``astimezone``; an annotated queryset counted by Django's count; the estimate planned
    for the whole query (compiled apart from the count)."""
    from backend import pagination
    from backend import serializers as compiled
    from backend.serializers import CompiledRepresentationMixin

    key_rows, estimate = pagination.key_rows, pagination.planner_row_estimate

    def iso_datetimes(field, zone):  # before ADR 0035
        def render(value):
            if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
                text = value.astimezone(zone).isoformat()
                return text[:-6] + "Z" if text.endswith("+00:00") else text
            return field.to_representation(value)

        return render

    with (
        patch.object(CompiledRepresentationMixin, "row_plan", classmethod(lambda cls, queryset: None)),
        patch.object(compiled, "_iso_datetimes", iso_datetimes),
        patch.object(
            pagination, "key_rows", lambda queryset: None if queryset.query.annotations else key_rows(queryset)
        ),
        patch.object(pagination, "planner_row_estimate", lambda queryset, rows=None: estimate(queryset)),
    ):
        yield


@contextmanager
def _without_0039():
    """The stack without ADR 0039: every list statement compiled on every request."""
    with override_settings(COVERIS_STATEMENT_CACHE=False):
        yield


@contextmanager
def _without_0031():
    """The stack without ADR 0031's in-process changes (Django's Python timestamp loader, simplejwt's verification
    on every request, Django's sliced count, DRF's JSON encoding), for a same-run comparison."""
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from rest_framework import renderers
    from rest_framework_simplejwt.authentication import JWTAuthentication

    from backend import pagination
    from backend.authentication import CookieJWTAuthentication
    from backend.renderers import JSONRenderer

    wrapper = type(connections["default"])
    plain_create_cursor = wrapper.create_cursor

    def create_cursor(self, name=None):
        cursor = plain_create_cursor(self, name)
        register_tzloader(self.timezone, cursor)  # Django's own loader, as without backend.timestamptz
        return cursor

    with (
        patch.object(wrapper, "create_cursor", create_cursor),
        patch.object(CookieJWTAuthentication, "get_validated_token", JWTAuthentication.get_validated_token),
        patch.object(pagination, "bounded_count", lambda queryset, limit, rows=None: queryset[:limit].count()),
        patch.object(JSONRenderer, "render", renderers.JSONRenderer.render),
    ):
        yield


def medians_ms(repeat: int, *funcs, cpu: list | None = None) -> list[float]:
    """The median time of each function, called in turn (a, b, a, b, ...) so a burst of load elsewhere on a shared
    machine hits every one alike. ``cpu``, if given, receives the median thread CPU time of each (this process's
    Python, without the database's work or waits): under load it moves far less than wall time."""
    times = [[] for _ in funcs]
    cpu_times = [[] for _ in funcs]
    for _ in range(repeat):
        for func, samples, cpu_samples in zip(funcs, times, cpu_times, strict=True):
            began, began_cpu = time.perf_counter(), time.thread_time()
            func()
            samples.append(time.perf_counter() - began)
            cpu_samples.append(time.thread_time() - began_cpu)
    if cpu is not None:
        cpu[:] = [statistics.median(samples) * 1000 for samples in cpu_times]
    return [statistics.median(samples) * 1000 for samples in times]


def same(endpoint: dict, floor: dict, limit: int) -> None:
    for key in ("results", "page", "page_size", "next", "previous", "totals", "week_from", "weeks"):
        assert endpoint.get(key) == floor.get(key), (key, endpoint.get(key), floor.get(key))
    if endpoint["count"] <= limit or floor["count"] <= limit:
        assert endpoint["count"] == floor["count"], (endpoint["count"], floor["count"])
    else:  # both estimated: the planner's figure for two spellings of the same question
        assert abs(endpoint["count"] - floor["count"]) <= 0.05 * floor["count"], (endpoint["count"], floor["count"])


def run(size: int, repeat: int, profile: str | None = None) -> list[tuple]:
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.api.benchmarks.scale import scale_fill
    from apps.api.tests.factories import OrgUnitFactory, PositionFactory
    from apps.tags.models import TagCatalog
    from apps.users.models import User

    database = settings.DATABASES["default"]
    database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_bench_lists"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rows, closing = [], []
    try:
        admin = User.objects.create_user("bench-admin@coveris.test", "bench-password", role="admin")
        unit = OrgUnitFactory()
        position = PositionFactory(org_unit=unit)
        tag = TagCatalog.objects.create(code="forklift", name="Forklift")
        began = time.perf_counter()
        scale_fill(rows=size, unit_id=unit.pk, position_id=position.pk, tag_id=tag.pk, user_id=admin.pk)
        print(f"\n{size:,} employees (filled and analyzed in {time.perf_counter() - began:.0f} s)", flush=True)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(admin)}")
        params = connection.get_connection_params()
        floor_conn = psycopg.connect(
            dbname=params["dbname"],
            host=params.get("host"),
            port=params.get("port"),
            user=params.get("user"),
            password=params.get("password"),
            autocommit=True,
            options="-c timezone=UTC",
        )
        closing.append(floor_conn)
        floor = Floor(floor_conn.cursor, settings.COVERIS_EXACT_COUNT_LIMIT)
        limit = settings.COVERIS_EXACT_COUNT_LIMIT
        urls = [*LISTS, BALANCES_URL]
        for url in urls:
            cache.clear()  # the user throttle's budget (1,000/h in these settings) is spent per list, not per run
            client.get(url)  # the user snapshot back in the cache, as on every request but the first
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, response.content
            query_count = len(queries)
            if "balances" in url:
                statements = [
                    _without_history_context(q["sql"])
                    for q in queries
                    if "RECURSIVE weeks" in q["sql"] or "bounds AS" in q["sql"]
                ]

                def floor_call(url=url, statements=statements):
                    return floor.balances(url, statements)
            else:

                def floor_call(url=url):
                    return floor.list_page(url)

            same(response.json(), json.loads(floor_call()), limit)
            if response.json()["count"] <= limit:  # an exact count: the very bytes (the HTTP baseline relies on it)
                assert floor_call() == response.content, (floor_call()[:300], response.content[:300])

            def endpoint_call(url=url):
                response = client.get(url)
                assert response.status_code == 200, response.content[:300]  # never time a refusal (429)
                return response.content

            if profile is not None:
                if profile in url:
                    _profile(endpoint_call, repeat)
                continue

            def before_call(url=url):
                with _as_before():
                    return client.get(url).content

            def without_0031_call(url=url):
                with _without_0031():
                    return client.get(url).content

            def without_0035_call(url=url):
                with _without_0035():
                    return client.get(url).content

            def without_0039_call(url=url):
                with _without_0039():
                    return client.get(url).content

            # the same answer every way
            assert before_call() == endpoint_call() == without_0031_call() == without_0035_call() == without_0039_call()
            cpu = []
            endpoint_ms, no_0035_ms, before_ms, no_0031_ms, floor_ms, no_0039_ms = medians_ms(
                repeat,
                endpoint_call,
                without_0035_call,
                before_call,
                without_0031_call,
                floor_call,
                without_0039_call,
                cpu=cpu,
            )
            rows.append((size, url.split("?")[0], query_count, endpoint_ms, floor_ms))
            print(
                f"  {url.split('?')[0]:<36} {query_count:>2} queries  endpoint {endpoint_ms:7.2f} ms  "
                f"floor {floor_ms:7.2f} ms  ratio {endpoint_ms / floor_ms:5.2f}×   "
                f"(ADR 0039 off: {no_0039_ms:7.2f} ms, {no_0039_ms / floor_ms:5.2f}×; "
                f"ADR 0035 off: {no_0035_ms:7.2f} ms, {no_0035_ms / floor_ms:5.2f}×; "
                f"ADR 0031 off: {no_0031_ms:7.2f} ms, {no_0031_ms / floor_ms:5.2f}×; "
                f"ADR 0025 off: {before_ms:7.2f} ms, {before_ms / floor_ms:5.2f}×)\n"
                f"  {'':<36}    thread CPU  endpoint {cpu[0]:7.2f} ms  floor {cpu[4]:7.2f} ms  "
                f"ADR 0039 off {cpu[5]:7.2f} ms (endpoint ÷ off {cpu[0] / cpu[5]:4.2f})  "
                f"ADR 0035 off {cpu[1]:7.2f} ms (endpoint ÷ off {cpu[0] / cpu[1]:4.2f})",
                flush=True,
            )
    finally:
        for conn in closing:
            conn.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return rows


def _profile(call, repeat: int) -> None:
    """cProfile over ``repeat`` requests: the 25 functions with the most cumulative time."""
    import cProfile
    import pstats

    call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="Comma-separated employee counts.")
    parser.add_argument("--repeat", type=int, default=30, help="Requests per endpoint and size (the median is shown).")
    parser.add_argument("--profile", metavar="PATH", help="profile the endpoint(s) whose URL contains PATH instead")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench_lists needs PostgreSQL: set DATABASE_URL=postgres://...")
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here; irrelevant to timing
    setup_test_environment()
    # The settings the "off" columns toggle (PGHISTORY_MIDDLEWARE_METHODS, COVERIS_STATEMENT_CACHE) do not change
    # how a statement compiles; left connected, each toggle would empty ADR 0039's cache between the timed calls.
    setting_changed.disconnect(statements._clear)
    print(f"PostgreSQL; median of {args.repeat}; page 1 of {PAGE}; target: endpoint ≤ 2× floor")
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.repeat, args.profile)


if __name__ == "__main__":
    main()
