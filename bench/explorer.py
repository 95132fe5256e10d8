"""Time to the explorer's first complete render (map, timeline and table drawn) in Chromium.

    python -m bench.explorer --events 100000 [--runs 6] [--seed N]

The database is bench/dataset.py's (cached SQLite file, copied for the run); the server is
the real app (uvicorn, one worker, as `make run` but demo and migrations off). Each run opens
the explorer at / in a fresh browser context (no HTTP cache) of Debian's Chromium through
Playwright and reads, from the page's own clock, the time from navigation start to the
`explorer-ready` mark: the moment the three views have their answers drawn (the map waits for
MapLibre's `idle`); each view's own mark (`explorer-map`, `-timeline`, `-table`) says which
one it waited for, and `explorer-map-loaded` when MapLibre had started (its `load`: the
worker, the style), before any data. The first run meets the server cold (no stats answer cached); the others
find the stats cache the default settings keep (CONFLICTDB_STATS_CACHE_SIZE=256).

Beside it, in the same run, the peer: the API requests the page made (read from the Resource
Timing of run 1), sent by a plain HTTP client at once on as many connections, so the ratio
render / API says what the page adds to the answers it waits for.

And the CPU each render cost, from /proc (bench/run.py's accounting): the browser
(Chromium's processes and Playwright's driver: everything this benchmark started but the
server), the server (uvicorn), and `other`, the machine's busy time that none of ours used.
On a shared machine the wall times above stretch with `other`; the CPU figures much less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2

from bench import dataset
from bench.run import machine_cpu_seconds, tree_cpu_seconds

READY_JS = (
    "() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error'"
)
TIMINGS_JS = """() => ({
    ready: performance.getEntriesByName('explorer-ready')[0]?.startTime ?? null,
    views: Object.fromEntries(['map-loaded', 'map', 'timeline', 'table'].map(v =>
        [v, performance.getEntriesByName('explorer-' + v)[0]?.startTime ?? null])),
    state: document.body.dataset.state,
    total: Number(document.body.dataset.total),
    api: performance.getEntriesByType('resource')
        .filter(r => r.name.includes('/v1/'))
        .map(r => ({url: r.name, start: r.startTime, end: r.responseEnd, bytes: r.transferSize})),
    assets: performance.getEntriesByType('resource')
        .filter(r => r.name.includes('/static/'))
        .reduce((latest, r) => Math.max(latest, r.responseEnd), 0),
})"""


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far: the browser (this process's descendants but the server), the
    server, and the rest of the machine."""
    ours = tree_cpu_seconds(os.getpid())
    server = tree_cpu_seconds(server_pid)
    own = time.process_time()
    return {
        "browser": ours - server - own,
        "server": server,
        "other": machine_cpu_seconds() - ours,
    }


def render_runs(base_url: str, runs: int, server_pid: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from tests.explorer.harness import CHROMIUM, CHROMIUM_ARGS

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1366, "height": 900})
                page = context.new_page()
                before = cpu_seconds(server_pid)
                page.goto(f"{base_url}/")
                page.wait_for_function(READY_JS, timeout=120_000)
                after = cpu_seconds(server_pid)  # the page's processes still run: counted
                result = page.evaluate(TIMINGS_JS)
                result["cpu_ms"] = {k: (after[k] - before[k]) * 1000 for k in after}
                results.append(result)
                context.close()
        finally:
            browser.close()
    return results


def api_alone(base_url: str, urls: list[str], repeats: int = 5) -> list[float]:
    """The page's API requests, all at once on their own connections, as a plain client: the
    wall time until the last answer is in, per repeat (ms)."""

    def get(url: str) -> None:
        with httpx2.Client(timeout=120) as client:
            response = client.get(url, headers={"Accept-Encoding": "gzip"})
            response.raise_for_status()

    times = []
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(get, urls))
            times.append((time.perf_counter() - started) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explorer", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
    args = parser.parse_args(argv)

    from tests.explorer.harness import running_app

    def say(msg: str) -> None:
        print(f"… {msg}", file=sys.stderr, flush=True)

    cached, meta = dataset.sqlite_database(args.events, args.seed, progress=say)
    say(f"database: {dataset.describe(meta)}{' (cached)' if meta.get('cached') else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "explorer.sqlite3"
        dataset.copy_database(cached, copy)
        url = f"sqlite:///{copy}"
        with running_app(url, Path(tmp) / "server.log") as server:
            assert server.process is not None
            runs = render_runs(server.base_url, args.runs, server.process.pid)
            requests = [r["url"] for r in runs[0]["api"]]
            peer = api_alone(server.base_url, requests)
    bad = [r for r in runs if r["state"] != "ready" or r["total"] != args.events]
    ready = [r["ready"] for r in runs]
    warm = ready[1:] or ready
    report = {
        "events": args.events,
        "runs_ms": [round(r, 1) for r in ready],
        "first_ms": round(ready[0], 1),
        "warm_median_ms": round(statistics.median(warm), 1),
        "warm_range_ms": [round(min(warm), 1), round(max(warm), 1)],
        "views_warm_median_ms": {
            view: round(statistics.median(r["views"][view] for r in runs[1:] or runs), 1)
            for view in ("map-loaded", "map", "timeline", "table")
        },
        "cpu_warm_median_ms": {
            part: round(statistics.median(r["cpu_ms"][part] for r in runs[1:] or runs), 1)
            for part in ("browser", "server", "other")
        },
        "assets_loaded_ms_run1": round(runs[0]["assets"], 1),
        "api_requests": [
            {
                "url": r["url"].split("/v1/", 1)[1][:120],
                "start_ms": round(r["start"], 1),
                "end_ms": round(r["end"], 1),
            }
            for r in runs[0]["api"]
        ],
        "peer_api_alone_ms": [round(t, 1) for t in peer],
        "peer_median_ms": round(statistics.median(peer), 1),
        "ratio_warm_render_to_api": round(statistics.median(warm) / statistics.median(peer), 2),
        "failed_runs": bad,
    }
    print(json.dumps(report, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
