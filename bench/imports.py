"""Benchmark: `conflictdb import ucdp` of a generated GED-layout file into SQLite and PostgreSQL.

    python -m bench.imports [--rows 400000] [--backend sqlite|postgresql|both]
                            [--batch-size 2000] [--profile] [--floor] [--revised]
                            [--file PATH] [--json PATH]

The file is generated deterministically from the real 1,000-row sample (tests/data): row k
is sample row k mod 1000 with a new id and relid, its dates (and its sources' dates) shifted
by up to a year either way, and, for rows located at a point (where_prec 1-2), the location's
name and coordinates varied over 60 variants, so the gazetteer grows as a real release's
does (tens of thousands of locations, a few thousand admin units, ~2k actors, articles
mostly new). Each backend gets a fresh database (a SQLite file; a throwaway PostgreSQL
cluster from tests/pgcluster.py), migrated first; then the real command runs in a
subprocess, twice: the first import (all rows created) and a re-import (all unchanged). The
rate is the command's own (rows / time from first row to summary), its peak RSS measured by
wait4. ``--profile`` runs the first import under cProfile and prints where the time goes.
``--revised`` then imports a revised release: the same file with every fifth row's ``best``
(and ``high``, kept at or above it) raised by one, so a fifth of the rows update their events
(a new revision and provenance each) and the rest are unchanged. ``--floor`` copies what the
first import wrote into another fresh database by the bare
database (bench/import_floor.py): the floor the import's speed is judged against.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "ucdp-ged-sample-1000.csv"
LOCATION_VARIANTS = 60
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SUMMARY = re.compile(r": ([\d,]+) rows in ([\d,.]+) s")


def _shift(text: str, days: int) -> str:
    def move(match: re.Match[str]) -> str:
        try:
            return (date.fromisoformat(match[0]) + timedelta(days=days)).isoformat()
        except ValueError:
            return match[0]

    return _DATE.sub(move, text)


def generate(path: Path, rows: int) -> None:
    """Write ``rows`` GED rows derived from the sample (deterministic: no randomness)."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        sample = list(reader)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        for k in range(rows):
            row = dict(sample[k % len(sample)])
            cycle = k // len(sample)
            # Up to a year either way, so dates stay within GED's span and some articles are
            # shared between rows, as in a real release.
            days = (cycle * 37) % 731 - 365
            row["id"] = str(10_000_000 + k)
            row["relid"] = f"{row['relid']}-b{cycle}"
            for column in ("date_start", "date_end"):
                row[column] = _shift(row[column], days)
            row["year"] = row["date_start"][:4]
            for column in ("source_article", "source_date", "source_headline"):
                row[column] = _shift(row[column], days)
            variant = cycle % LOCATION_VARIANTS
            if row["where_prec"] in ("1", "2") and variant and row["latitude"]:
                row["where_coordinates"] = f"{row['where_coordinates']} {variant}"
                row["latitude"] = (
                    f"{max(-90.0, min(90.0, float(row['latitude']) + variant * 0.01)):.6f}"
                )
                row["longitude"] = f"{float(row['longitude']):.6f}"
            writer.writerow(row)


