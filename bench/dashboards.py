"""Dashboard benchmark (issue 3): three dashboard queries on 10k-1M events, driven by wrk.

    python -m bench.dashboards --events 1000000      # make bench-dashboards
    python -m bench.dashboards --smoke               # CI: 10k events, 2 s a cell

On the same data (bench/dataset.py: SQLite cached under bench/data/, PostgreSQL loaded into a
throwaway cluster) and the same machine, in one run: our API (uvicorn, one worker) on
PostgreSQL and on SQLite, the bare SQL on each database, a minimal FastAPI + asyncpg +
orjson app (bench/refapp.py, PostgreSQL) and Datasette (SQLite), each answering

  Q1  a page of 100 events of one country-year, newest first (and the same at as_of, issue 12),
  Q2  monthly counts by event type for one country over 5 years (caching off, then on),
  Q3  a GeoJSON export of one country-year (features/s; the server's peak RSS for it and
      for a 3-year export, to show that memory stays flat),
  Q4  one event with its evidence (GET /v1/events/{id}: place, actors, sources, quotes,
      claims), against the reference app's byte-identical answer.

Servers and databases run on one CPU, the clients (wrk, pgbench) on another. Every answer
is checked against the bare SQL before it is timed; an endpoint that is not built yet
(404/422) is reported as n/a. Prints a markdown table, writes JSON to bench/results/, and
exits 1 if any system answered with errors or wrong rows. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import psycopg

from app.db import migrate
from app.db.session import create_db_engine
from bench import dataset, loadgen
from bench.dashboard_sql import for_psycopg, queries
from bench.run import (
    BenchError,
    ManagedProcess,
    _die_with_parent,
    _free_port,
    _terminate_cleanly,
    machine,
    machine_cpu_seconds,
    revision,
    tree_cpu_seconds,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
MAX_EVENTS = 2_000_000

COUNTRY = "SY"
YEAR = {"date_from": date(2022, 1, 1), "date_to": date(2022, 12, 31)}
FIVE_YEARS = {"date_from": date(2019, 1, 1), "date_to": date(2023, 12, 31)}
THREE_YEARS = {"date_from": date(2020, 1, 1), "date_to": date(2022, 12, 31)}
# An endpoint or parameter that is not built yet: the cell is n/a, not a failure.
NOT_BUILT = (404, 422)
# Peak RSS is "flat" when the 3-year export raised it by less than this share of the extra
# bytes it sent over the 1-year one (a server that holds the answer grows by more than 100%),
# beyond a slack for allocator noise and the buffers of a page or two (at 10k events the
# answers are smaller than those), so the verdict means something from ~100k events up.
FLAT_SHARE = 0.10
FLAT_SLACK_MB = 8.0
# A cell whose requests are slow (a 1M-event export takes seconds) runs longer than --duration,
# so that every connection completes a few; never longer than this.
MAX_CELL_SECONDS = 600.0


# What a cell turns into an "error" row (the run goes on, and exits 1 at the end): a refused
# connection, a body that is not the JSON asked for, a check that finds other rows.
CELL_ERRORS = (BenchError, OSError, ValueError, KeyError, TypeError, http.client.HTTPException)


def _say(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None or math.isnan(seconds) else round(seconds * 1000, 2)


# -- processes -----------------------------------------------------------------------------------


def _pinned(command: list[str], cpus: str) -> list[str]:
    # Without taskset a client still runs on the client CPUs: this process is pinned there
    # before any is started, and children inherit it.
    taskset = shutil.which("taskset")
    return [taskset, "-c", cpus, *command] if taskset else command


def _pin_child(cpus: str) -> Callable[[], None]:
    """preexec_fn: pin the child (also without taskset) and have it die with this process."""
    wanted = _cpu_set(cpus)

    def pin() -> None:
        _die_with_parent()
        os.sched_setaffinity(0, wanted)

    return pin


def _cpu_set(cpus: str) -> set[int]:
    out: set[int] = set()
    for part in cpus.split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = Path(entry.path, "stat").read_text()
                parents.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(
                    int(entry.name)
                )
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(parents.get(pid, []))
    return out


def pin_tree(root: int, cpus: str) -> bool:
    """Pin a running process and its children (PostgreSQL's postmaster and backends)."""
    try:
        for pid in _process_tree(root):
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(pid, _cpu_set(cpus))
    except PermissionError:
        return False
    return True


class Service(ManagedProcess):
    """A server in a subprocess, pinned to the server CPUs; stopped on exit, whatever happens."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        *,
        cpus: str,
        port: int,
        ready_path: str,
        workdir: Path,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.cwd = cwd
        self.command = _pinned(command, cpus)
        self.cpus = cpus
        self.env = env
        self.port = port
        self.ready_path = ready_path
        slug = re.sub(r"\W+", "-", name)
        self.log_path = workdir / f"{slug}-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Service:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # preexec_fn is unsafe with threads; none is running while a server starts.
                preexec_fn=_pin_child(self.cpus),
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 90.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                status, _, _ = http_get(self.port, self.ready_path, timeout=5)
            except OSError:
                time.sleep(0.1)
                continue
            if status < 500:
                return
            time.sleep(0.1)
        raise BenchError(f"{self.name} was not ready after {timeout:.0f}s:\n{self.log_tail()}")


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 300
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


# -- CPU and memory ------------------------------------------------------------------------------


class Probe:
    """CPU seconds so far: the server, the database, the clients (this process and the wrk or
    pgbench it ran), and everything else on the machine ("other": the contention)."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}

    def __call__(self) -> dict[str, float]:
        out = {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["client"] = time.process_time() + children.ru_utime + children.ru_stime
        # Servers this process started and stopped are reaped into RUSAGE_CHILDREN too, but
        # only when they stop: between two samples of one cell they are all still running.
        out["other"] = machine_cpu_seconds() - sum(out.values())
        return out


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakRss:
    """Peak resident memory of a process during a block: the kernel's high-water mark (reset
    through clear_refs when allowed) and a 5 ms sampler, whichever saw more."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self.before_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        self.before_kb = _status_kb(self.pid, "VmRSS") or 0
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset VmHWM
            self.hwm = True
        except OSError:
            self.hwm = False
        self.peak_kb = self.before_kb
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS") or 0)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.hwm:
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmHWM") or 0)

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    @property
    def before_mb(self) -> float:
        return round(self.before_kb / 1024, 1)


# -- measurements --------------------------------------------------------------------------------


@dataclass
class Measurement:
    tool: str
    seconds: float
    requests: int
    p50_s: float | None
    p99_s: float | None
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


_WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
%(headers)s
%(statuses)s
function done(summary, latency, requests)
  local e = summary.errors
  local codes = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do codes[#codes + 1] = string.format('"%%d": %%d', k, v) end end
  end
  io.write(string.format(
    'BENCHJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, ' ..
    '"p99_us": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), table.concat(codes, ", ")))
end
"""
_WRK_STATUSES = """
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
"""


class Driver:
    """Runs the load of one cell: wrk if installed (else bench/loadgen.py), pgbench, or a loop."""

    def __init__(self, opts: Options, workdir: Path, probe: Probe) -> None:
        self.opts = opts
        self.workdir = workdir
        self.probe = probe
        self.wrk = shutil.which("wrk") if opts.wrk else None
        self.timeout_s = 120.0
        self.pgbench = _pgbench()

    @property
    def http_tool(self) -> str:
        return "wrk" if self.wrk else "loadgen"

    def timing(self, single_s: float, clients: int) -> tuple[float, float]:
        """(warm-up, measured) seconds for requests that take ``single_s`` each when alone.

        Slow ones get no warm-up (a warm-up cut short would leave requests in flight into the
        measurement; the checks before it have warmed the server anyway) and enough time for
        each client to complete about three, since clients queue on the server's one CPU.
        """
        duration = min(MAX_CELL_SECONDS, max(self.opts.duration, 3 * clients * single_s))
        return (0.0 if single_s > 0.5 else self.opts.warmup), duration

    def http(
        self,
        port: int,
        path: str,
        headers: dict[str, str] | None = None,
        count_statuses: bool = False,
        single_s: float = 0.0,
    ) -> Measurement:
        warmup, duration = self.timing(single_s, self.opts.connections)
        # A request waits behind the others on the server's CPU: wrk must not give up on it.
        self.timeout_s = max(120.0, min(MAX_CELL_SECONDS, 5 * self.opts.connections * single_s))
        if warmup > 0:
            self._http_once(port, path, headers, count_statuses, warmup, keep=False)
        return self._http_once(port, path, headers, count_statuses, duration, keep=True)

    def _http_once(
        self,
        port: int,
        path: str,
        headers: dict[str, str] | None,
        count_statuses: bool,
        seconds: float,
        keep: bool,
    ) -> Measurement:
        before = self.probe() if keep else {}
        if self.wrk:
            m = self._wrk(port, path, headers or {}, count_statuses, seconds)
        else:
            m = self._loadgen(port, path, headers or {}, seconds)
        if keep:
            after = self.probe()
            m.cpu = {k: after[k] - before[k] for k in after if k in before}
        return m

    def _wrk(
        self, port: int, path: str, headers: dict[str, str], count_statuses: bool, seconds: float
    ) -> Measurement:
        script = self.workdir / "wrk.lua"
        header_lines = "\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
        )
        script.write_text(
            _WRK_SCRIPT
            % {"headers": header_lines, "statuses": _WRK_STATUSES if count_statuses else ""}
        )
        assert self.wrk is not None
        command = [
            self.wrk,
            "-t1",
            f"-c{self.opts.connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            f"{round(self.timeout_s)}s",
            "-s",
            str(script),
            f"http://{HOST}:{port}{path}",
        ]
        result = subprocess.run(
            _pinned(command, self.opts.client_cpus),
            capture_output=True,
            text=True,
            timeout=seconds + self.timeout_s + 60,
            check=False,
        )
        line = next((x for x in result.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
        if result.returncode != 0 or line is None:
            raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        data = json.loads(line.removeprefix("BENCHJSON "))
        errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
        return Measurement(
            tool="wrk",
            seconds=data["duration_us"] / 1e6,
            requests=data["requests"],
            p50_s=data["p50_us"] / 1e6,
            p99_s=data["p99_us"] / 1e6,
            errors=errors,
            statuses={str(k): v for k, v in data["statuses"].items()},
        )

    def _loadgen(
        self, port: int, path: str, headers: dict[str, str], seconds: float
    ) -> Measurement:
        statuses: dict[str, int] = {}
        lock = threading.Lock()

        class Get:
            def __init__(self) -> None:
                self.conn = http.client.HTTPConnection(HOST, port, timeout=300)

            def __call__(self, item: random.Random) -> list[float]:
                started = time.perf_counter()
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
                return [elapsed]

            def close(self) -> None:
                self.conn.close()

        result = loadgen.run_for(
            path, "requests", seconds, 0, lambda _n: Get(), self.opts.connections, 0
        )
        ordered = sorted(result.latencies)
        errors = sum(v for k, v in statuses.items() if int(k) >= 400)
        return Measurement(
            tool="loadgen",
            seconds=result.seconds,
            requests=result.count,
            p50_s=loadgen.percentile(ordered, 0.5),
            p99_s=loadgen.percentile(ordered, 0.99),
            errors=errors,
            statuses=statuses,
        )

    # -- the bare SQL --

    def pg_bare(
        self, conninfo: dict[str, str], sql: str, params: dict[str, Any], single_s: float
    ) -> Measurement:
        warmup, duration = self.timing(single_s, self.opts.connections)
        if self.pgbench:
            if warmup > 0:
                self._pgbench(conninfo, sql, params, warmup, keep=False)
            return self._pgbench(conninfo, sql, params, duration, keep=True)
        return self._threads(
            lambda: _PgLoop(conninfo, sql, params),
            "psycopg threads",
            self.opts.connections,
            warmup,
            duration,
        )

    def _pgbench(
        self, conninfo: dict[str, str], sql: str, params: dict[str, Any], seconds: float, keep: bool
    ) -> Measurement:
        logs = Path(tempfile.mkdtemp(prefix="pgbench-", dir=self.workdir))
        script = logs / "query.sql"
        script.write_text(sql + ";\n")
        assert self.pgbench is not None
        command = [
            self.pgbench,
            "-n",  # no vacuum of pgbench's own tables
            "-h",
            conninfo["host"],
            "-p",
            conninfo["port"],
            "-U",
            conninfo["user"],
            "-c",
            str(self.opts.connections),
            "-j",
            "1",
            "-T",
            str(max(1, round(seconds))),
            "-M",
            "prepared",
            "-f",
            str(script),
            *[x for k, v in params.items() for x in ("-D", f"{k}={v}")],
        ]
        if keep:
            command += ["--log", f"--log-prefix={logs / 'tx'}"]
        command.append(conninfo["dbname"])
        before = self.probe() if keep else {}
        result = subprocess.run(
            _pinned(command, self.opts.client_cpus),
            capture_output=True,
            text=True,
            timeout=seconds + 180,
            check=False,
            cwd=logs,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )
        after = self.probe() if keep else {}
        if result.returncode != 0:
            raise BenchError(
                f"pgbench failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        latencies: list[float] = []
        for log in logs.glob("tx.*"):
            for row in log.read_text().splitlines():
                latencies.append(int(row.split()[2]) / 1e6)
        shutil.rmtree(logs, ignore_errors=True)
        failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
        ordered = sorted(latencies)
        return Measurement(
            tool="pgbench",
            seconds=float(max(1, round(seconds))),
            requests=len(ordered),
            p50_s=loadgen.percentile(ordered, 0.5) if ordered else None,
            p99_s=loadgen.percentile(ordered, 0.99) if ordered else None,
            errors=int(failed[1]) if failed else 0,
            cpu={k: after[k] - before[k] for k in after if k in before},
        )

    def sqlite_bare(
        self, path: Path, sql: str, params: dict[str, Any], single_s: float
    ) -> Measurement:
        """One connection in a tight loop, on the server CPU: SQLite runs in its client, so
        this is the database's own time per query (no queueing, no client elsewhere)."""
        warmup, duration = self.timing(single_s, 1)
        return self._threads(
            lambda: _SqliteLoop(path, sql, params), "sqlite3 loop", 1, warmup, duration
        )

    def _threads(
        self, make: Callable[[], Any], tool: str, threads: int, warmup: float, duration: float
    ) -> Measurement:
        server_cpus = _cpu_set(self.opts.server_cpus)
        out: dict[str, Any] = {}

        def body() -> None:
            try:
                os.sched_setaffinity(0, server_cpus)  # this thread only (Linux)
                if warmup > 0:
                    loadgen.run_for(tool, "q", warmup, 0, lambda _n: make(), threads, 0)
                before = self.probe()
                out["result"] = loadgen.run_for(
                    tool, "q", duration, 0, lambda _n: make(), threads, 0
                )
                after = self.probe()
                out["cpu"] = {k: after[k] - before[k] for k in after if k in before}
            except BaseException as exc:
                out["error"] = exc

        # A thread of its own, so that pinning it to the server CPU leaves this one alone.
        t = threading.Thread(target=body, name="bare", daemon=True)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        result: loadgen.Result = out["result"]
        ordered = sorted(result.latencies)
        return Measurement(
            tool=tool,
            seconds=result.seconds,
            requests=result.count,
            p50_s=loadgen.percentile(ordered, 0.5),
            p99_s=loadgen.percentile(ordered, 0.99),
            cpu=out["cpu"],
        )


def _pgbench() -> str | None:
    from tests.pgcluster import find_bin_dir

    bin_dir = find_bin_dir()
    candidate = Path(bin_dir, "pgbench") if bin_dir else None
    if candidate is not None and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("pgbench")


class _SqliteLoop:
    def __init__(self, path: Path, sql: str, params: dict[str, Any]) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.sql = sql
        self.params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}

    def __call__(self, item: random.Random) -> list[float]:
        started = time.perf_counter()
        self.conn.execute(self.sql, self.params).fetchall()
        return [time.perf_counter() - started]

    def close(self) -> None:
        self.conn.close()


class _PgLoop:
    def __init__(self, conninfo: dict[str, str], sql: str, params: dict[str, Any]) -> None:
        self.conn = psycopg.connect(**conninfo, autocommit=True)  # type: ignore[arg-type]
        self.sql = for_psycopg(sql)
        self.params = params

    def __call__(self, item: random.Random) -> list[float]:
        started = time.perf_counter()
        self.conn.execute(self.sql, self.params, prepare=True).fetchall()
        return [time.perf_counter() - started]

    def close(self) -> None:
        self.conn.close()


# -- the answers, from the bare SQL --------------------------------------------------------------


@dataclass
class Truth:
    """What every system must answer, from the bare SQL on the same database."""

    q1_ids: list[int]
    q2: dict[tuple[str, str], int]
    q3: int
    q3_big: int
    country_place_id: int
    # Q4: the newest event of Q1's page, and our API's answer for it (the first one this run
    # got), which the reference app's must equal byte for byte.
    q4_id: int = 0
    q4_body: bytes | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "q1_rows": len(self.q1_ids),
            "q2_rows": len(self.q2),
            "q2_events": sum(self.q2.values()),
            "q3_features": self.q3,
            "q3_big_features": self.q3_big,
            "q4_event_id": self.q4_id,
            "q4_bytes": None if self.q4_body is None else len(self.q4_body),
        }


def _params(span: dict[str, date]) -> dict[str, Any]:
    return {"country": COUNTRY, **span}


def truth_from(
    execute: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]], dialect: str
) -> Truth:
    sql = queries(dialect)
    q1 = execute(sql["q1"], _params(YEAR))
    q2 = execute(sql["q2"], _params(FIVE_YEARS))
    count = "SELECT count(*) FROM ({}) AS q"
    q3 = execute(count.format(sql["q3"]), _params(YEAR))[0][0]
    q3_big = execute(count.format(sql["q3"]), _params(THREE_YEARS))[0][0]
    (place_id,) = execute(
        "SELECT id FROM place WHERE kind = 'country' AND country = :country", {"country": COUNTRY}
    )[0]
    ids = [r[0] for r in q1]
    return Truth(
        ids,
        {(str(m), t): int(n) for m, t, n in q2},
        int(q3),
        int(q3_big),
        place_id,
        q4_id=ids[0] if ids else 0,
    )


