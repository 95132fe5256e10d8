"""Benchmark: ingest N synthetic reports over HTTP, read event pages, and compare with the floors.

    python -m bench.run --backend sqlite|postgresql --reports N --duration S [--smoke]
    python -m bench.run --backend sqlite|postgresql --reports N --ab REV [--rounds K]

Sets up a fresh, migrated database, starts the real server (uvicorn, one worker) on loopback,
POSTs the reports from a few concurrent clients, then reads event pages for a fixed time. The
same reads are replayed as bare SQL through the driver and through the repository in-process,
and the same reports are written in-process (pipeline; writer batch API) into fresh databases.
Prints a markdown table and writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import hashlib
import http.client
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from app.db import migrate
from app.db.session import create_db_engine, read_session
from app.models import Actor, Article, Event, Place, Quote
from bench import loadgen, synthetic
from bench.baselines import (
    PAGE_SIZE,
    SORT,
    BareRead,
    CapturedQuery,
    EventQuery,
    PipelineIngest,
    QueryMix,
    RepositoryRead,
    WriterIngest,
    capture_list_queries,
    connect_bare,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
HOST = "127.0.0.1"  # loopback only: the server and the PostgreSQL cluster never face a network
HTTP_TIMEOUT = 120.0
MAX_REPORTS = 100_000
MAX_DURATION = 600.0
SMOKE_REPORTS = 30
SMOKE_DURATION = 2.0
# Above this many cores used by other processes during a phase, the run is flagged disturbed.
DISTURBED_CORES = 0.1


class BenchError(RuntimeError):
    """The run cannot give honest figures (a failed request, a wrong row count)."""


# -- CPU accounting --------------------------------------------------------------------------


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds including reaped children), for every process."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw.rpartition(")")[2].split()
        # After the command name: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
        cpu = sum(int(x) for x in fields[11:15]) / tick
        out[int(entry.name)] = (int(fields[1]), cpu)
    return out


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU time of a process and its descendants (PostgreSQL's backends, for the postmaster)."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += stats[pid][1]
            stack.extend(children.get(pid, []))
    return total


# -- the server under test ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: the server gets SIGTERM if the bench itself is killed outright,
    # the one case the finally blocks cannot cover.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class ManagedProcess:
    """A subprocess a benchmark starts (its output in ``log_path``) and stops on leaving the
    block, whatever happens: terminated, then killed if it lingers."""

    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"<no log: {exc}>"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


class Server(ManagedProcess):
    """uvicorn running app.main:create_app in a subprocess; stopped on exit, whatever happens."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        access_log: bool,
        extra_env: dict[str, str] | None = None,
        tree: Path = ROOT,
    ) -> None:
        # ``tree``: the checkout whose app/ it runs (an earlier commit's, in --ab mode).
        self.tree = tree
        self.extra_env = extra_env or {}
        self.database_url = database_url
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.port = _free_port()
        uvicorn = Path(sys.executable).with_name("uvicorn")
        launcher = [str(uvicorn)] if uvicorn.exists() else [sys.executable, "-m", "uvicorn"]
        self.command = [
            *launcher,
            "app.main:create_app",
            "--factory",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        if not access_log:
            # One log line per request would measure the terminal, not the app.
            self.command.append("--no-access-log")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = server_env(self.database_url, self.workdir, self.tree) | self.extra_env
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.tree,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # preexec_fn is unsafe with threads; none have started yet.
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        paths = ["/healthz", "/v1/events?limit=1"]
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", paths[0])
                status = conn.getresponse().status
                conn.close()
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return
            if status == 404 and len(paths) > 1:
                paths.pop(0)  # no health route in this version: a list request will do
                continue
            time.sleep(0.1)
        raise BenchError(f"the server was not ready after {timeout:.0f}s:\n{self.log_tail()}")


# -- databases ---------------------------------------------------------------------------------


def server_env(database_url: str, workdir: Path, tree: Path = ROOT) -> dict[str, str]:
    """The environment of the server and of the CLI: our database, nothing from the shell's,
    and ``tree``'s app/ first on the path (the installed package is this checkout's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    env.pop("DATABASE_URL", None)
    env.update(
        PYTHONPATH=str(tree),
        CONFLICTDB_DATABASE_URL=database_url,
        CONFLICTDB_DEMO="false",
        # The bench has migrated the database already; starting must not write to it.
        CONFLICTDB_MIGRATE_ON_START="false",
        # Local mode writes a key file when the database has no key; never into the checkout.
        CONFLICTDB_LOCAL_KEY_FILE=str(workdir / "local-key"),
        # The per-key limiter stays in the request path, but far above what the bench sends.
        CONFLICTDB_RATE_LIMIT_PER_MINUTE=str(10**9),
    )
    return env


def create_write_key(database_url: str, workdir: Path, tree: Path = ROOT) -> str:
    """A write-scoped API key, made the documented way: ``conflictdb keys create``."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--name", "bench", "--scope", "write"],
        cwd=tree,
        env=server_env(database_url, workdir, tree),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    key = result.stdout.strip()
    if result.returncode != 0 or not key:
        raise BenchError(f"could not create an API key:\n{result.stdout}{result.stderr}")
    return key


