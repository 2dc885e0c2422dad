"""Benchmark: ``GET /api/auth/me/`` against a plain Django view returning the same JSON, same process.

    uv run python apps/users/benchmarks/bench_me.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/users/benchmarks/bench_me.py

Both go through the whole middleware stack with Django's test client. The baseline is the least an
authenticated JSON answer must do: a function view that returns a fixed dict with ``JsonResponse`` (no
authentication, no DRF). The endpoint adds DRF, the JWT check (signature, then the cached user snapshot:
no query), the role permission, the user throttle and the serializer. It prints the ratio endpoint ÷
baseline (target ≤ 3, issue 8) and the endpoint's query count (target 0), best of ``--repeat`` batches —
no absolute times, which depend on the machine. Not collected by pytest (the name does not start with
``test_``).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings, setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402

ME = {}


def plain_me(request):
    """The baseline: the same JSON with nothing in between."""
    return JsonResponse(ME)


urlpatterns = [path("bench/plain-me/", plain_me), path("", include("config.urls"))]


def best_per_call(client, url: str, calls: int, repeat: int) -> float:
    from django.core.cache import cache

    best = float("inf")
    for _ in range(repeat):
        cache.clear()  # the throttle's history restarts (a user's 1000/h would end the run)
        client.get(url)  # and the user snapshot is cached again, as for any signed-in user
        started = time.perf_counter()
        for _ in range(calls):
            response = client.get(url)
        best = min(best, (time.perf_counter() - started) / calls)
        assert response.status_code == 200, response.content
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="requests per timed batch")
    parser.add_argument("--repeat", type=int, default=5, help="batches; the best is kept")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from rest_framework.test import APIClient
        from rest_framework_simplejwt.tokens import AccessToken

        from apps.users.api.serializers import UserSerializer
        from apps.users.models import User

        with override_settings(ROOT_URLCONF=__name__):
            user = User.objects.create_user(email="bench@coveris.test", password="x", role="hr")  # noqa: S106
            ME.update(UserSerializer(user).data)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
            assert client.get("/api/auth/me/").json() == client.get("/bench/plain-me/").json(), "not the same JSON"

            with CaptureQueriesContext(connection) as queries:
                client.get("/api/auth/me/")
            baseline = best_per_call(client, "/bench/plain-me/", args.calls, args.repeat)
            endpoint = best_per_call(client, "/api/auth/me/", args.calls, args.repeat)

        print(f"database: {connection.vendor}")
        print(f"/api/auth/me/ = {endpoint / baseline:.2f} × a plain Django view with the same JSON (target ≤ 3)")
        print(f"/api/auth/me/ queries per request (cache warm): {len(queries)} (target 0)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