def sqlite_executor(path: Path) -> Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]:
    def execute(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            p = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
            return conn.execute(sql, p).fetchall()

    return execute


def pg_executor(conninfo: dict[str, str]) -> Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]:
    def execute(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
            return conn.execute(for_psycopg(sql), params).fetchall()

    return execute


# Each check returns (problem or None, features in the answer).
Check = Callable[[bytes], tuple[str | None, int]]


def _rows(body: bytes) -> list[dict[str, Any]]:
    data = orjson.loads(body)
    return data["data"] if isinstance(data, dict) else data


def check_q1(truth: Truth) -> Check:
    def check(body: bytes) -> tuple[str | None, int]:
        ids = [r["id"] for r in _rows(body)]
        if ids != truth.q1_ids:
            return (
                f"Q1 ids differ from the bare SQL ({len(ids)} rows, expected {len(truth.q1_ids)})",
                0,
            )
        return None, len(ids)

    return check


def check_q4(truth: Truth, *, ours: bool) -> Check:
    """The event of Q4 with its evidence (every source with its quotes). Our API's first
    answer is kept as the one the reference app's must equal, byte for byte."""

    def check(body: bytes) -> tuple[str | None, int]:
        event = orjson.loads(body)
        if event.get("id") != truth.q4_id:
            return f"Q4 answered event {event.get('id')}, not {truth.q4_id}", 0
        sources = event.get("sources") or []
        if not sources or not all(source.get("quotes") for source in sources):
            return "Q4's event lacks its sources or their quotes", 0
        if ours:
            if truth.q4_body is None:
                truth.q4_body = body
        elif body != truth.q4_body:
            expected = truth.q4_body or b""
            at = next(
                (i for i, (x, y) in enumerate(zip(body, expected, strict=False)) if x != y),
                min(len(body), len(expected)),
            )
            return (
                f"Q4's body differs from our API's ({len(body)} bytes against "
                f"{len(expected)}), first at byte {at}: {body[max(0, at - 40) : at + 40]!r} "
                f"against {expected[max(0, at - 40) : at + 40]!r}",
                0,
            )
        return None, 1

    return check


def check_q2(truth: Truth) -> Check:
    def check(body: bytes) -> tuple[str | None, int]:
        got: dict[tuple[str, str], int] = {}
        for r in _rows(body):
            month = str(r["bucket"] if "bucket" in r else r["month"])[:10]
            n = int(r["count"] if "count" in r else r["events"])
            if n:
                key = (month, r["event_type"])
                got[key] = got.get(key, 0) + n
        if got != truth.q2:
            return (
                f"Q2 counts differ from the bare SQL ({sum(got.values())} events in {len(got)} "
                f"cells, expected {sum(truth.q2.values())} in {len(truth.q2)})",
                0,
            )
        return None, len(got)

    return check


def check_q3(expected: int, geojson: bool = True) -> Check:
    def check(body: bytes) -> tuple[str | None, int]:
        data = orjson.loads(body)
        if geojson:
            if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
                return "Q3 is not a GeoJSON FeatureCollection", 0
            features = data["features"]
        else:
            features = _rows(body)
        if len(features) != expected:
            return f"Q3 has {len(features)} features, expected {expected}", 0
        return None, len(features)

    return check


# -- cells ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    query: str
    system: str
    database: str
    status: str = "ok"  # ok | n/a | error | skipped
    detail: str = ""
    target: str = ""  # the URL path or the SQL
    features_per_request: int | None = None
    measurement: Measurement | None = None
    memory: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "query": self.query,
            "system": self.system,
            "database": self.database,
            "status": self.status,
            "detail": self.detail,
            "target": self.target,
            **self.extra,
        }
        m = self.measurement
        if m is not None:
            n = max(m.requests, 1)
            out.update(
                tool=m.tool,
                seconds=round(m.seconds, 3),
                requests=m.requests,
                requests_per_s=round(m.per_second, 1),
                features_per_request=self.features_per_request,
                features_per_s=round(m.per_second * self.features_per_request)
                if self.features_per_request is not None
                else None,
                p50_ms=_ms(m.p50_s),
                p99_ms=_ms(m.p99_s),
                errors=m.errors,
                statuses=m.statuses,
                cpu_ms_per_request={k: round(v * 1000 / n, 3) for k, v in m.cpu.items()},
                # Clock ticks are sampled, not exact: a quiet machine can come out a hair below 0.
                other_cores=max(0.0, round(m.cpu.get("other", 0) / m.seconds, 2))
                if m.seconds
                else None,
            )
        if self.memory is not None:
            out["memory"] = self.memory
        return out

    @property
    def rate(self) -> float | None:
        if self.status != "ok" or self.measurement is None:
            return None
        return self.measurement.per_second

    @property
    def feature_rate(self) -> float | None:
        rate = self.rate
        return (
            None
            if rate is None or self.features_per_request is None
            else rate * self.features_per_request
        )