def _migrate(url: str) -> None:
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _prime(loader: WriterIngest, seed: int) -> None:
    """Load the synthetic world's actors and places, as a deployment's database already holds.

    Ingest then measures the steady state (entities matched, not created) on every path
    alike; ``--no-prime`` measures the cold start, where concurrent reports race to create the
    same actors and places.
    """
    loader.prime(*synthetic.build_world(seed).cast())


class SqliteBackend:
    name = "sqlite"

    def __init__(self, workdir: Path, **_: Any) -> None:
        self.workdir = workdir

    def __enter__(self) -> SqliteBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def create_database(self, name: str, *, migrated: bool = True) -> str:
        url = f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        if migrated:
            _migrate(url)
        return url

    def conninfo(self, url: str) -> str | None:
        return None

    def db_pid(self) -> int | None:
        return None  # in-process: its CPU is the server's or the bench's

    def info(self) -> dict[str, Any]:
        return {
            "sqlite_version": sqlite3.sqlite_version,
            "settings": "WAL, synchronous=FULL, busy_timeout=30s (app/db/dialect.py)",
            "location": str(self.workdir),
        }


class PostgresBackend:
    name = "postgresql"

    def __init__(self, workdir: Path, *, durable: bool = True) -> None:
        self.durable = durable
        self.cluster: Any = None

    def __enter__(self) -> PostgresBackend:
        # The test suite's throwaway cluster: initdb in /tmp, 127.0.0.1 only, as `nobody`
        # when we are root.
        from tests.pgcluster import PostgresCluster

        self.cluster = PostgresCluster()
        self.cluster.start()
        if self.durable:
            # The test cluster trades durability for speed (fsync=off). A benchmark should
            # commit the way production does, and the way the SQLite run does (FULL).
            with psycopg.connect(self.cluster.conninfo(), autocommit=True) as conn:
                for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                    conn.execute(f"ALTER SYSTEM SET {setting} = on")
                conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.5)  # the postmaster applies a reload asynchronously
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cluster is not None:
            self.cluster.stop()

    def create_database(self, name: str, *, migrated: bool = True) -> str:
        url = str(self.cluster.create_database(name))
        if migrated:
            _migrate(url)
        return url

    def conninfo(self, url: str) -> str:
        return str(self.cluster.conninfo(make_url(url).database))

    def db_pid(self) -> int | None:
        pid_file = self.cluster.data_dir / "postmaster.pid"
        return int(pid_file.read_text().split("\n", 1)[0])

    def info(self) -> dict[str, Any]:
        with psycopg.connect(self.cluster.conninfo(), autocommit=True) as conn:
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in (
                    "server_version",
                    "fsync",
                    "synchronous_commit",
                    "full_page_writes",
                    "shared_buffers",
                )
            }
        return {"postgresql": settings, "location": str(self.cluster.base_dir)}


