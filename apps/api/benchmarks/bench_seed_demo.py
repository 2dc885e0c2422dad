"""Benchmark: ``manage.py seed_demo`` end to end, as CPU seconds of the process and of its PostgreSQL backend beside
wall time, each run on a fresh copy of a migrated template database; optionally against another checkout of the
code (main), alternating, so both see the same machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coveris uv run python apps/api/benchmarks/bench_seed_demo.py \
        --employees 10000 --runs 3 [--against /path/to/a/main/worktree] [--verify]

It creates ``<database>_bench_tpl`` (migrated once by this checkout; the other checkout must have the same
migrations), and for each run ``<database>_bench_run`` as ``CREATE DATABASE … TEMPLATE``, dropped afterwards. The
PostgreSQL CPU is read from ``/proc/<pid>/stat`` of every backend connected to the run's database (polled every half
second, so the server must be on this machine); the process's from ``getrusage`` of the child. On a shared machine
wall time mostly measures the others' load: compare CPU seconds and ratios, and report the load average printed
beside them. PostgreSQL only; not collected by pytest.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from backend.benchmarks.cpu import process_cpu  # noqa: E402


def _url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _run(code: Path, url: str, admin, name: str, employees: int, verify: bool) -> dict:
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{name.removesuffix("_run")}_tpl"')
    seen: dict[int, float] = {}
    done = threading.Event()

    def poll():
        with psycopg.connect(_url(url, "postgres"), autocommit=True) as watcher:
            while not done.is_set():
                rows = watcher.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
                for (pid,) in rows:
                    cpu = process_cpu(pid)
                    if cpu is not None:
                        seen[pid] = cpu
                time.sleep(0.5)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    env = dict(os.environ, DATABASE_URL=_url(url, name))
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    command = [sys.executable, "manage.py", "seed_demo", "--employees", str(employees)]
    result = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.set()
    watcher.join()
    if result.returncode:
        raise SystemExit(f"seed_demo failed in {code}:\n{result.stderr[-3000:]}")
    verified = ""
    if verify:
        check = [sys.executable, "manage.py", "verify_audit_chain"]
        out = subprocess.run(check, cwd=code, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        verified = "chains ok" if out.returncode == 0 and "intact" in out.stdout else "CHAINS BROKEN"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    python = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "wall": wall,
        "python": python,
        "postgres": sum(seen.values()),
        "load": (load + os.getloadavg()[0]) / 2,
        "verified": verified,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3, help="runs per checkout")
    parser.add_argument("--against", type=Path, help="another checkout (e.g. a worktree of main), run alternately")
    parser.add_argument("--verify", action="store_true", help="run verify_audit_chain after each run")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (the database name is the prefix of the copies).")
    base = urlsplit(url).path.lstrip("/") or "coveris"
    name = f"{base}_bench_run"
    with psycopg.connect(_url(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{base}_bench_tpl"')
        admin.execute(f'CREATE DATABASE "{base}_bench_tpl"')
        env = dict(os.environ, DATABASE_URL=_url(url, f"{base}_bench_tpl"))
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        codes = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
        results: dict[str, list[dict]] = {label: [] for label in codes}
        for run in range(args.runs):
            for label, code in reversed(codes.items()) if run % 2 else codes.items():
                figures = _run(code, url, admin, name, args.employees, args.verify)
                results[label].append(figures)
                print(
                    f"{label:8} run {run + 1}: wall {figures['wall']:6.1f} s, Python CPU {figures['python']:6.1f} s, "
                    f"PostgreSQL CPU {figures['postgres']:6.1f} s, load {figures['load']:.1f} {figures['verified']}",
                    flush=True,
                )
        admin.execute(f'DROP DATABASE IF EXISTS "{base}_bench_tpl"')
    medians = {
        label: {key: statistics.median(r[key] for r in runs) for key in ("wall", "python", "postgres")}
        for label, runs in results.items()
    }
    print(f"\nmedians of {args.runs}, {args.employees} employees:")
    for label, m in medians.items():
        print(
            f"  {label:8} wall {m['wall']:6.1f} s, Python {m['python']:6.1f} s, PostgreSQL {m['postgres']:6.1f} s, "
            f"CPU together {m['python'] + m['postgres']:6.1f} s"
        )
    if "against" in medians:
        this, other = medians["this"], medians["against"]
        ratios = ", ".join(
            f"{key} {this[key] / other[key]:.2f}×" for key in ("wall", "python", "postgres") if other[key]
        )
        together = (this["python"] + this["postgres"]) / (other["python"] + other["postgres"])
        print(f"  this / against: {ratios}, CPU together {together:.2f}×")


if __name__ == "__main__":
    main()