def _problem(body: bytes) -> str:
    with contextlib.suppress(Exception):
        data = orjson.loads(body)
        return str(data.get("detail") or data.get("title") or data)[:200]
    return body[:200].decode(errors="replace")


class Bench:
    """One run: the cells of every system on every database, in order."""

    def __init__(self, opts: Options, workdir: Path) -> None:
        self.opts = opts
        self.workdir = workdir
        self.probe = Probe()
        self.driver = Driver(opts, workdir, self.probe)
        self.cells: list[Cell] = []

    def add(self, cell: Cell) -> Cell:
        self.cells.append(cell)
        m = cell.measurement
        figure = (
            f"{m.per_second:,.1f} req/s, p50 {_ms(m.p50_s)} ms, p99 {_ms(m.p99_s)} ms"
            if m is not None and cell.status == "ok"
            else cell.detail
        )
        _say(f"{cell.database} · {cell.query} · {cell.system}: {cell.status} {figure}")
        return cell

    def http_cell(
        self,
        service: Service,
        query: str,
        system: str,
        database: str,
        path: str,
        check: Check,
        *,
        ours: bool,
        memory_paths: tuple[str, Check] | None = None,
        geo: bool = False,
    ) -> Cell:
        cell = Cell(query, system, database, target=path)
        try:
            started = time.perf_counter()
            status, _, body = http_get(service.port, path)
            single_s = time.perf_counter() - started
            if ours and status in NOT_BUILT:
                cell.status, cell.detail = "n/a", f"HTTP {status}: {_problem(body)}"
                return self.add(cell)
            if status != 200:
                raise BenchError(f"HTTP {status}: {_problem(body)}")
            problem, features = check(body)
            if problem:
                raise BenchError(problem)
            cell.features_per_request = features if geo else None
            if memory_paths is not None:
                cell.memory = self._memory(service, path, check, *memory_paths)
            if memory_paths is not None:
                with PeakRss(service.pid) as during:
                    cell.measurement = self.driver.http(service.port, path, single_s=single_s)
                cell.memory = {**(cell.memory or {}), "peak_under_load_mb": during.peak_mb}
            else:
                cell.measurement = self.driver.http(service.port, path, single_s=single_s)
            if cell.measurement.errors:
                raise BenchError(
                    f"{cell.measurement.errors} failed requests under load "
                    f"(statuses {cell.measurement.statuses}):\n{service.log_tail(10)}"
                )
            if cell.measurement.requests == 0:
                raise BenchError("no request completed in the measured time")
        except CELL_ERRORS as exc:
            cell.status, cell.detail = "error", f"{type(exc).__name__}: {exc}"
            cell.extra["server_log_tail"] = service.log_tail(40)
        return self.add(cell)

    def cached_cell(
        self, service: Service, query: str, system: str, database: str, path: str, check: Check
    ) -> Cell:
        """Q2 with caching on: fetch once for the ETag, then send it back (If-None-Match)."""
        cell = Cell(query, system, database, target=path)
        try:
            status, headers, body = http_get(service.port, path)
            if status in NOT_BUILT:
                cell.status, cell.detail = "n/a", f"HTTP {status}: {_problem(body)}"
                return self.add(cell)
            if status != 200:
                raise BenchError(f"HTTP {status}: {_problem(body)}")
            problem, _ = check(body)
            if problem:
                raise BenchError(problem)
            etag = headers.get("etag")
            send = {"If-None-Match": etag} if etag else {}
            if etag:
                again, _, _ = http_get(service.port, path, send)
                cell.extra["revalidation_status"] = again
            else:
                cell.detail = "no ETag in the answer: server-side caching only"
            cell.extra["etag"] = etag
            cell.measurement = self.driver.http(service.port, path, send, count_statuses=True)
            m = cell.measurement
            if m.errors:
                raise BenchError(f"{m.errors} failed requests under load (statuses {m.statuses})")
            if m.statuses:
                share = m.statuses.get("304", 0) / max(sum(m.statuses.values()), 1)
                cell.extra["share_304"] = round(share, 3)
                if etag:
                    cell.detail = f"{share:.0%} answered 304 Not Modified"
        except CELL_ERRORS as exc:
            cell.status, cell.detail = "error", f"{type(exc).__name__}: {exc}"
            cell.extra["server_log_tail"] = service.log_tail(40)
        return self.add(cell)

    def _memory(
        self, service: Service, path: str, check: Check, big_path: str, big_check: Check
    ) -> dict[str, Any]:
        """Peak RSS during one export of a year, then of three years, each alone.

        Flat when the bigger export raised the peak (above the RSS it started from) by less
        than FLAT_SHARE of the extra bytes it sent, plus FLAT_SLACK_MB of allocator noise: a
        server that held the answer would grow by more than the answer's size.
        """
        status, _, body3 = http_get(service.port, big_path)  # unmeasured: first-use costs
        if status != 200:
            raise BenchError(f"the 3-year export answered HTTP {status}: {_problem(body3)}")
        with PeakRss(service.pid) as one:
            _, _, body1 = http_get(service.port, path)
        with PeakRss(service.pid) as three:
            status, _, body3 = http_get(service.port, big_path)
        problem, features3 = big_check(body3)
        if status != 200 or problem:
            raise BenchError(f"3-year export: HTTP {status}, {problem or _problem(body3)}")
        _, features1 = check(body1)
        rise1 = one.peak_mb - one.before_mb
        rise3 = three.peak_mb - three.before_mb
        extra_mb = (len(body3) - len(body1)) / 2**20
        return {
            "rss_before_mb": one.before_mb,
            "peak_1y_mb": one.peak_mb,
            "peak_3y_mb": three.peak_mb,
            "rise_1y_mb": round(rise1, 1),
            "rise_3y_mb": round(rise3, 1),
            "bytes_1y": len(body1),
            "bytes_3y": len(body3),
            "features_1y": features1,
            "features_3y": features3,
            "big_target": big_path,
            "flat": rise3 - rise1 <= FLAT_SHARE * extra_mb + FLAT_SLACK_MB,
        }

    def bare_cell(
        self,
        query: str,
        database: str,
        sql: str,
        run: Callable[[], Measurement],
        features: int | None = None,
        system: str = "bare SQL",
    ) -> Cell:
        cell = Cell(query, system, database, target=sql, features_per_request=features)
        try:
            cell.measurement = run()
            if cell.measurement.errors:
                raise BenchError(f"{cell.measurement.errors} failed queries")
        except (*CELL_ERRORS, psycopg.Error, sqlite3.Error) as exc:
            cell.status, cell.detail = "error", f"{type(exc).__name__}: {exc}"
        return self.add(cell)

    def skip(self, query: str, system: str, database: str, why: str) -> None:
        self.add(Cell(query, system, database, status="skipped", detail=why))

    def guarded(self, database: str, system: str, run: Callable[[], None]) -> None:
        """Run a system's cells; if the system itself fails (it does not start), say so in an
        error row and go on with the next one."""
        try:
            run()
        except CELL_ERRORS as exc:
            self.add(Cell("Q1", system, database, status="error", detail=f"{exc}"[:2000]))