BACKENDS: dict[str, type[SqliteBackend] | type[PostgresBackend]] = {
    "sqlite": SqliteBackend,
    "postgresql": PostgresBackend,
}


# -- HTTP clients ------------------------------------------------------------------------------
# The standard library's client: it costs the shared CPUs least per request, and a benchmark
# client should not need a dependency the app does not have.


@dataclass(frozen=True)
class Prepared:
    index: int
    body: bytes
    depends_on: tuple[int, ...]


class HttpIngest:
    def __init__(
        self, port: int, key: str, done: list[threading.Event], abort: threading.Event
    ) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        self.done = done
        self.abort = abort

    def __call__(self, item: Prepared) -> list[float]:
        for earlier in item.depends_on:
            # The report cites an event of an earlier one: that one must be committed first.
            while not self.done[earlier].wait(0.05):
                if self.abort.is_set():
                    raise BenchError(f"report {item.index}: aborted while waiting for {earlier}")
        started = time.perf_counter()
        self.conn.request("POST", "/v1/reports", body=item.body, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 201:
            self.abort.set()
            raise BenchError(
                f"report {item.index}: HTTP {response.status}: {data[:800].decode(errors='replace')}"
            )
        self.done[item.index].set()
        return [elapsed]

    def close(self) -> None:
        self.conn.close()


class HttpRead:
    def __init__(self, port: int, mix: QueryMix) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=HTTP_TIMEOUT)
        self.mix = mix

    def get(self, path: str) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        self.conn.request("GET", path)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise BenchError(f"GET {path}: HTTP {response.status}: {data[:800]!r}")
        return elapsed, orjson.loads(data)

    def path(self, q: EventQuery) -> str:
        params = {
            "limit": PAGE_SIZE,
            "place": q.place,
            "date_from": q.date_from.isoformat(),
            "date_to": q.date_to.isoformat(),
            "sort": SORT,
        }
        return f"/v1/events?{urlencode(params)}"

    def __call__(self, rng: Any) -> list[float]:
        path = self.path(self.mix.pick(rng))
        elapsed, page = self.get(path)
        latencies = [elapsed]
        if page["next_cursor"]:
            elapsed, _ = self.get(f"{path}&cursor={quote(page['next_cursor'])}")
            latencies.append(elapsed)
        return latencies

    def close(self) -> None:
        self.conn.close()


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Options:
    backend: str
    reports: int
    duration: float
    warmup: float
    concurrency: int
    seed: int
    pg_durable: bool
    prime: bool
    access_log: bool
    results_dir: Path
    smoke: bool
    ab: str | None = None
    rounds: int = 3