def revise(source: Path, path: Path, every: int = 5) -> int:
    """Write ``source`` with every ``every``-th row's deaths raised by one; the rows changed."""
    changed = 0
    with (
        source.open(newline="", encoding="utf-8") as f,
        path.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(f)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for k, row in enumerate(reader):
            if k % every == 0:
                best = int(row["best"] or 0) + 1
                row["best"] = str(best)
                row["high"] = str(max(best, int(row["high"] or 0)))
                changed += 1
            writer.writerow(row)
    return changed


# Another fresh, empty database beside the first (same directory or cluster), given a name:
# its URL while the context lasts; removed after.
Sibling = Callable[[str], contextlib.AbstractContextManager[str]]


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[tuple[str, int | None, Sibling]]:
    """(URL, the server's postmaster pid or None, a maker of siblings) of a fresh, empty
    database."""
    if backend == "sqlite":

        @contextlib.contextmanager
        def sqlite_file(name: str) -> Iterator[str]:
            path = workdir / f"{name}.sqlite3"
            _remove_sqlite(path)
            try:
                yield f"sqlite:///{path}"
            finally:
                _remove_sqlite(path)

        with sqlite_file("bench-imports") as url:
            yield url, None, sqlite_file
        return
    sys.path.insert(0, str(ROOT))
    from tests.pgcluster import PostgresCluster

    with PostgresCluster() as cluster:

        @contextlib.contextmanager
        def pg_database(name: str) -> Iterator[str]:
            url = cluster.create_database(name)
            try:
                yield url
            finally:
                cluster.drop_database(name)

        url = cluster.create_database("bench_imports")
        assert cluster.data_dir is not None
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        yield url, postmaster, pg_database


def _records(path: Path) -> int:
    """The CSV records in a file, its header not counted."""
    with path.open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def server_cpu_seconds(postmaster: int | None) -> float:
    """CPU time of a PostgreSQL cluster's processes (Linux /proc), exited backends included."""
    if postmaster is None:
        return 0.0
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid, fields = int(text.split()[0]), text.rsplit(")", 1)[1].split()
        if pid == postmaster or int(fields[1]) == postmaster:
            # utime, stime, and the children's (backends that exited) cutime, cstime
            total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def run_import(
    url: str, file: Path, batch_size: int, profile: Path | None, postmaster: int | None = None
) -> dict[str, Any]:
    """One `conflictdb import ucdp` in a subprocess: its rate, wall time, CPU time (its own
    and the database server's) and peak RSS."""
    env = {**os.environ, "CONFLICTDB_DATABASE_URL": url}
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += [
        "-m",
        "app.cli",
        "import",
        "ucdp",
        str(file),
        "--version",
        "23.1",
        "--batch-size",
        str(batch_size),
    ]
    server_before = server_cpu_seconds(postmaster)
    load_before = os.getloadavg()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Polled, to see whether the import parses in a second process (app.formats.rowstream).
    worker = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        worker = worker or bool(_children(process.pid))
        time.sleep(0.5)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()
    server = server_cpu_seconds(postmaster) - server_before
    stdout = process.stdout.read() if process.stdout else ""
    stderr = process.stderr.read() if process.stderr else ""
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}):\n{stdout}\n{stderr}")
    match = _SUMMARY.search(stderr)
    assert match, stderr
    rows, seconds = int(match[1].replace(",", "")), float(match[2].replace(",", ""))
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "rows": rows,
        "import_seconds": seconds,
        "rows_per_second": round(rows / seconds) if seconds else None,
        "wall_seconds": round(wall, 1),
        # Load-independent figures: what the work costs, whatever else shares the machine.
        "importer_cpu_seconds": round(cpu, 1),
        "server_cpu_seconds": round(server, 1) if postmaster else None,
        "rows_per_cpu_second": round(rows / (cpu + server)) if cpu + server else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        # The importer's CPU includes its parsing process's, if it started one.
        "parsed_in_second_process": worker,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "summary": stderr.strip().splitlines()[-2:],
    }