# -- the systems ---------------------------------------------------------------------------------


def _query_string(span: dict[str, date], **more: Any) -> str:
    return urlencode({"country": COUNTRY, **{k: v.isoformat() for k, v in span.items()}, **more})


API_Q1 = "/v1/events?" + _query_string(YEAR, sort="-date_start", limit=100)
API_Q2 = "/v1/stats/events?" + _query_string(FIVE_YEARS, interval="month", group_by="event_type")
API_Q3 = "/v1/events?" + _query_string(YEAR, format="geojson")
API_Q3_BIG = "/v1/events?" + _query_string(THREE_YEARS, format="geojson")


def api_q4(truth: Truth) -> str:
    return f"/v1/events/{truth.q4_id}"


@dataclass
class ApiSettings:
    """How to turn our API's caching on and off, read from app.config when the run starts."""

    cache_off: dict[str, str]
    cache_on: dict[str, str] | None  # None: no such setting, caching on = ETags alone
    rollups_off: dict[str, str] | None

    @classmethod
    def detect(cls) -> ApiSettings:
        from app.config import Settings

        fields = Settings.model_fields
        off: dict[str, str] = {}
        on: dict[str, str] = {}
        for name, info in fields.items():
            if not name.startswith("stats_cache"):
                continue
            env = f"CONFLICTDB_{name.upper()}"
            if info.annotation is bool:
                off[env], on[env] = "false", "true"
            elif info.annotation in (int, float):
                off[env] = "0"
                if not info.default:
                    on[env] = "300"
        rollups = (
            {"CONFLICTDB_STATS_USE_ROLLUPS": "false", **off}
            if "stats_use_rollups" in fields
            else None
        )
        return cls(off, on if off else None, rollups)