def revision() -> dict[str, Any]:
    """The commit measured, and whether app/ or migrations/ differed from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": os.environ.get("BENCH_COMMIT", "unknown"), "app_modified": None}
    return {"commit": commit, "app_modified": bool(status.strip())}


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine (steal included: a neighbour took it from us)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Probe:
    """CPU seconds used so far by the server, the database server, this process, and others.

    "other" is the machine's busy time that none of ours used: another job on the same CPUs.
    When it is not near zero, the run was disturbed and its figures are not comparable.
    """

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}

    def __call__(self) -> dict[str, float]:
        out = {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}
        out["bench"] = time.process_time()
        out["other"] = machine_cpu_seconds() - sum(out.values())
        return out


def _counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        counts = {
            model.__tablename__: int(
                session.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in (Article, Event, Quote, Place, Actor)
        }
        # Concurrent reports naming the same new actor must not each create it (a race on
        # PostgreSQL until 0fb9ff0): count any duplicates a run leaves behind.
        dupes = (
            select(Actor.name_norm)
            .group_by(Actor.name_norm, Actor.country, Actor.kind)
            .having(func.count() > 1)
            .subquery()
        )
        counts["duplicate_actors"] = int(
            session.execute(select(func.count()).select_from(dupes)).scalar_one()
        )
    return counts


def _read_targets(engine: Engine) -> tuple[QueryMix, tuple[CapturedQuery, CapturedQuery]]:
    """Country and admin1 place ids (the read mix), and the SQL the repository sends."""
    with read_session(engine) as session:
        ids = {
            kind: list(
                session.scalars(select(Place.id).where(Place.kind == kind).order_by(Place.id))
            )
            for kind in ("country", "admin1")
        }
    queries = capture_list_queries(engine)
    if not ids["country"] or not ids["admin1"]:
        raise BenchError("no country or admin1 places after ingest")
    return QueryMix(ids["country"], ids["admin1"]), queries


def _check_same_rows(port: int, bare: BareRead, mix: QueryMix, seed: int) -> None:
    """The floor must answer the API's question: compare first pages on a few queries."""
    rng = random.Random(seed)
    client = HttpRead(port, mix)
    try:
        for _ in range(5):
            q = mix.pick(rng)
            _, page = client.get(client.path(q))
            api_ids = [row["id"] for row in page["data"]]
            if api_ids != bare.first_page_ids(q):
                raise BenchError(f"the bare SQL and the API disagree for {q}")
    finally:
        client.close()


def _mix_shape(bare: BareRead, mix: QueryMix, seed: int, samples: int = 500) -> dict[str, float]:
    """How big the pages of the read mix are on this data: the figures depend on it."""
    rng = random.Random(f"{seed}:shape")
    pages = [rows for _ in range(samples) for _, rows in bare.pages(mix.pick(rng))]
    return {
        "requests_per_operation": round(len(pages) / samples, 3),
        "mean_rows_per_page": round(sum(pages) / len(pages), 1),
        "share_of_full_pages": round(sum(r == PAGE_SIZE for r in pages) / len(pages), 3),
    }


def _phase(label: str) -> None:
    print(f"… {label}", file=sys.stderr, flush=True)


