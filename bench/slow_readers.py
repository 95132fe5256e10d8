"""Slow readers: what fifty clients that ask for the CSV export and never read cost everyone
else. One run, per backend: the latency of a page of events (GET /v1/events?limit=100, four
clients) with nobody stalled, then with fifty stalled export connections open, on one server.
Reported as the ratio of the two (p50 and p99), and how many of the other clients' requests
failed (none should).

    .venv/bin/python -m bench.slow_readers --events 20000 --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app import writer
from app.db.session import create_db_engine
from bench.run import BACKENDS, HOST, Server

STALLED = 50
CLIENTS = 4


def _load(database_url: str, events: int) -> None:
    engine = create_db_engine(database_url)
    try:
        day = date(2020, 1, 1)
        for start in range(0, events, 5000):
            with writer.bulk_session(engine) as session:
                writer.create_events(
                    session,
                    [
                        writer.NewEvent(
                            event_type="Battles",
                            sub_event_type="Armed clash",
                            date_start=day + timedelta(days=n % 1000),
                            date_end=day + timedelta(days=n % 1000),
                            date_precision="day",
                            summary=f"Event {n}: " + "clashes were reported " * 20,
                        )
                        for n in range(start, min(events, start + 5000))
                    ],
                )
    finally:
        engine.dispose()


def _pages(port: int, seconds: float) -> tuple[list[float], int]:
    """Four clients asking for pages for ``seconds``: every latency, and the failures."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal failures
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", "/v1/events?limit=100")
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures += response.status != 200
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def _stall(port: int) -> list[socket.socket]:
    sockets = []
    for _ in range(STALLED):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(b"GET /v1/events?format=csv HTTP/1.1\r\nHost: bench\r\n\r\n")
        sockets.append(sock)
    time.sleep(1.0)
    return sockets


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


def run(backend_name: str, events: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="conflictdb-slow-") as tmp:
        workdir = Path(tmp)
        with BACKENDS[backend_name](workdir, durable=False) as backend:
            url = backend.create_database("slow")
            _load(url, events)
            with Server(url, workdir, access_log=False) as server:
                calm, calm_failures = _pages(server.port, seconds)
                stalled = _stall(server.port)
                try:
                    busy, busy_failures = _pages(server.port, seconds)
                finally:
                    for sock in stalled:
                        sock.close()
    return {
        "backend": backend_name,
        "requests": (len(calm), len(busy)),
        "failures": (calm_failures, busy_failures),
        "p50": (_quantile(calm, 0.5), _quantile(busy, 0.5)),
        "p99": (_quantile(calm, 0.99), _quantile(busy, 0.99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    opts = parser.parse_args()
    names = ["sqlite", "postgresql"] if opts.backend == "both" else [opts.backend]
    print("| backend | pages/s calm | pages/s with 50 stalled | p50 ratio | p99 ratio | failures |")
    print("|---|--:|--:|--:|--:|--:|")
    for name in names:
        r = run(name, opts.events, opts.seconds)
        calm_rate, busy_rate = (n / opts.seconds for n in r["requests"])
        print(
            f"| {name} | {calm_rate:.0f} | {busy_rate:.0f} | {r['p50'][1] / r['p50'][0]:.2f}x "
            f"| {r['p99'][1] / r['p99'][0]:.2f}x | {r['failures'][0]} / {r['failures'][1]} |"
        )


if __name__ == "__main__":
    main()
