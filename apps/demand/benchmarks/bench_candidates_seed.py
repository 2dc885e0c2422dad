"""Benchmark: /api/coverage/candidates/ on a real seed_demo database, in-process, for the requests a planner makes.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris_seed
    uv run python manage.py migrate && uv run python manage.py seed_demo --employees 10000 --quiet
    uv run python apps/demand/benchmarks/bench_candidates_seed.py [--positions 4] [--repeat 5]

`bench_candidates.py` builds its own generated organisation; this one reads whatever the configured database holds
(seed_demo's organisation: people booked on assignments, ledger postings, short gaps between assignments), read-only,
as an unsaved admin. For the first ``--positions`` positions and two four-week periods it prints, per request kind
(the positions' standard hours and 4 h a week, limits 25 and 100), the median over those requests of each request's
median in-process time, and what the body said about ``fitting`` (exact, or a lower bound when the bounded visit of
ADR 0036 decided the page). Run it on a 10,000 and a 100,000 seed and compare the two (issue 8: ≤ 150 ms at 10,000,
≤ 3× that at 100,000). No absolute time is asserted; record the figures in docs/benchmarks.md. Not collected by
pytest.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

PERIODS = (("2026-12-07", "2027-01-03"), ("2027-01-04", "2027-01-31"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--positions", type=int, default=4, help="how many positions (the first by id)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per URL (the median is kept)")
    args = parser.parse_args()

    from django.db import connection
    from rest_framework.test import APIClient

    from apps.api.models import Employee, Position
    from apps.users.models import User

    if connection.vendor != "postgresql":
        sys.exit("bench_candidates_seed needs PostgreSQL with seed_demo data: set DATABASE_URL=postgres://...")
    client = APIClient()
    client.force_authenticate(User(email="bench@coveris.test", role="admin"))  # unsaved: nothing is written
    positions = list(Position.objects.order_by("id").values_list("id", flat=True)[: args.positions])
    print(f"{connection.settings_dict['NAME']}: {Employee.objects.count():,} employees, {len(positions)} positions")
    for hours in (None, 4):
        for limit in (25, 100):
            times, fitting = [], []
            for position in positions:
                for start, end in PERIODS:
                    url = f"/api/coverage/candidates/?position={position}&from={start}&to={end}&limit={limit}"
                    url += f"&hours={hours}" if hours else ""
                    response = client.get(url)  # warm: the rules and tags the request reads, cached plans
                    assert response.status_code == 200, response.content[:300]
                    samples = []
                    for _ in range(args.repeat):
                        began = time.perf_counter()
                        response = client.get(url)
                        samples.append(time.perf_counter() - began)
                    assert response.status_code == 200, response.content[:300]
                    times.append(statistics.median(samples) * 1000)
                    body = response.json()
                    fitting.append(f"{body['fitting']}{'' if body['fitting_exact'] else '+'}")
            kind = f"{hours} h a week" if hours else "standard hours"
            print(
                f"  {kind:<15} limit {limit:>3}: median {statistics.median(times):8.1f} ms over {len(times)} requests "
                f"(min {min(times):.1f}, max {max(times):.1f}); fitting {', '.join(fitting)} ('+': a lower bound)",
                flush=True,
            )


if __name__ == "__main__":
    main()