def run(opts: Options) -> dict[str, Any]:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    _phase(f"generating {opts.reports} reports (seed {opts.seed})")
    reports = list(synthetic.generate(opts.reports, opts.seed))
    bodies = [orjson.dumps(r.payload) for r in reports]
    digest = hashlib.sha256(b"\n".join(bodies)).hexdigest()
    prepared = [
        Prepared(r.index, body, r.depends_on) for r, body in zip(reports, bodies, strict=True)
    ]
    results: list[loadgen.Result] = []
    probe = Probe()
    c = opts.concurrency

    with (
        tempfile.TemporaryDirectory(prefix="conflictdb-bench-") as tmp,
        BACKENDS[opts.backend](Path(tmp), durable=opts.pg_durable) as backend,
        contextlib.ExitStack() as stack,
    ):
        db_pid = backend.db_pid()
        if db_pid is not None:
            probe.pids["database"] = db_pid
        databases = {
            name: backend.create_database(f"bench_{name}") for name in ("api", "pipeline", "writer")
        }
        engines = {name: create_db_engine(url) for name, url in databases.items()}
        for engine in engines.values():
            stack.callback(engine.dispose)
        # The writer baseline keeps its entity ids in memory: prime it through the same loader.
        writer_loader = WriterIngest(engines["writer"])
        if opts.prime:
            _phase("priming each database with the world's actors and places")
            _prime(WriterIngest(engines["api"]), opts.seed)
            _prime(WriterIngest(engines["pipeline"]), opts.seed)
            _prime(writer_loader, opts.seed)
        api_url = databases["api"]

        _phase("starting the server")
        # Reads stay anonymous (the default deployment); writes need a key with 'write' scope.
        write_key = create_write_key(api_url, Path(tmp))
        with Server(api_url, Path(tmp), access_log=opts.access_log) as server:
            probe.pids["server"] = server.pid
            _phase(f"ingest over HTTP: {len(prepared)} reports, concurrency {c}")
            done = [threading.Event() for _ in prepared]
            abort = threading.Event()
            results.append(
                loadgen.run_each(
                    "ingest: POST /v1/reports (HTTP)",
                    "reports",
                    prepared,
                    lambda _n: HttpIngest(server.port, write_key, done, abort),
                    c,
                    probe=probe,
                )
            )
            counts = _counts(engines["api"])
            if counts["article"] != len(prepared):
                raise BenchError(f"{counts['article']} articles stored for {len(prepared)} reports")

            mix, queries = _read_targets(engines["api"])
            bare_connect = connect_bare(api_url, backend.conninfo(api_url))
            checker = BareRead(bare_connect, queries, mix)
            try:
                _check_same_rows(server.port, checker, mix, opts.seed)
                read_mix = _mix_shape(checker, mix, opts.seed)
            finally:
                checker.close()

            _phase(f"reads over HTTP: {opts.duration:g}s, concurrency {c}")
            results.append(
                loadgen.run_for(
                    "read: GET /v1/events (HTTP)",
                    "requests",
                    opts.duration,
                    opts.warmup,
                    lambda _n: HttpRead(server.port, mix),
                    c,
                    opts.seed,
                    probe=probe,
                )
            )
            server_log = server.log_tail()
        probe.pids.pop("server", None)

        _phase("reads in-process through the repository (SQLAlchemy, no HTTP)")
        results.append(
            loadgen.run_for(
                "read: repository.list_events in-process",
                "queries",
                opts.duration,
                opts.warmup,
                lambda _n: RepositoryRead(engines["api"], mix),
                c,
                opts.seed,
                probe=probe,
            )
        )

        _phase("reads as bare SQL through the driver")
        results.append(
            loadgen.run_for(
                "read: bare SQL (driver)",
                "queries",
                opts.duration,
                opts.warmup,
                lambda _n: BareRead(bare_connect, queries, mix),
                c,
                opts.seed,
                probe=probe,
            )
        )

        _phase("ingest in-process through the pipeline (no HTTP), one thread")
        results.append(
            loadgen.run_each(
                "ingest: service.ingest_report in-process",
                "reports",
                bodies,
                lambda _n: PipelineIngest(engines["pipeline"]),
                1,
                probe=probe,
            )
        )

        _phase("ingest through the writer's batch API alone, one thread")
        results.append(
            loadgen.run_each(
                "ingest: app.writer batch API in-process",
                "reports",
                [(body, r.payload) for body, r in zip(bodies, reports, strict=True)],
                lambda _n: writer_loader,
                1,
                probe=probe,
            )
        )
        backend_info = backend.info()

    return {
        "started_at": started_at,
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "backend": opts.backend,
        "options": {
            "reports": opts.reports,
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "concurrency": opts.concurrency,
            "seed": opts.seed,
            "pg_durable": opts.pg_durable,
            "prime": opts.prime,
            "smoke": opts.smoke,
        },
        "revision": revision(),
        "machine": machine(),
        "database": backend_info,
        "server_command": " ".join(server.command),
        "payload_sha256": digest,
        "payload_mean_bytes": round(sum(map(len, bodies)) / len(bodies)),
        "rows_after_http_ingest": counts,
        "read_mix": read_mix,
        "read_sql": {"first_page": queries[0].sql, "next_page": queries[1].sql},
        "results": [r.summary() for r in results],
        "disturbed": any((r.summary()["other_cores"] or 0) > DISTURBED_CORES for r in results),
        "server_log_tail": server_log,
    }


# -- A/B: POST /v1/reports at an earlier commit and at this checkout, in one run -------------

