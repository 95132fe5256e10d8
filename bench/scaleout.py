"""Scale-out check (issue 16 part 4): Q1 on one app process over the primary alone, then on two
app processes reading from a streaming replica, on this machine, against what the capacity
model of docs/scaling.md predicts from the first.

    .venv/bin/python -m bench.scaleout --events 20000 --duration 10 --warmup 3

A throwaway PostgreSQL primary (tests/pgcluster.py) loaded with bench/dataset.py's events, and
a streaming replica of it (pg_basebackup -R); every server and both databases pinned to the
server CPU, the clients to the other, as bench.dashboards does. Cells (Q1, 10 connections):

1. one process (uvicorn --workers 1), the primary alone: the calibration, giving server and
   database CPU per request;
2. one process with CONFLICTDB_REPLICA_URLS: reads on the replica;
3. two processes (--workers 2), the primary alone;
4. two processes reading from the replica;

then all four again, in the same order.

The model: a request costs s ms of server CPU and d ms of database CPU wherever it runs, so
the CPUs that serve them cap the rate at 1000 × cores / (s + d). Here the servers and the
databases share one CPU, whatever their number: the model predicts the same rate for cells 2
to 4 as for 1, with the database's share moving to the replica in cells 2 and 4. The printed table
compares each prediction with what was measured, and the CPU split between primary and
replica. Results go to bench/results/<time>-scaleout.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.db import migrate
from app.db.session import create_db_engine
from bench import dataset
from bench.dashboards import (
    API_Q1,
    BIN,
    HOST,
    RESULTS_DIR,
    Bench,
    Cell,
    Options,
    Service,
    _cpu_set,
    _free_port,
    _say,
    check_q1,
    pg_executor,
    pin_tree,
    truth_from,
)
from bench.run import machine, revision


def _postmaster(cluster: Any) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])


def _api(
    opts: Options, workdir: Path, url: str, workers: int, replicas: list[str], label: str
) -> Service:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    env.pop("DATABASE_URL", None)
    env.update(
        CONFLICTDB_DATABASE_URL=url,
        CONFLICTDB_ENVIRONMENT="test",
        CONFLICTDB_DEMO="false",
        CONFLICTDB_MIGRATE_ON_START="false",
        CONFLICTDB_RATE_LIMIT_PER_MINUTE=str(10**9),
        CONFLICTDB_STATS_CACHE_SIZE="0",
    )
    if replicas:
        env["CONFLICTDB_REPLICA_URLS"] = ",".join(replicas)
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
        str(workers),
        "--no-access-log",
    ]
    return Service(
        label,
        command,
        env,
        cpus=opts.server_cpus,
        port=port,
        ready_path="/healthz",
        workdir=workdir,
    )


def run(opts: Options) -> dict[str, Any]:
    from tests.pgcluster import PostgresCluster, PostgresReplica

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        tempfile.TemporaryDirectory(prefix="conflictdb-scaleout-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        primary = PostgresCluster()
        primary.start()
        stack.callback(primary.stop)
        url = primary.create_database("scaleout")
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            _say(f"loading {opts.events:,} events through app.writer")
            load = dataset.load(engine, opts.events, opts.seed, progress=_say)
        finally:
            engine.dispose()
        replica = PostgresReplica(primary)
        replica.start()
        stack.callback(replica.stop)
        replica.wait_caught_up()
        replica_url = replica.url_for("scaleout")
        conninfo = {"host": HOST, "port": str(primary.port), "user": "postgres"}
        truth = truth_from(pg_executor({**conninfo, "dbname": "scaleout"}), "postgresql")

        host = machine()
        os.sched_setaffinity(0, _cpu_set(opts.client_cpus))
        primary_pid, replica_pid = _postmaster(primary), _postmaster(replica)
        pin_tree(primary_pid, opts.server_cpus)
        pin_tree(replica_pid, opts.server_cpus)

        bench = Bench(opts, workdir)
        layouts = [
            ("1 process, primary", 1, []),
            ("1 process, 1 replica", 1, [replica_url]),
            ("2 processes, primary", 2, []),
            ("2 processes, 1 replica", 2, [replica_url]),
        ]
        # Twice over, so that drift of the machine shows as a difference between rounds.
        plan = [*layouts, *[(f"{label} (again)", w, r) for label, w, r in layouts]]
        for label, workers, replicas in plan:
            with _api(opts, workdir, url, workers, replicas, label) as svc:
                pin_tree(svc.pid, opts.server_cpus)
                bench.probe.pids = {
                    "server": svc.pid,
                    "database": primary_pid,
                    "replica": replica_pid,
                }
                bench.http_cell(svc, "Q1", label, "postgresql", API_Q1, check_q1(truth), ours=True)
        cells = bench.cells
    return {
        "started_at": started_at,
        "command": " ".join(["python", "-m", "bench.scaleout", *sys.argv[1:]]),
        "options": {
            "events": opts.events,
            "duration_s": opts.duration,
            "warmup_s": opts.warmup,
            "connections": opts.connections,
            "server_cpus": opts.server_cpus,
            "client_cpus": opts.client_cpus,
        },
        "http_client": bench.driver.http_tool,
        "revision": revision(),
        "machine": {**host, "load_average_at_end": os.getloadavg()},
        "load": load,
        "cells": [c.as_json() for c in cells],
        "model": model(cells, len(_cpu_set(opts.server_cpus))),
        "ok": not any(c.status == "error" for c in cells),
    }


def model(cells: list[Cell], server_cores: int) -> list[dict[str, Any]]:
    """Each cell's rate as predicted from the first cell's CPU per request (the calibration):
    ``1000 × server_cores / (s + d)``, the servers and databases sharing ``server_cores``."""
    rows = [c.as_json() for c in cells]
    if not rows or rows[0]["status"] != "ok":
        return []
    cpu = rows[0]["cpu_ms_per_request"]
    per_request = cpu["server"] + cpu["database"] + cpu.get("replica", 0.0)
    predicted = 1000.0 * server_cores / per_request
    out = []
    for row in rows:
        measured = row.get("requests_per_s")
        used = row.get("cpu_ms_per_request") or {}
        out.append(
            {
                "system": row["system"],
                "predicted_per_s": round(predicted, 1),
                "measured_per_s": measured,
                "measured_over_predicted": round(measured / predicted, 2) if measured else None,
                "server_ms": used.get("server"),
                "primary_ms": used.get("database"),
                "replica_ms": used.get("replica"),
                "other_cores": row.get("other_cores"),
            }
        )
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"scale-out check · {report['options']['events']:,} events · Q1 · "
        f"{report['options']['connections']} connections ({report['http_client']}) · servers "
        f"and databases on CPU {report['options']['server_cpus']}, clients on "
        f"{report['options']['client_cpus']}",
        "",
        "| system | predicted/s | measured/s | measured / predicted | server ms | primary ms "
        "| replica ms | other cores |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in report["model"]:
        lines.append(
            f"| {row['system']} | {row['predicted_per_s']} | {row['measured_per_s']} | "
            f"{row['measured_over_predicted']} | {row['server_ms']} | {row['primary_ms']} | "
            f"{row['replica_ms']} | {row['other_cores']} |"
        )
    for cell in report["cells"]:
        if cell["status"] != "ok":
            lines.append(f"\n{cell['system']}: {cell['status']}: {cell['detail']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaleout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=10)
    cpus = sorted(os.sched_getaffinity(0))
    parser.add_argument("--server-cpus", default=str(cpus[0]))
    parser.add_argument("--client-cpus", default=str(cpus[-1]))
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not 1_000 <= args.events <= 1_000_000:
        parser.error("--events must be between 1,000 and 1,000,000")
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup <= 600:
        parser.error("--duration must be 1-600 s and --warmup 0-600 s")
    return Options(
        events=args.events,
        seed=args.seed,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        backends=("postgresql",),
        server_cpus=args.server_cpus,
        client_cpus=args.client_cpus,
        wrk=True,
        rebuild=False,
        smoke=False,
        results_dir=args.results_dir,
    )


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    report = run(opts)
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = opts.results_dir / f"{stamp}-scaleout.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(markdown(report))
    print(f"\nresults: {path}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
