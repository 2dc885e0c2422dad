"""A small HTTP/1.1 keep-alive load generator for the benchmarks (not a test; imports nothing from Django).

Why our own (about 150 lines) rather than wrk/oha/locust: the benchmarks must run from ``uv run`` on a fresh
machine with nothing else installed, print ratios measured side by side in one run, and check what a load tool
does not — every refusal is a 503 carrying ``Retry-After``. Each client is one persistent connection sending
requests back to back (a browser or proxy keeps connections alive), so per-request connection set-up is not
measured. Several processes share the load when one Python process would be the bottleneck.

    from backend.benchmarks.loadgen import Target, run_load
    stats = run_load(Target("127.0.0.1", 8100, "/healthz"), concurrency=8, duration=5)
    print(stats.rps, stats.p50_ms, stats.p99_ms, stats.statuses)

Used by ``backend/benchmarks/bench_serving.py``; the list benchmarks reuse it for their HTTP figures.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """One request, sent again and again: host, port, path, and optionally method, headers and a body."""

    host: str
    port: int
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def raw(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body or self.method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass
class LoadStats:
    """What a run saw: request count, wall time, latencies (seconds), statuses, 503s without Retry-After."""

    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    errors: Counter = field(default_factory=Counter)  # connection-level failures, by exception name

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def _quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p99_ms(self) -> float:
        return self._quantile(0.99)

    def merge(self, other: LoadStats) -> None:
        self.requests += other.requests
        self.seconds = max(self.seconds, other.seconds)
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.unavailable_without_retry_after += other.unavailable_without_retry_after
        self.errors.update(other.errors)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers


async def _client(target: Target, raw: bytes, deadline: float, budget: list[int], stats: LoadStats) -> None:
    reader = writer = None
    while time.perf_counter() < deadline and budget[0] != 0:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(target.host, target.port)
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(raw)
            status, headers = await _read_response(reader)
            stats.latencies.append(time.perf_counter() - started)
            stats.requests += 1
            stats.statuses[status] += 1
            if status == 503 and "retry-after" not in headers:
                stats.unavailable_without_retry_after += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats.errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def _run(target: Target, concurrency: int, duration: float, requests: int) -> LoadStats:
    stats = LoadStats()
    raw = target.raw()
    budget = [requests if requests else -1]  # shared countdown; -1: until the deadline
    started = time.perf_counter()
    deadline = started + duration if duration else float("inf")
    await asyncio.gather(*(_client(target, raw, deadline, budget, stats) for _ in range(concurrency)))
    stats.seconds = time.perf_counter() - started
    return stats


def _run_in_process(args) -> LoadStats:
    return asyncio.run(_run(*args))


def run_load(
    target: Target, *, concurrency: int = 1, duration: float = 0.0, requests: int = 0, processes: int = 1
) -> LoadStats:
    """Send ``target`` from ``concurrency`` keep-alive clients for ``duration`` seconds or ``requests`` requests
    in all (whichever is given), spread over ``processes`` processes; the merged statistics."""
    if not duration and not requests:
        raise ValueError("give a duration or a number of requests")
    processes = max(1, min(processes, concurrency))
    if processes == 1:
        return _run_in_process((target, concurrency, duration, requests))
    shares = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    per_process = [requests // processes + (1 if i < requests % processes else 0) for i in range(processes)]
    jobs = [(target, share, duration, per_process[i] if requests else 0) for i, share in enumerate(shares)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_run_in_process, jobs)
    merged = LoadStats()
    for result in results:
        merged.merge(result)
    return merged
