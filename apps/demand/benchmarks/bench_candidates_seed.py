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

Beside each request it times, interleaved in the same loop, the same request with ``--baseline``'s flag of
``candidate_shortlist`` off (default ``holders_visit``: the holders' visit of ADR 0045, i.e. the query as before it;
``committed``: its best keys from the committed-hours bound of ADR 0049, i.e. the query of ADR 0045;
``week``: the week bound of ADR 0042; ``holders``: the holders' side of ADR 0038; ``active``: the first visit over the
active people's rows only, ``one_pass``: the holders' best keys in one pass, ``adr0050``: both, i.e. the query of ADR
0049), checks both bodies equal (the
results; ``fitting`` too where both are exact), and prints wall and CPU (this process plus its PostgreSQL backend)
medians for both, the sides each took, and the load
average.
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
    parser.add_argument(
        "--baseline",
        choices=("holders_visit", "committed", "week", "holders", "active", "one_pass", "adr0050"),
        default="holders_visit",
        help="the flag off for it",
    )
    args = parser.parse_args()

    from unittest import mock

    from django.db import connection
    from rest_framework.test import APIClient

    from apps.api.models import Employee, Position
    from apps.demand import candidate_sql, candidates
    from apps.users.models import User
    from backend.benchmarks.cpu import backend_cpu

    if connection.vendor != "postgresql":
        sys.exit("bench_candidates_seed needs PostgreSQL with seed_demo data: set DATABASE_URL=postgres://...")
    client = APIClient()
    client.force_authenticate(User(email="bench@coveris.test", role="admin"))  # unsaved: nothing is written
    positions = list(Position.objects.order_by("id").values_list("id", flat=True)[: args.positions])
    print(f"{connection.settings_dict['NAME']}: {Employee.objects.count():,} employees, {len(positions)} positions")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sides, sides_before = [], []

    def shortlist(**kwargs):
        short = candidate_sql.candidate_shortlist(**kwargs)
        sides.append(short.side)
        return short

    flags_off = ("active", "one_pass") if args.baseline == "adr0050" else (args.baseline,)

    def before(**kwargs):
        short = candidate_sql.candidate_shortlist(**kwargs, **dict.fromkeys(flags_off, False))
        sides_before.append(short.side)
        return short

    def request(url: str, shortlist_function) -> tuple[float, float, dict]:
        with mock.patch.object(candidates, "candidate_shortlist", shortlist_function):
            cpu, began = time.process_time() + backend_cpu(connection), time.perf_counter()
            response = client.get(url)
            wall = time.perf_counter() - began
            cpu = time.process_time() + backend_cpu(connection) - cpu
        assert response.status_code == 200, response.content[:300]
        return wall * 1000, cpu * 1000, response.json()

    for hours in (None, 4):
        for limit in (25, 100):
            found = {"ms": [], "cpu": [], "before_ms": [], "before_cpu": []}
            fitting, taken, taken_before = [], [], []
            for position in positions:
                for start, end in PERIODS:
                    url = f"/api/coverage/candidates/?position={position}&from={start}&to={end}&limit={limit}"
                    url += f"&hours={hours}" if hours else ""
                    # warm: the rules and tags the request reads, cached plans; the bodies must be equal
                    _, _, body = request(url, shortlist)
                    _, _, body_before = request(url, before)
                    taken.append(sides[-1])
                    taken_before.append(sides_before[-1])
                    if body["fitting_exact"] and body_before["fitting_exact"]:
                        assert body == body_before, url
                    else:
                        assert body["results"] == body_before["results"], url
                    samples = {key: [] for key in found}
                    for _ in range(args.repeat):  # interleaved, so both see the same load
                        for prefix, function in (("", shortlist), ("before_", before)):
                            ms, cpu, _ = request(url, function)
                            samples[f"{prefix}ms"].append(ms)
                            samples[f"{prefix}cpu"].append(cpu)
                    for key, values in samples.items():
                        found[key].append(statistics.median(values))
                    fitting.append(f"{body['fitting']}{'' if body['fitting_exact'] else '+'}")
            kind = f"{hours} h a week" if hours else "standard hours"
            m = {key: statistics.median(values) for key, values in found.items()}
            print(
                f"  {kind:<15} limit {limit:>3}: median {m['ms']:8.1f} ms, CPU {m['cpu']:7.1f} ms "
                f"(before: {m['before_ms']:8.1f} ms, CPU {m['before_cpu']:7.1f} ms; after ÷ before "
                f"{m['ms'] / m['before_ms']:.2f} wall, {m['cpu'] / m['before_cpu']:.2f} CPU) over {len(found['ms'])} "
                f"requests (min {min(found['ms']):.1f}, max {max(found['ms']):.1f}); sides {', '.join(taken)} "
                f"(before: {', '.join(taken_before)}); "
                f"fitting {', '.join(fitting)} ('+': a lower bound)",
                flush=True,
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