def _children(pid: int) -> list[str]:
    """The child processes of ``pid`` (Linux; empty elsewhere)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def migrate(url: str) -> None:
    env = {**os.environ, "CONFLICTDB_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def run_floor(
    url: str, sibling: Sibling, batch_size: int, postmaster: int | None
) -> dict[str, Any]:
    """The floor (bench/import_floor.py): what the import wrote into ``url``, copied by the
    bare database into a fresh sibling database, migrated first; removed after, so that it
    does not share the cluster (autovacuum) with the re-import."""
    # Here, not at the top: it loads the app (its SQLite settings), which this process does
    # not need otherwise (the imports run in subprocesses).
    from bench import import_floor

    with sibling("bench_imports_floor") as floor_url:
        migrate(floor_url)
        cluster_before = server_cpu_seconds(postmaster)
        floor = import_floor.measure(url, floor_url, batch_size)
        if postmaster is not None:
            # The whole cluster's, for comparison with the import's server CPU: both backends,
            # the source's reads included, and the WAL writer, checkpointer and autovacuum.
            floor["cluster_cpu_seconds"] = round(server_cpu_seconds(postmaster) - cluster_before, 2)
    return floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="after the first import, time the bare database writing the same rows",
    )
    parser.add_argument(
        "--revised",
        action="store_true",
        help="then import a revised release (a fifth of the rows changed)",
    )
    parser.add_argument("--file", type=Path, help="reuse or keep the generated file here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        workdir = Path(tmp)
        file = args.file or workdir / f"ged-{args.rows}.csv"
        if not file.exists():
            started = time.perf_counter()
            generate(file, args.rows)
            print(
                f"generated {file} ({args.rows:,} rows, {file.stat().st_size / 1e6:,.0f} MB) "
                f"in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
        elif (found := _records(file)) != args.rows:
            # A reused file must be the one --rows describes (a file cut by lines is not:
            # GED rows hold quoted newlines), or the figures would be for other rows.
            sys.exit(f"{file} has {found:,} rows, not --rows {args.rows:,}")
        revised = workdir / "revised.csv"
        if args.revised:
            changed = revise(file, revised)
            print(f"revised release: {changed:,} rows changed", file=sys.stderr)
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        results: dict[str, Any] = {
            "rows": args.rows,
            "batch_size": args.batch_size,
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
            },
        }
        for backend in backends:
            with database(backend, workdir) as (url, postmaster, sibling):
                migrate(url)
                profile = workdir / f"{backend}.prof" if args.profile else None
                first = run_import(url, file, args.batch_size, profile, postmaster)
                results[backend] = {"first_import": first}
                floor_text = ""
                if args.floor:
                    floor = run_floor(url, sibling, args.batch_size, postmaster)
                    results[backend]["floor"] = floor
                    floor_text = (
                        f"; floor {floor['rows_per_second']:,} rows/s ({floor['wall_seconds']:,.1f}"
                        f" s; {floor['rows_per_cpu_second']:,} rows per CPU-second of the writer"
                        f"; load {floor['load_average_before'][0]}-"
                        f"{floor['load_average_after'][0]})"
                    )
                again = run_import(url, file, args.batch_size, None, postmaster)
                results[backend]["reimport"] = again
                revised_text = ""
                if args.revised:
                    update = run_import(url, revised, args.batch_size, None, postmaster)
                    results[backend]["revised_release"] = update
                    revised_text = (
                        f"; revised release {update['rows_per_second']:,} rows/s "
                        f"({update['import_seconds']:,.1f} s; "
                        f"{update['rows_per_cpu_second']:,} rows per CPU-second; load "
                        f"{update['load_average_before'][0]}-{update['load_average_after'][0]})"
                    )
                print(
                    f"{backend}: first import {first['rows_per_second']:,} rows/s "
                    f"({first['import_seconds']:,.0f} s; {first['rows_per_cpu_second']:,} rows "
                    f"per CPU-second; peak RSS {first['peak_rss_mb']} MB; load "
                    f"{first['load_average_before'][0]}-{first['load_average_after'][0]}"
                    f"{'; parsed in a second process' if first['parsed_in_second_process'] else ''}"
                    f"); re-import {again['rows_per_second']:,} rows/s "
                    f"({again['rows_per_cpu_second']:,} rows per CPU-second; load "
                    f"{again['load_average_before'][0]}-{again['load_average_after'][0]})"
                    f"{revised_text}{floor_text}",
                    file=sys.stderr,
                )
                if profile is not None:
                    stats = pstats.Stats(str(profile), stream=sys.stderr)
                    stats.sort_stats("tottime").print_stats(25)
                    stats.sort_stats("cumulative").print_stats(40)
        results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