# Runs in the side's tree: migrate with its own revisions, prime with its own writer.
_PREPARE_SIDE = """
import sys
from app.db import migrate
from app.db.session import create_db_engine
from bench import synthetic
from bench.baselines import WriterIngest
engine = create_db_engine(sys.argv[1])
migrate.upgrade(engine)
if sys.argv[3] == "prime":
    WriterIngest(engine).prime(*synthetic.build_world(int(sys.argv[2])).cast())
engine.dispose()
"""


def _export_tree(rev: str, into: Path) -> dict[str, Any]:
    """The files of commit ``rev`` (git archive) under ``into``; its hash and subject."""
    described = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%H%x00%s", rev],
        capture_output=True,
        text=True,
        check=False,
    )
    if described.returncode != 0:
        raise BenchError(f"--ab {rev}: not a commit of this repository: {described.stderr.strip()}")
    commit, subject = described.stdout.strip().split("\0", 1)
    into.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise BenchError(f"git archive {commit} failed")
    return {"commit": commit, "subject": subject}


def _ingest_worker(
    port: int, key: str, done: list[threading.Event], abort: threading.Event, _n: int
) -> HttpIngest:
    return HttpIngest(port, key, done, abort)


def _prepare_side(tree: Path, url: str, workdir: Path, opts: Options) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PREPARE_SIDE, url, str(opts.seed), "prime" if opts.prime else "-"],
        cwd=tree,
        env=server_env(url, workdir, tree),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(
            f"preparing a database with {tree}'s code failed:\n{result.stderr[-2000:]}"
        )


def run_ab(opts: Options) -> dict[str, Any]:
    """``POST /v1/reports`` over HTTP, the same reports from the same clients, against the
    server of commit ``opts.ab`` (A) and of this checkout (B), in alternating rounds
    (A B, B A, A B ...) on one database server, each on a fresh database that its own code
    migrated and primed. The installed dependencies are this checkout's for both."""
    assert opts.ab is not None
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    reports = list(synthetic.generate(opts.reports, opts.seed))
    prepared = [Prepared(r.index, orjson.dumps(r.payload), r.depends_on) for r in reports]
    rounds: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="conflictdb-bench-ab-") as tmp,
        BACKENDS[opts.backend](Path(tmp), durable=opts.pg_durable) as backend,
    ):
        workdir = Path(tmp)
        trees = {"A": workdir / "a", "B": ROOT}
        sides = {"A": _export_tree(opts.ab, trees["A"]), "B": revision()}
        probe = Probe()
        db_pid = backend.db_pid()
        if db_pid is not None:
            probe.pids["database"] = db_pid
        for n in range(opts.rounds):
            order = ("A", "B") if n % 2 == 0 else ("B", "A")
            for side in order:
                tree = trees[side]
                url = backend.create_database(f"ab_{side.lower()}_{n}", migrated=False)
                _phase(f"round {n + 1}/{opts.rounds}, {side}: preparing the database")
                _prepare_side(tree, url, workdir, opts)
                key = create_write_key(url, workdir, tree)
                with Server(url, workdir, access_log=opts.access_log, tree=tree) as server:
                    probe.pids["server"] = server.pid
                    _phase(f"round {n + 1}/{opts.rounds}, {side}: {len(prepared)} reports")
                    done = [threading.Event() for _ in prepared]
                    abort = threading.Event()
                    result = loadgen.run_each(
                        f"{side}: POST /v1/reports (HTTP)",
                        "reports",
                        prepared,
                        functools.partial(_ingest_worker, server.port, key, done, abort),
                        opts.concurrency,
                        probe=probe,
                    )
                probe.pids.pop("server", None)
                engine = create_db_engine(url)
                try:
                    with read_session(engine) as session:
                        stored = session.scalar(select(func.count()).select_from(Article))
                finally:
                    engine.dispose()
                if stored != len(prepared):
                    raise BenchError(
                        f"{side}: {stored} articles stored for {len(prepared)} reports"
                    )
                rounds.append({"round": n + 1, "side": side, **result.summary()})
        backend_info = backend.info()
    return {
        "started_at": started_at,
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "backend": opts.backend,
        "options": {
            "reports": opts.reports,
            "concurrency": opts.concurrency,
            "seed": opts.seed,
            "pg_durable": opts.pg_durable,
            "prime": opts.prime,
            "rounds": opts.rounds,
        },
        "sides": sides,
        "machine": machine(),
        "database": backend_info,
        "rounds": rounds,
        "summary": _ab_summary(rounds),
    }