class Systems:
    """Starts each system on a database and runs its cells."""

    def __init__(self, bench: Bench, opts: Options, workdir: Path) -> None:
        self.bench = bench
        self.opts = opts
        self.workdir = workdir
        self.settings = ApiSettings.detect()

    def _service(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        port: int,
        ready: str,
        cwd: Path = ROOT,
    ) -> Service:
        return Service(
            name,
            command,
            env,
            cpus=self.opts.server_cpus,
            port=port,
            ready_path=ready,
            workdir=self.workdir,
            cwd=cwd,
        )

    def api(
        self, database_url: str, extra_env: dict[str, str], tree: Path | None = None
    ) -> Service:
        """Our API on ``database_url``; ``tree``: the source tree of another commit to run
        instead of this one (uvicorn imports ``app`` from its working directory first)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
        env.pop("DATABASE_URL", None)
        env.update(
            CONFLICTDB_DATABASE_URL=database_url,
            # Not "local": that would write an API key into the measured database.
            CONFLICTDB_ENVIRONMENT="test",
            CONFLICTDB_DEMO="false",
            CONFLICTDB_MIGRATE_ON_START="false",
            # The limiter stays in the request path, far above what the clients send.
            CONFLICTDB_RATE_LIMIT_PER_MINUTE=str(10**9),
            # Every client may hold a stream at once: the per-process ceiling on streams
            # guards against slow readers, and Q3 measures throughput, not that guard.
            CONFLICTDB_MAX_STREAMS=str(max(8, self.opts.connections)),
            **extra_env,
        )
        port = _free_port()
        command = [
            str(BIN / "uvicorn"),
            "app.main:create_app",
            "--factory",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
        ]
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
            return self._service("our API (A/B)", command, env, port, "/healthz", cwd=tree)
        return self._service("our API", command, env, port, "/healthz")

    def run_ab(
        self, database: str, database_url: str, truth: Truth, db_pid: int | None, against: Path
    ) -> None:
        """Q1 and Q4 on our API at another commit (``--against``) and at this one, twice each,
        alternating (so that a machine that gets busier part-way shows as a difference
        between the rounds, not between the commits); then this one with the access log off
        and with the shared rate-limit store, when it has those settings."""
        b = self.bench
        off = self.settings.cache_off
        rev = self.opts.against
        fields = _setting_names()
        for round_ in ("", " (again)"):
            with self.api(database_url, off, tree=against) as svc:
                self._watch(svc, db_pid)
                b.http_cell(
                    svc,
                    "Q1",
                    f"our API at {rev}{round_}",
                    database,
                    API_Q1,
                    check_q1(truth),
                    ours=True,
                )
                b.http_cell(
                    svc,
                    "Q4",
                    f"our API at {rev}{round_}",
                    database,
                    api_q4(truth),
                    check_q4(truth, ours=True),
                    ours=True,
                )
            with self.api(database_url, off) as svc:
                self._watch(svc, db_pid)
                b.http_cell(
                    svc, "Q1", f"our API{round_}", database, API_Q1, check_q1(truth), ours=True
                )
                b.http_cell(
                    svc,
                    "Q4",
                    f"our API{round_}",
                    database,
                    api_q4(truth),
                    check_q4(truth, ours=True),
                    ours=True,
                )
        variants = {
            "our API, access log off": ("access_log", {"CONFLICTDB_ACCESS_LOG": "false"}),
            "our API, shared rate limit": (
                "rate_limit_store",
                {"CONFLICTDB_RATE_LIMIT_STORE": "database"},
            ),
        }
        for label, (setting, env) in variants.items():
            if setting not in fields:
                continue
            with self.api(database_url, {**off, **env}) as svc:
                self._watch(svc, db_pid)
                b.http_cell(svc, "Q1", label, database, API_Q1, check_q1(truth), ours=True)

    def run_api(self, database: str, database_url: str, truth: Truth, db_pid: int | None) -> None:
        b = self.bench
        s = self.settings
        place_q1 = "/v1/events?" + urlencode(
            {
                "place": truth.country_place_id,
                **{k: v.isoformat() for k, v in YEAR.items()},
                "sort": "-date_start",
                "limit": 100,
            }
        )
        with self.api(database_url, s.cache_off) as svc:
            self._watch(svc, db_pid)
            b.http_cell(svc, "Q1", "our API", database, API_Q1, check_q1(truth), ours=True)
            b.http_cell(
                svc,
                "Q1",
                f"our API, place={truth.country_place_id}",
                database,
                place_q1,
                check_q1(truth),
                ours=True,
            )
            # Issue 12: the same page as it was at the current data version (as_of reads the
            # history, not the live table): the cost of a reproducible read.
            _, answered, _ = http_get(svc.port, API_Q1)
            b.http_cell(
                svc,
                "Q1",
                "our API, as_of",
                database,
                f"{API_Q1}&as_of={answered.get('data-version', '0')}",
                check_q1(truth),
                ours=True,
            )
            label = "our API, caching off" if s.cache_on is not None else "our API"
            b.http_cell(svc, "Q2", label, database, API_Q2, check_q2(truth), ours=True)
            b.http_cell(
                svc,
                "Q3",
                "our API",
                database,
                API_Q3,
                check_q3(truth.q3),
                ours=True,
                memory_paths=(API_Q3_BIG, check_q3(truth.q3_big)),
                geo=True,
            )
            b.http_cell(
                svc, "Q4", "our API", database, api_q4(truth), check_q4(truth, ours=True), ours=True
            )
            if s.cache_on is None:
                b.cached_cell(
                    svc, "Q2", "our API, caching on (ETag)", database, API_Q2, check_q2(truth)
                )
        if s.cache_on is not None:
            with self.api(database_url, s.cache_on) as svc:
                self._watch(svc, db_pid)
                b.cached_cell(svc, "Q2", "our API, caching on", database, API_Q2, check_q2(truth))
        if s.rollups_off is not None:
            with self.api(database_url, s.rollups_off) as svc:
                self._watch(svc, db_pid)
                b.http_cell(
                    svc, "Q2", "our API, rollups off", database, API_Q2, check_q2(truth), ours=True
                )

    def _watch(self, svc: Service, db_pid: int | None) -> None:
        self.bench.probe.pids = {"server": svc.pid}
        if db_pid is not None:
            self.bench.probe.pids["database"] = db_pid

    def run_bare(
        self,
        database: str,
        truth: Truth,
        measure: Callable[[str, dict[str, Any], float], Measurement],
        execute: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]],
        has_rollups: bool,
        db_pid: int | None,
    ) -> None:
        def run(sql: str, params: dict[str, Any]) -> Measurement:
            started = time.perf_counter()
            execute(sql, params)  # once alone: how long the measurement must be
            return measure(sql, params, time.perf_counter() - started)

        b = self.bench
        b.probe.pids = {} if db_pid is None else {"database": db_pid}
        sql = queries(database)
        b.bare_cell("Q1", database, sql["q1"], lambda: run(sql["q1"], _params(YEAR)))
        b.bare_cell("Q2", database, sql["q2"], lambda: run(sql["q2"], _params(FIVE_YEARS)))
        if has_rollups:
            b.bare_cell(
                "Q2",
                database,
                sql["q2_rollup"],
                lambda: run(sql["q2_rollup"], _params(FIVE_YEARS)),
                system="bare SQL on the rollup table",
            )
        b.bare_cell(
            "Q3", database, sql["q3"], lambda: run(sql["q3"], _params(YEAR)), features=truth.q3
        )

    def run_refapp(self, conninfo: dict[str, str], truth: Truth, db_pid: int | None) -> None:
        b = self.bench
        if not _importable("asyncpg"):
            for q in ("Q1", "Q2", "Q3", "Q4"):
                b.skip(
                    q,
                    "reference app",
                    "postgresql",
                    "asyncpg is not installed (pip install -e '.[bench]')",
                )
            return
        port = _free_port()
        env = dict(os.environ)
        env["BENCH_REFAPP_DSN"] = (
            f"postgresql://{conninfo['user']}@{conninfo['host']}:{conninfo['port']}/{conninfo['dbname']}"
        )
        command = [
            str(BIN / "uvicorn"),
            "bench.refapp:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
        ]
        with self._service("reference app", command, env, port, "/openapi.json") as svc:
            self._watch(svc, db_pid)
            b.http_cell(
                svc,
                "Q1",
                "reference app",
                "postgresql",
                "/q/q1?" + _query_string(YEAR),
                check_q1(truth),
                ours=False,
            )
            b.http_cell(
                svc,
                "Q2",
                "reference app",
                "postgresql",
                "/q/q2?" + _query_string(FIVE_YEARS),
                check_q2(truth),
                ours=False,
            )
            b.http_cell(
                svc,
                "Q3",
                "reference app",
                "postgresql",
                "/geojson?" + _query_string(YEAR),
                check_q3(truth.q3),
                ours=False,
                memory_paths=("/geojson?" + _query_string(THREE_YEARS), check_q3(truth.q3_big)),
                geo=True,
            )
            b.http_cell(
                svc,
                "Q4",
                "reference app",
                "postgresql",
                f"/events/{truth.q4_id}",
                check_q4(truth, ours=False),
                ours=False,
            )

    def run_datasette(self, path: Path, truth: Truth, events: int) -> None:
        b = self.bench
        datasette = BIN / "datasette"
        if not datasette.exists():
            for q in ("Q1", "Q2", "Q3"):
                b.skip(
                    q,
                    "Datasette",
                    "sqlite",
                    "datasette is not installed (pip install -e '.[bench]')",
                )
            return
        port = _free_port()
        settings = {
            # Q2 and Q3 scan a country's years: far over the 1 s default at 1M events.
            "sql_time_limit_ms": "120000",
            # Q3 returns every event of a country-year (truncated at 1,000 by default).
            "max_returned_rows": str(max(1000, events + 1)),
        }
        command = [str(datasette), "serve", "-i", str(path), "--host", HOST, "--port", str(port)]
        for k, v in settings.items():
            command += ["--setting", k, v]
        name = path.stem
        sql = queries("sqlite")

        def url(query: str, span: dict[str, date]) -> str:
            return (
                f"/{name}.json?"
                + urlencode({"sql": sql[query], "_shape": "array"})
                + "&"
                + _query_string(span)
            )

        with self._service("Datasette", command, dict(os.environ), port, "/-/versions.json") as svc:
            self._watch(svc, None)
            b.http_cell(
                svc, "Q1", "Datasette", "sqlite", url("q1", YEAR), check_q1(truth), ours=False
            )
            b.http_cell(
                svc, "Q2", "Datasette", "sqlite", url("q2", FIVE_YEARS), check_q2(truth), ours=False
            )
            b.http_cell(
                svc,
                "Q3",
                "Datasette (JSON rows)",
                "sqlite",
                url("q3", YEAR),
                check_q3(truth.q3, geojson=False),
                ours=False,
                memory_paths=(url("q3", THREE_YEARS), check_q3(truth.q3_big, geojson=False)),
                geo=True,
            )
        b.cells[-1].extra["datasette_settings"] = settings


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Options:
    events: int
    seed: int
    duration: float
    warmup: float
    connections: int
    backends: tuple[str, ...]
    server_cpus: str
    client_cpus: str
    wrk: bool
    rebuild: bool
    smoke: bool
    results_dir: Path
    against: str | None = None


def _pg_info(conninfo: dict[str, str]) -> dict[str, Any]:
    names = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "jit",
        "fsync",
        "synchronous_commit",
        "max_parallel_workers_per_gather",
    )
    with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
        settings = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}  # type: ignore[index]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    return {**settings, "database_bytes": size}


def _has_table(
    execute: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]], name: str, dialect: str
) -> bool:
    sql = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"
        if dialect == "sqlite"
        else "SELECT count(*) FROM information_schema.tables WHERE table_name = :name"
    )
    return bool(execute(sql, {"name": name})[0][0])


def plans(
    execute: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]], dialect: str
) -> dict[str, str]:
    """Each bare query's plan (PostgreSQL: as run, with timings), kept in the JSON."""
    spans = {"q1": YEAR, "q2": FIVE_YEARS, "q2_rollup": FIVE_YEARS, "q3": YEAR}
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    out = {}
    for name, sql in queries(dialect).items():
        try:
            rows = execute(prefix + sql, _params(spans[name]))
        except (psycopg.Error, sqlite3.Error) as exc:  # no rollup table in this schema
            out[name] = f"<{exc}>"
            continue
        out[name] = "\n".join(str(r[-1]) for r in rows)
    return out


