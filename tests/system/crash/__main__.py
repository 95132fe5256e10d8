"""Command line for the crash test (exit status 1 when a violation is found).

    .venv/bin/python -m tests.system.crash --backend sqlite --clients 8 --kills 5 --seconds 30
    .venv/bin/python -m tests.system.crash --backend postgresql --kills 0 --seconds 30   # throughput
    .venv/bin/python -m tests.system.crash --backend sqlite --app row-by-row             # must fail

PostgreSQL is a throwaway cluster started for the run (tests/pgcluster.py), unless
``--pg-url`` gives the admin URL of a running server, in which a database is created.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.system.crash.harness import APPS, CrashConfig, run_crash_test


@contextlib.contextmanager
def database(backend: str, workdir: Path, pg_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'crash.sqlite3'}"
        return
    from tests.conftest import PostgresServer
    from tests.pgcluster import PostgresCluster

    with contextlib.ExitStack() as stack:
        if pg_url is None:
            cluster = stack.enter_context(PostgresCluster())
            pg_url = cluster.admin_url
        server = PostgresServer(pg_url)
        name = f"crash_{uuid.uuid4().hex[:12]}"
        url = server.create(name)
        try:
            yield url
        finally:
            server.drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.system.crash", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--app", choices=sorted(APPS), default="real")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pg-url", default=None, help="admin URL of a running PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    config = CrashConfig(
        backend=args.backend,
        clients=args.clients,
        kills=args.kills,
        seconds=args.seconds,
        app=args.app,
        seed=args.seed,
    )
    workdir = Path(tempfile.mkdtemp(prefix="conflictdb-crash-"))
    with database(args.backend, workdir, args.pg_url) as url:
        result = run_crash_test(config, url, workdir)
    print(result.summary())
    if args.keep:
        print(f"  work directory (server log, database): {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