_AB_FIGURES = {
    "reports/s": lambda r: r["per_second"],
    "p50 ms": lambda r: r["p50_ms"],
    "p99 ms": lambda r: r["p99_ms"],
    "server CPU ms/report": lambda r: (r.get("cpu_ms_per_op") or {}).get("server"),
    "database CPU ms/report": lambda r: (r.get("cpu_ms_per_op") or {}).get("database"),
}


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _ab_summary(rounds: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per figure: the median over rounds of A, of B, and the median of the rounds' B/A."""
    out: dict[str, dict[str, float | None]] = {}
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for r in rounds:
        by_round.setdefault(r["round"], {})[r["side"]] = r
    for name, get in _AB_FIGURES.items():
        values = {
            side: [v for r in rounds if r["side"] == side and (v := get(r)) is not None]
            for side in ("A", "B")
        }
        ratios = [
            get(pair["B"]) / get(pair["A"])
            for pair in by_round.values()
            if len(pair) == 2 and get(pair["A"]) and get(pair["B"]) is not None
        ]
        out[name] = {"A": _median(values["A"]), "B": _median(values["B"]), "B/A": _median(ratios)}
    return out


def markdown_ab(report: dict[str, Any]) -> str:
    a, b = report["sides"]["A"], report["sides"]["B"]
    o = report["options"]
    lines = [
        f"conflictdb bench A/B · {report['backend']} · {o['reports']} reports · "
        f"{o['concurrency']} clients · {o['rounds']} rounds · {report['machine']['nproc']} CPUs",
        f"A: {a['commit'][:10]} {a.get('subject', '')}",
        f"B: {b.get('commit', '?')[:10]} (this checkout{', app/ modified' if b.get('app_modified') else ''})",
        "",
        "| round | side | reports/s | p50 ms | p99 ms | CPU ms/report: server | database | other |",
        "|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in report["rounds"]:
        cpu = r.get("cpu_ms_per_op") or {}
        lines.append(
            f"| {r['round']} | {r['side']} | {r['per_second']:.1f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {_cell(cpu.get('server'))} | {_cell(cpu.get('database'))} | "
            f"{_cell(cpu.get('other'))} |"
        )
    lines += [
        "",
        "| figure (median of rounds) | A | B | B/A (median of rounds) |",
        "|---|--:|--:|--:|",
    ]
    for name, v in report["summary"].items():
        ratio = "–" if v["B/A"] is None else f"{v['B/A']:.2f}x"
        lines.append(f"| {name} | {_cell(v['A'])} | {_cell(v['B'])} | {ratio} |")
    return "\n".join(lines)


# -- output ------------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    rows = report["results"]
    lines = [
        f"conflictdb bench · {report['backend']} · {report['options']['reports']} reports · "
        f"{report['options']['duration_s']:g}s reads · {report['machine']['nproc']} CPUs "
        f"({report['machine']['cpu_model']})",
        "",
        "| path | conc. | count | per second | p50 ms | p99 ms | CPU ms/op: server | "
        "database | bench | other |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        cpu = r.get("cpu_ms_per_op", {})
        lines.append(
            f"| {r['name']} | {r['concurrency']} | {r['count']} {r['unit']} | "
            f"{r['per_second']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            + " | ".join(_cell(cpu.get(k)) for k in ("server", "database", "bench", "other"))
            + " |"
        )
    by_name = {r["name"]: r for r in rows}
    api = by_name["read: GET /v1/events (HTTP)"]
    bare = by_name["read: bare SQL (driver)"]
    http_ingest = by_name["ingest: POST /v1/reports (HTTP)"]
    writer_ingest = by_name["ingest: app.writer batch API in-process"]
    shape = report["read_mix"]
    disturbed = [r for r in rows if (r.get("other_cores") or 0) > DISTURBED_CORES]
    if disturbed:
        worst = max(disturbed, key=lambda r: r["other_cores"])
        lines += [
            "",
            f"WARNING: other processes kept up to {worst['other_cores']:.2f} cores busy "
            f"({len(disturbed)} of {len(rows)} phases, worst: {worst['name']}); "
            "these figures are disturbed, run again on a quiet machine.",
        ]
    lines += [
        "",
        f"read mix: {shape['requests_per_operation']:.2f} requests per operation, "
        f"{shape['mean_rows_per_page']:.1f} rows per page, "
        f"{shape['share_of_full_pages']:.0%} full pages of {PAGE_SIZE}",
        f"read, API / bare SQL: {api['per_second'] / bare['per_second']:.2f}x the throughput, "
        f"{api['p50_ms'] / bare['p50_ms']:.1f}x the p50 latency",
        f"ingest, HTTP / writer batch API: "
        f"{http_ingest['per_second'] / writer_ingest['per_second']:.2f}x the throughput",
    ]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--backend", choices=sorted(BACKENDS), required=True)
    parser.add_argument("--reports", type=int, default=2000, help="reports to ingest (%(default)s)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds of each read phase (%(default)s)"
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="unmeasured seconds before each read phase"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (%(default)s)")
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument(
        "--pg-durable",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PostgreSQL with fsync and synchronous_commit on, as in production (default); "
        "--no-pg-durable keeps the test cluster's fsync=off",
    )
    parser.add_argument(
        "--prime",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load the synthetic world's actors and places before ingesting (default); "
        "--no-prime measures a cold start, where reports create them",
    )
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log")
    parser.add_argument(
        "--ab",
        metavar="REV",
        help="A/B of POST /v1/reports only: the server of commit REV (A) against this "
        "checkout's (B), the same reports, alternating rounds, one database server",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="A/B rounds, each A and B once (%(default)s)"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"CI size: {SMOKE_REPORTS} reports, {SMOKE_DURATION:g}s phases",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.reports, args.duration = SMOKE_REPORTS, SMOKE_DURATION
    if not 1 <= args.reports <= MAX_REPORTS:
        parser.error(f"--reports must be between 1 and {MAX_REPORTS}")
    if not 0.5 <= args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 0.5 and {MAX_DURATION:g} seconds")
    if not 1 <= args.concurrency <= 32:
        parser.error("--concurrency must be between 1 and 32")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    warmup = min(2.0, args.duration / 4) if args.warmup is None else args.warmup
    if not 0 <= warmup <= MAX_DURATION:
        parser.error("--warmup must be between 0 and 600 seconds")
    return Options(
        backend=args.backend,
        reports=args.reports,
        duration=args.duration,
        warmup=warmup,
        concurrency=args.concurrency,
        seed=args.seed,
        pg_durable=args.pg_durable,
        prime=args.prime,
        access_log=args.access_log,
        results_dir=args.results_dir,
        smoke=args.smoke,
        ab=args.ab,
        rounds=args.rounds,
    )


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the server and the cluster are stopped on the way out."""

    def on_term(_signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    previous: Callable[..., Any] | int | None = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    with _terminate_cleanly():
        try:
            report = run(opts) if opts.ab is None else run_ab(opts)
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 1
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kind = "" if opts.ab is None else "-ab"
    path = opts.results_dir / f"{stamp}-{opts.backend}{kind}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(markdown(report) if opts.ab is None else markdown_ab(report))
    print(f"\nresults: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