def _setting_names() -> set[str]:
    from app.config import Settings

    return set(Settings.model_fields)


def _source_tree(rev: str, workdir: Path) -> Path:
    """The files of git revision ``rev``, unpacked under ``workdir`` (``git archive``)."""
    tree = workdir / f"rev-{re.sub(r'[^A-Za-z0-9_.-]', '_', rev)}"
    tree.mkdir()
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(f"cannot unpack revision {rev!r}: {exc}") from exc
    return tree


def run(opts: Options) -> dict[str, Any]:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    loads: dict[str, Any] = {}
    truths: dict[str, Truth] = {}
    databases: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="conflictdb-dash-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        # -- data: the SQLite cache (built in a second process, meanwhile PostgreSQL loads) --
        builder = None
        # The key is taken once: if someone edits the writer meanwhile, the file built now is
        # still the one this run uses (and a later run builds another).
        key = dataset.cache_key(opts.events, opts.seed)
        if "sqlite" in opts.backends:
            cached = (dataset.CACHE_DIR / f"{key}.sqlite3").exists() and not opts.rebuild
            if not cached:
                _say(f"building the SQLite cache for {opts.events:,} events in a second process")
                command = [
                    sys.executable,
                    "-m",
                    "bench.dataset",
                    "--events",
                    str(opts.events),
                    "--seed",
                    str(opts.seed),
                    "--cache-key",
                    key,
                    *(["--rebuild"] if opts.rebuild else []),
                ]
                builder = subprocess.Popen(
                    command, cwd=ROOT, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent
                )
        cluster = None
        if "postgresql" in opts.backends:
            from tests.pgcluster import PostgresCluster

            cluster = PostgresCluster()
            cluster.start()
            stack.callback(cluster.stop)
            url = cluster.create_database("dashboards")
            engine = create_db_engine(url)
            try:
                migrate.upgrade(engine)
                _say(f"PostgreSQL: loading {opts.events:,} events through app.writer")
                loads["postgresql"] = dataset.load(
                    engine, opts.events, opts.seed, progress=lambda m: _say(f"PostgreSQL: {m}")
                )
            finally:
                engine.dispose()
            _say(f"PostgreSQL: {dataset.describe(loads['postgresql'])}")
            conninfo = {
                "host": HOST,
                "port": str(cluster.port),
                "user": "postgres",
                "dbname": "dashboards",
            }
            databases["postgresql"] = {"url": url, "conninfo": conninfo}
        if builder is not None and builder.wait() != 0:
            raise BenchError("building the SQLite database failed (see above)")
        if "sqlite" in opts.backends:
            cache_path, loads["sqlite"] = dataset.sqlite_database(opts.events, opts.seed, key=key)
            _say(
                f"SQLite: {dataset.describe(loads['sqlite'])}"
                + (" (from the cache)" if loads["sqlite"].get("cached") else "")
            )
            # A private copy: nothing the servers do can change the cached file.
            path = workdir / "conflictdb.sqlite3"
            shutil.copyfile(cache_path, path)
            databases["sqlite"] = {
                "url": f"sqlite:///{path}",
                "path": path,
                "cache": str(cache_path),
            }

        # -- pin: servers and databases on one CPU, clients on another --
        host = machine()  # before pinning, which narrows what this process sees
        os.sched_setaffinity(0, _cpu_set(opts.client_cpus))
        db_pid = None
        if cluster is not None:
            assert cluster.data_dir is not None
            db_pid = int((cluster.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            databases["postgresql"]["pinned"] = pin_tree(db_pid, opts.server_cpus)

        bench = Bench(opts, workdir)
        systems = Systems(bench, opts, workdir)
        against = _source_tree(opts.against, workdir) if opts.against else None
        if "postgresql" in databases:
            info = databases["postgresql"]
            execute = pg_executor(info["conninfo"])
            truth = truths["postgresql"] = truth_from(execute, "postgresql")
            info["settings"] = _pg_info(info["conninfo"])
            info["plans"] = plans(execute, "postgresql")
            systems.run_bare(
                "postgresql",
                truth,
                lambda sql, params, single: bench.driver.pg_bare(
                    info["conninfo"], sql, params, single
                ),
                execute,
                _has_table(execute, "event_rollup", "postgresql"),
                db_pid,
            )
            if against is not None:
                tree = against
                bench.guarded(
                    "postgresql",
                    "our API",
                    lambda: systems.run_ab("postgresql", info["url"], truth, db_pid, tree),
                )
            else:
                bench.guarded(
                    "postgresql",
                    "our API",
                    lambda: systems.run_api("postgresql", info["url"], truth, db_pid),
                )
                bench.guarded(
                    "postgresql",
                    "reference app",
                    lambda: systems.run_refapp(info["conninfo"], truth, db_pid),
                )
        if "sqlite" in databases:
            info = databases["sqlite"]
            execute = sqlite_executor(info["path"])
            truth = truths["sqlite"] = truth_from(execute, "sqlite")
            info["sqlite_version"] = sqlite3.sqlite_version
            info["bytes"] = info["path"].stat().st_size
            info["plans"] = plans(execute, "sqlite")
            systems.run_bare(
                "sqlite",
                truth,
                lambda sql, params, single: bench.driver.sqlite_bare(
                    info["path"], sql, params, single
                ),
                execute,
                _has_table(execute, "event_rollup", "sqlite"),
                None,
            )
            if against is not None:
                tree = against
                bench.guarded(
                    "sqlite",
                    "our API",
                    lambda: systems.run_ab("sqlite", info["url"], truth, None, tree),
                )
            else:
                bench.guarded(
                    "sqlite",
                    "our API",
                    lambda: systems.run_api("sqlite", info["url"], truth, None),
                )
                bench.guarded(
                    "sqlite",
                    "Datasette",
                    lambda: systems.run_datasette(info["path"], truth, opts.events),
                )
        for info in databases.values():
            info.pop("path", None)
    cells = bench.cells
    return {
        "started_at": started_at,
        "command": " ".join(["python", "-m", "bench.dashboards", *sys.argv[1:]]),
        "options": {
            "events": opts.events,
            "seed": opts.seed,
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "connections": opts.connections,
            "backends": list(opts.backends),
            "server_cpus": opts.server_cpus,
            "client_cpus": opts.client_cpus,
            "smoke": opts.smoke,
            "against": opts.against,
        },
        "http_client": bench.driver.http_tool,
        "pgbench": bench.driver.pgbench,
        "revision": revision(),
        "machine": {**host, "load_average_at_end": os.getloadavg()},
        "api_settings": {
            "cache_off": systems.settings.cache_off,
            "cache_on": systems.settings.cache_on,
            "rollups_off": systems.settings.rollups_off,
        },
        "loads": loads,
        "databases": databases,
        "truth": {k: v.as_json() for k, v in truths.items()},
        "cells": [c.as_json() for c in cells],
        "targets": targets(cells),
        "ok": not any(c.status == "error" for c in cells),
    }


# -- targets and output --------------------------------------------------------------------------


def _find(cells: list[Cell], query: str, system: str, database: str) -> Cell | None:
    return next(
        (c for c in cells if c.query == query and c.system == system and c.database == database),
        None,
    )


def _api_q2(cells: list[Cell], database: str, cached: bool) -> Cell | None:
    for c in cells:
        if (
            c.query == "Q2"
            and c.database == database
            and c.system.startswith("our API")
            and ("caching on" in c.system) == cached
            and "rollups off" not in c.system
        ):
            return c
    return None


def targets(cells: list[Cell]) -> list[dict[str, Any]]:
    """The issue's targets, on PostgreSQL; the same ratios on SQLite, for information."""
    out: list[dict[str, Any]] = []
    ran = {c.database for c in cells}

    def add(name: str, value: float | None, want: float | None, missing: list[str]) -> None:
        if value is None:
            status = f"n/a: {', '.join(missing)} not measured"
        elif want is None:
            status = "info"
        else:
            status = "met" if value >= want else "missed"
        out.append({"target": name, "want": want, "value": value, "status": status})

    def ratio(
        name: str,
        ours: tuple[str, Cell | None],
        theirs: tuple[str, Cell | None],
        want: float | None,
    ) -> None:
        rates = [c.rate if c is not None else None for _, c in (ours, theirs)]
        missing = [n for (n, _), r in zip((ours, theirs), rates, strict=True) if r is None]
        a, b = rates
        add(name, round(a / b, 2) if a is not None and b else None, want, missing)

    # Issue 16's targets (the read path): ratios to a peer measured in the same run.
    for db in ("postgresql", "sqlite"):
        if db not in ran:
            continue
        official = db == "postgresql"
        tag = "PostgreSQL" if official else "SQLite"
        api = f"our API ({tag})"
        q1 = (api, _find(cells, "Q1", "our API", db))
        if official:
            ratio(
                f"Q1 {tag}: our API / reference app ≥ 0.9",
                q1,
                ("reference app", _find(cells, "Q1", "reference app", db)),
                0.9,
            )
        else:
            ratio(
                f"Q1 {tag}: our API / Datasette ≥ 1.5",
                q1,
                ("Datasette", _find(cells, "Q1", "Datasette", db)),
                1.5,
            )
        place = next(
            (
                c
                for c in cells
                if c.query == "Q1" and c.database == db and c.system.startswith("our API, place=")
            ),
            None,
        )
        ratio(f"Q1 {tag}: place=<country> / country= ≥ 0.8", (f"{api}, place=", place), q1, 0.8)
        ratio(
            f"Q1 {tag}: our API with as_of / without (the cost of a reproducible read)",
            (f"{api}, as_of", _find(cells, "Q1", "our API, as_of", db)),
            q1,
            None,
        )
        ratio(
            f"Q2 {tag}: our API, caching off / bare query on the rollup table ≥ 0.5",
            (api, _api_q2(cells, db, cached=False)),
            (
                "bare SQL on the rollup table",
                _find(cells, "Q2", "bare SQL on the rollup table", db),
            ),
            0.5,
        )
        ratio(
            f"Q2 {tag}: our API, caching on / bare aggregate",
            (f"{api}, caching on", _api_q2(cells, db, cached=True)),
            ("bare SQL", _find(cells, "Q2", "bare SQL", db)),
            None,
        )
        q3 = _find(cells, "Q3", "our API", db)
        if official:
            ref3 = _find(cells, "Q3", "reference app", db)
            mine, theirs = (c.feature_rate if c else None for c in (q3, ref3))
            add(
                f"Q3 {tag}: our API / reference app, features/s ≥ 0.8",
                round(mine / theirs, 2) if mine is not None and theirs else None,
                0.8,
                [n for n, r in ((api, mine), ("reference app", theirs)) if r is None],
            )
        memory = q3.memory if q3 is not None and q3.status == "ok" else None
        add(
            f"Q3 {tag}: our API's peak RSS flat from a 1-year to a 3-year export",
            None if memory is None else float(memory["flat"]),
            1.0,
            [api],
        )
        if memory is not None:
            out[-1]["value"] = f"+{memory['rise_1y_mb']} / +{memory['rise_3y_mb']} MB"
            out[-1]["status"] = "met" if memory["flat"] else "missed"
        if official:
            ratio(
                f"Q4 {tag}: our API / reference app (the same bytes) ≥ 0.8",
                (api, _find(cells, "Q4", "our API", db)),
                ("reference app", _find(cells, "Q4", "reference app", db)),
                0.8,
            )
    return out


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    o = report["options"]
    m = report["machine"]
    lines = [
        f"conflictdb dashboards · {o['events']:,} events (seed {o['seed']}) · "
        f"{o['duration_s']:g} s a cell after {o['warmup_s']:g} s warm-up · "
        f"{o['connections']} connections ({report['http_client']}; bare PostgreSQL: "
        f"{'pgbench' if report['pgbench'] else 'psycopg threads'}) · "
        f"servers on CPU {o['server_cpus']}, clients on CPU {o['client_cpus']} · "
        f"{m['nproc']} CPUs ({m['cpu_model']})",
        "",
    ]
    for db, load in report["loads"].items():
        lines.append(
            f"- load, {db}: {load['events']:,} events, {load['rows_total']:,} rows in "
            f"{load['load_seconds']:.1f} s = {load['rows_per_second']:,} rows/s "
            f"({load['events_per_second']:,} events/s)"
            + (" [from the cache]" if load.get("cached") else "")
        )
    lines += [
        "",
        "| query | system | database | requests/s | features/s | p50 ms | p99 ms | other cores | note |",
        "|---|---|---|--:|--:|--:|--:|--:|---|",
    ]
    order = {"Q1": 0, "Q2": 1, "Q3": 2, "Q4": 3}
    for c in sorted(
        report["cells"], key=lambda c: (order[c["query"]], c["database"] != "postgresql")
    ):
        if c["status"] != "ok":
            lines.append(
                f"| {c['query']} | {c['system']} | {c['database']} | {c['status']} | | | | | "
                f"{c['detail'][:120].replace('|', '/')} |"
            )
            continue
        note = c["detail"]
        if c.get("memory"):
            mem = c["memory"]
            note = (
                f"RSS {mem['rss_before_mb']} MB; peak +{mem['rise_1y_mb']} MB for 1 year "
                f"({mem['bytes_1y'] / 2**20:.1f} MB sent), +{mem['rise_3y_mb']} MB for 3 years "
                f"({mem['bytes_3y'] / 2**20:.1f} MB); {mem['peak_under_load_mb']} MB under load"
            )
        lines.append(
            f"| {c['query']} | {c['system']} | {c['database']} | {_num(c['requests_per_s'], 1)} | "
            f"{_num(c.get('features_per_s'))} | {_num(c['p50_ms'], 2)} | {_num(c['p99_ms'], 2)} | "
            f"{_num(c['other_cores'], 2)} | {note} |"
        )
    lines += ["", "| target | measured | status |", "|---|--:|---|"]
    for t in report["targets"]:
        value = t["value"]
        shown = (
            f"{value:,}"
            if isinstance(value, int)
            else (f"{value}×" if isinstance(value, float) else value or "–")
        )
        lines.append(f"| {t['target']} | {shown} | {t['status']} |")
    busy = [c for c in report["cells"] if (c.get("other_cores") or 0) > 0.1]
    if busy:
        worst = max(busy, key=lambda c: c["other_cores"])
        lines += [
            "",
            f"Contention: other processes kept up to {worst['other_cores']:.2f} cores busy "
            f"during {len(busy)} of {len(report['cells'])} cells (worst: {worst['database']} "
            f"{worst['query']} {worst['system']}); compare runs with care.",
        ]
    return "\n".join(lines)


# -- command line --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboards",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events", type=int, default=100_000, help="events in the data (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
    parser.add_argument(
        "--duration", type=float, default=30.0, help="measured seconds a cell (%(default)s)"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="unmeasured seconds before each (%(default)s)"
    )
    parser.add_argument(
        "--connections", type=int, default=10, help="client connections (%(default)s)"
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    cpus = sorted(os.sched_getaffinity(0))
    parser.add_argument(
        "--server-cpus",
        default=str(cpus[0]),
        help="CPUs of the servers and databases, e.g. 0 or 0-1 (the first one: %(default)s)",
    )
    parser.add_argument(
        "--client-cpus",
        default=str(cpus[-1]),
        help="CPUs of wrk and pgbench (the last one: %(default)s)",
    )
    parser.add_argument(
        "--no-wrk",
        dest="wrk",
        action="store_false",
        help="use bench/loadgen.py even if wrk is installed",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached SQLite file")
    parser.add_argument(
        "--smoke", action="store_true", help="CI size: 10,000 events, 2 s a cell, no warm-up"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--against",
        metavar="REV",
        help="A/B of the request path: Q1 and Q4 only, our API at git revision REV beside this "
        "working tree (twice each, alternating), in place of the other systems",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.duration, args.warmup = 10_000, 2.0, 0.0
    if not 1_000 <= args.events <= MAX_EVENTS:
        parser.error(f"--events must be between 1,000 and {MAX_EVENTS:,}")
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup <= 600:
        parser.error("--duration must be 1-600 s and --warmup 0-600 s")
    if not 1 <= args.connections <= 256:
        parser.error("--connections must be between 1 and 256")
    return Options(
        events=args.events,
        seed=args.seed,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        backends=("postgresql", "sqlite") if args.backend == "both" else (args.backend,),
        server_cpus=args.server_cpus,
        client_cpus=args.client_cpus,
        wrk=args.wrk,
        rebuild=args.rebuild,
        smoke=args.smoke,
        results_dir=args.results_dir,
        against=args.against,
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    with _terminate_cleanly():
        try:
            report = run(opts)
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 1
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = opts.results_dir / f"{stamp}-dashboards-{opts.events}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(markdown(report))
    print(f"\nresults: {path}", file=sys.stderr)
    if not report["ok"]:
        failed = [c for c in report["cells"] if c["status"] == "error"]
        print(
            f"bench failed: {len(failed)} cells answered with errors or wrong rows:",
            file=sys.stderr,
        )
        for c in failed:
            print(f"  {c['database']} {c['query']} {c['system']}: {c['detail']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
