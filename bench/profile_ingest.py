"""Where a report's time goes: the ingest pipeline in-process, with a statement counter and a
profile.

    .venv/bin/python -m bench.profile_ingest --reports 300            # SQLite, cProfile
    .venv/bin/python -m bench.profile_ingest --reports 300 --http     # through the ASGI app
    .venv/bin/python -m bench.profile_ingest --url postgresql+psycopg://... --reports 300

Primes a fresh database with the synthetic world (as ``bench.run`` does), ingests the first
``--warmup`` reports unmeasured, then the next ``--reports`` with every SQL statement counted
by its first words and, unless ``--no-profile``, under cProfile. ``--http`` posts them to the
ASGI app in-process (FastAPI, the key check, the body parsing, the thread-pool hop), as uvicorn
would hand them over, so the request path's own cost shows beside the pipeline's. It prints the
statements per report, CPU per report, and the profile's top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event

from app.db import migrate
from app.db.session import create_db_engine
from bench import synthetic
from bench.baselines import PipelineIngest, WriterIngest


def _count_statements(engine: Engine) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        head = " ".join(words[:3]) if words else "?"
        if words and words[0].upper() == "SELECT":
            # SELECT ... FROM <table>: name the first table read
            upper = [w.upper() for w in words]
            if "FROM" in upper:
                head = "SELECT FROM " + words[upper.index("FROM") + 1]
        counts[head] += 1

    event.listen(engine, "before_cursor_execute", record)
    return counts


def _http_ingest(
    url: str,
    raws: list[bytes],
    warmup: int,
    profile: cProfile.Profile | None,
    counts: collections.Counter[str],
) -> tuple[float, float]:
    """(CPU, wall) seconds of the measured reports, posted to the ASGI app in-process."""
    import os

    from app.main import create_app

    os.environ["CONFLICTDB_DATABASE_URL"] = url
    os.environ["CONFLICTDB_DEMO"] = "false"
    os.environ["CONFLICTDB_MIGRATE_ON_START"] = "false"
    os.environ["CONFLICTDB_RATE_LIMIT_PER_MINUTE"] = str(10**9)
    key = _make_key(url)
    app = create_app()

    marks: list[float] = []

    async def post(raw: bytes) -> int:
        # What uvicorn hands the app: one http scope, the body in one message.
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/reports",
            "raw_path": b"/v1/reports",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"authorization", f"Bearer {key}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
            "state": state,
        }
        sent = False
        status = [0]

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await app(scope, receive, send)
        return status[0]

    state: dict[str, Any] = {}

    async def go() -> None:
        async with app.router.lifespan_context(app):
            for i, raw in enumerate(raws):
                if i == warmup:
                    counts.clear()
                    marks.extend((time.process_time(), time.perf_counter()))
                    if profile is not None:
                        _enable_everywhere(profile)
                status = await post(raw)
                if status != 201:
                    raise RuntimeError(f"POST /v1/reports answered {status}")
            if profile is not None:
                _disable_everywhere(profile)
            marks.extend((time.process_time(), time.perf_counter()))

    asyncio.run(go())
    return marks[2] - marks[0], marks[3] - marks[1]


def _enable_everywhere(profile: cProfile.Profile) -> None:
    # The pipeline runs in the thread pool: profile every thread, not just this one.
    profile.enable()
    threading.setprofile(lambda *_: None)


def _disable_everywhere(profile: cProfile.Profile) -> None:
    profile.disable()
    threading.setprofile(None)


def _make_key(url: str) -> str:
    from app.auth import service as auth_service
    from app.writer.transaction import write_session

    engine = create_db_engine(url)
    try:
        with write_session(engine) as session:
            key, _ = auth_service.create_key(session, name="bench", scopes=["write"])
    finally:
        engine.dispose()
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_ingest")
    parser.add_argument("--url", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--postgresql", action="store_true", help="a throwaway PostgreSQL cluster (the tests')"
    )
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument("--http", action="store_true", help="through the ASGI app in-process")
    parser.add_argument("--no-profile", action="store_true", help="CPU and statements only")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="conflictdb-profile-"))
        url = args.url or f"sqlite:///{Path(tmp) / 'profile.sqlite3'}"
        if args.postgresql:
            from tests.pgcluster import PostgresCluster

            cluster = PostgresCluster()
            cluster.start()
            stack.callback(cluster.stop)
            url = str(cluster.create_database("profile"))
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        WriterIngest(engine).prime(*synthetic.build_world(args.seed).cast())
        reports = list(synthetic.generate(args.warmup + args.reports, args.seed))
        raws = [orjson.dumps(r.payload) for r in reports]
        # CPU time, not wall time: on PostgreSQL the wall clock is mostly waiting for the server.
        profile = None if args.no_profile else cProfile.Profile(time.process_time)
        counts = _count_statements(engine)
        cpu0 = time.process_time()
        if args.http:
            engine.dispose()
            # The app makes its own engine: count on every engine made from now on.
            counts = collections.Counter()
            event.listen(Engine, "before_cursor_execute", _global_counter(counts))
            cpu_s, wall_s = _http_ingest(url, raws, args.warmup, profile, counts)
            cpu = cpu_s * 1000 / args.reports
            wall = wall_s * 1000 / args.reports
        else:
            ingest = PipelineIngest(engine)
            for raw in raws[: args.warmup]:
                ingest(raw)
            counts.clear()
            cpu0 = time.process_time()
            wall0 = time.perf_counter()
            if profile is not None:
                profile.enable()
            for raw in raws[args.warmup :]:
                ingest(raw)
            if profile is not None:
                profile.disable()
            cpu = (time.process_time() - cpu0) * 1000 / args.reports
            wall = (time.perf_counter() - wall0) * 1000 / args.reports
            engine.dispose()
        n = args.reports
        total = sum(counts.values())
        print(f"statements per report: {total / n:.1f}")
        for head, c in counts.most_common():
            print(f"  {c / n:6.2f}  {head}")
        if cpu is not None:
            print(
                f"CPU per report: {cpu:.2f} ms (wall {wall:.2f} ms){' under cProfile' * bool(profile)}"
            )
        if profile is not None:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    return 0


def _global_counter(counts: collections.Counter[str]) -> Any:
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        upper = [w.upper() for w in words]
        head = " ".join(words[:3]) if words else "?"
        if upper and upper[0] == "SELECT" and "FROM" in upper:
            head = "SELECT FROM " + words[upper.index("FROM") + 1]
        counts[head] += 1

    return record


if __name__ == "__main__":
    sys.exit(main())
