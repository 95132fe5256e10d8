"""The reconciler measured: precision and recall of its proposed links against the known truth
of ``bench/reconcile_data.py``, and its speed (issue 13).

    python -m bench.reconcile --records 100000 [--seed N] [--postgresql] [--threshold 0.6]

Generates the records, writes them through ``app.writer`` into a fresh database (the two
datasets' rows as imported events with their provenance, the outlets' reports as events
with an article and a quote of its title), then runs what ``conflictdb reconcile`` runs
(``app.incidents.service.proposals``: the two sides read, candidates scored, pairs taken one
to one) for ACLED against GED, and for the outlet with the most records against ACLED,
timing it, and scores the proposals against the truth. Then it times ``conflictdb reconcile``
itself (a fresh process: start-up, reading, matching, writing the report), and ``--apply``.

Every place and actor is written once per spelling, as an importer that did not know the
spellings were one would write them, so nothing but the names, coordinates, dates, types
and figures tells the records apart. Prints a markdown table; ``--json`` writes every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from app import writer
from app.core.normalize import normalize_name
from app.datasets.loader import few_collections
from app.db import migrate
from app.db.session import create_db_engine, read_session
from app.incidents import matching, repository
from app.incidents import service as incident_service
from bench import reconcile_data as data

ROOT = Path(__file__).resolve().parents[1]
BATCH = 5000


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Loader:
    """Writes a world's records; remembers each record's event id."""

    def __init__(self, engine: Engine, world: data.World) -> None:
        self.engine = engine
        self.world = world
        self.places: dict[tuple[int, str], int] = {}  # (region, normalised spelling) -> id
        self.actors: dict[tuple[str, str], int] = {}  # (country, normalised spelling) -> id
        self.outlets: dict[str, int] = {}
        self.datasets: dict[str, int] = {}
        self.regions: dict[int, int] = {}
        self.event_ids: dict[str, int] = {}

    def world_rows(self, records: Sequence[data.Record]) -> None:
        with writer.bulk_session(self.engine) as session:
            countries = {}
            for code, name, lat, lon, _ in data.COUNTRIES:
                (countries[code],) = writer.create_places(
                    session, [writer.NewPlace(name, "country", code, None, lat, lon)]
                )
            regions = self.world.regions
            for region, pid in zip(
                regions,
                writer.create_places(
                    session,
                    [
                        writer.NewPlace(
                            f"Region {r.id}",
                            "admin1",
                            r.country,
                            countries[r.country],
                            r.latitude,
                            r.longitude,
                        )
                        for r in regions
                    ],
                ),
                strict=True,
            ):
                self.regions[region.id] = pid
            # A place per spelling used (two towns spelled alike share nothing: the second
            # gets a distinct name).
            new_places: list[writer.NewPlace] = []
            keys: list[tuple[int, str]] = []
            taken: dict[tuple[int, str], int] = {}
            for r in records:
                key = (r.region, normalize_name(r.place_name))
                if key in taken and taken[key] != r.town:
                    key = (r.region, normalize_name(f"{r.place_name} {r.town}"))
                if key in taken:
                    continue
                taken[key] = r.town
                keys.append(key)
                name = (
                    r.place_name
                    if key[1] == normalize_name(r.place_name)
                    else f"{r.place_name} {r.town}"
                )
                new_places.append(
                    writer.NewPlace(
                        name,
                        "populated_place",
                        r.country,
                        self.regions[r.region],
                        r.latitude,
                        r.longitude,
                    )
                )
            for key, pid in zip(keys, writer.create_places(session, new_places), strict=True):
                self.places[key] = pid
            self._towns = taken
            new_actors: list[writer.NewActor] = []
            actor_keys: list[tuple[str, str]] = []
            seen: set[tuple[str, str]] = set()
            for r in records:
                for a in r.actors:
                    actor_key = (r.country, normalize_name(a.name))
                    if actor_key not in seen:
                        seen.add(actor_key)
                        actor_keys.append(actor_key)
                        new_actors.append(writer.NewActor(a.name, a.kind, r.country))
            for actor_key, aid in zip(
                actor_keys, writer.create_actors(session, new_actors), strict=True
            ):
                self.actors[actor_key] = aid
            outlets = sorted({r.source for r in records if not r.is_dataset})
            for name, oid in zip(
                outlets,
                writer.create_outlets(session, [writer.NewOutlet(name) for name in outlets]),
                strict=True,
            ):
                self.outlets[name] = oid
            for name in (data.ACLED, data.GED):
                self.datasets[name] = writer.create_dataset(session, name, None, None, None)

    def _place(self, r: data.Record) -> int:
        key = (r.region, normalize_name(r.place_name))
        if self._towns.get(key) != r.town:
            key = (r.region, normalize_name(f"{r.place_name} {r.town}"))
        return self.places[key]

    def _event(self, r: data.Record) -> writer.NewEvent:
        return writer.NewEvent(
            event_type=r.event_type,
            sub_event_type=r.sub_event_type,
            date_start=r.date,
            date_end=r.date,
            date_precision="day",
            place_id=self._place(r),
            geo_precision=1,
            fatalities_best=r.fatalities,
            actors=[
                writer.NewEventActor(
                    self.actors[(r.country, normalize_name(a.name))], "primary", a.side
                )
                for a in r.actors
            ],
        )

    def events(self, records: Sequence[data.Record]) -> None:
        for batch in _chunks(records, BATCH):
            with writer.bulk_session(self.engine) as session:
                imported = [r for r in batch if r.is_dataset]
                ids = writer.import_events(
                    session,
                    [self._event(r) for r in imported],
                    [
                        writer.NewProvenance(
                            dataset_id=self.datasets[r.source],
                            external_id=r.key,
                            dataset_version=None,
                            content_sha256=hashlib.sha256(r.key.encode()).hexdigest(),
                            original={"row": {}, "flags": []},
                        )
                        for r in imported
                    ],
                    api_key_id=None,
                )
                self.event_ids.update(zip((r.key for r in imported), ids, strict=True))
                reported = [r for r in batch if not r.is_dataset]
                titles = [f"{r.event_type} near {r.place_name}" for r in reported]
                article_ids = writer.create_articles(
                    session,
                    [
                        writer.NewArticle(
                            outlet_id=self.outlets[r.source],
                            title=title,
                            published_date=r.date + timedelta(days=1),
                            identity_sha256=hashlib.sha256(r.key.encode()).hexdigest(),
                        )
                        for r, title in zip(reported, titles, strict=True)
                    ],
                )
                quote_ids = writer.create_quotes(
                    session,
                    [
                        writer.NewQuote(aid, title, 0, len(title), in_title=True)
                        for aid, title in zip(article_ids, titles, strict=True)
                    ],
                )
                events = []
                for r, aid, qid in zip(reported, article_ids, quote_ids, strict=True):
                    e = self._event(r)
                    e.sources = [writer.NewSource(aid, [qid])]
                    events.append(e)
                ids = writer.create_events(session, events)
                self.event_ids.update(zip((r.key for r in reported), ids, strict=True))


def score(
    records: Sequence[data.Record],
    event_keys: dict[int, str],
    a: str,
    b: str,
    matches: Sequence[matching.Match],
) -> dict[str, Any]:
    truth = data.true_links(records, a, b)
    proposed = {(event_keys[m.a], event_keys[m.b]) for m in matches}
    hits = len(proposed & truth)
    return {
        "true_links": len(truth),
        "proposed": len(proposed),
        "correct": hits,
        "precision": round(hits / len(proposed), 4) if proposed else None,
        "recall": round(hits / len(truth), 4) if truth else None,
    }


def run_pair(
    engine: Engine,
    records: Sequence[data.Record],
    event_keys: dict[int, str],
    a: str,
    b: str,
    label_a: str,
    label_b: str,
    threshold: float,
) -> dict[str, Any]:
    started = time.perf_counter()
    cpu = time.process_time()
    with read_session(engine) as session:
        side_a = incident_service.side(session, label_a)
        side_b = incident_service.side(session, label_b)
        matches, count_a, count_b = incident_service.proposals(
            session, side_a, side_b, matching.Settings(), threshold
        )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    return {
        "sides": [label_a, label_b],
        "events": [count_a, count_b],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        **score(records, event_keys, a, b, matches),
    }


def read_sides(engine: Engine, label_a: str, label_b: str) -> float:
    """Seconds to read the two sides' records as the command reads them, and nothing else: the
    same run's reference for the command's time."""
    started = time.perf_counter()
    with read_session(engine) as session:
        for label in (label_a, label_b):
            s = incident_service.side(session, label)
            repository.side_records(session, s.kind, s.ident)
    return time.perf_counter() - started


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=data.DEFAULT_SEED)
    parser.add_argument("--threshold", type=float, default=matching.DEFAULT_THRESHOLD)
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL 15")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--no-cli", action="store_true", help="skip timing the CLI")
    parser.add_argument("--no-apply", action="store_true", help="skip timing the CLI's --apply")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout (say `git archive` of an older commit): its `conflictdb "
        "reconcile` is timed on the same database, alternating with this tree's, three rounds",
    )
    args = parser.parse_args(argv)
    say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    t0 = time.perf_counter()
    world, records = data.generate(args.records, args.seed)
    generate_s = time.perf_counter() - t0
    say(f"generated {len(records):,} records in {generate_s:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        cluster = None
        if args.postgresql:
            from tests.pgcluster import PostgresCluster, find_bin_dir

            bin_dir = find_bin_dir()
            assert bin_dir is not None, "PostgreSQL server binaries not found"
            cluster = PostgresCluster(bin_dir)
            cluster.start()
            url = cluster.admin_url
        else:
            url = f"sqlite:///{tmp}/reconcile.sqlite3"
        try:
            engine = create_db_engine(url)
            migrate.upgrade(engine)
            t0 = time.perf_counter()
            loader = Loader(engine, world)
            with few_collections():
                loader.world_rows(records)
                loader.events(records)
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM (ANALYZE)"))
            load_s = time.perf_counter() - t0
            say(f"loaded in {load_s:.1f} s")
            keys = {v: k for k, v in loader.event_ids.items()}
            sources = Counter(r.source for r in records)
            top_outlet = max(
                (s for s in sources if s not in (data.ACLED, data.GED)), key=sources.__getitem__
            )
            results = [
                run_pair(
                    engine,
                    records,
                    keys,
                    data.ACLED,
                    data.GED,
                    f"dataset:{data.ACLED}",
                    f"dataset:{data.GED}",
                    args.threshold,
                ),
                run_pair(
                    engine,
                    records,
                    keys,
                    top_outlet,
                    data.ACLED,
                    f"outlet:{top_outlet}",
                    f"dataset:{data.ACLED}",
                    args.threshold,
                ),
            ]
            cli: dict[str, Any] = {}
            if not args.no_cli:
                env = {**os.environ, "DATABASE_URL": url}
                command = [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "reconcile",
                    f"dataset:{data.ACLED}",
                    f"dataset:{data.GED}",
                    "--threshold",
                    str(args.threshold),
                    "-o",
                    f"{tmp}/links.csv",
                ]
                runs: list[tuple[str, list[str]]] = [("report", [])]
                if not args.no_apply:
                    runs.append(("apply", ["--apply"]))
                # The reference, in the same run: reading the two sides alone (before and after
                # the report, the median of three).
                reads = [read_sides(engine, command[4], command[5])]
                for label, extra in runs:
                    t0, cpu0 = time.perf_counter(), _child_cpu()
                    subprocess.run(command + extra, env=env, check=True, cwd=ROOT)
                    cli[f"{label}_seconds"] = round(time.perf_counter() - t0, 2)
                    cli[f"{label}_cpu_seconds"] = round(_child_cpu() - cpu0, 2)
                    say(f"conflictdb reconcile ({label}): {cli[f'{label}_seconds']} s")
                    if label == "report":
                        reads += [read_sides(engine, command[4], command[5]) for _ in range(2)]
                cli["read_seconds"] = round(sorted(reads)[1], 2)
                if args.baseline_tree is not None:
                    # A/B in one run: this tree's report and the baseline tree's, alternating.
                    timings: dict[str, list[tuple[float, float]]] = {"this": [], "baseline": []}
                    trees = {"this": ROOT, "baseline": args.baseline_tree.resolve()}
                    for _ in range(3):
                        for label, tree in trees.items():
                            t0, cpu0 = time.perf_counter(), _child_cpu()
                            subprocess.run(
                                command,
                                env={**env, "PYTHONPATH": str(tree)},
                                check=True,
                                cwd=tree,
                            )
                            timings[label].append((time.perf_counter() - t0, _child_cpu() - cpu0))
                    for label, pairs in timings.items():
                        cli[f"ab_{label}_seconds"] = round(sorted(w for w, _ in pairs)[1], 2)
                        cli[f"ab_{label}_cpu_seconds"] = round(sorted(c for _, c in pairs)[1], 2)
                    say(f"A/B: {timings}")
            engine.dispose()
        finally:
            if cluster is not None:
                cluster.stop()

    summary = {
        "records": len(records),
        "seed": args.seed,
        "threshold": args.threshold,
        "backend": "postgresql" if args.postgresql else "sqlite",
        "distractors": sum(r.distractor for r in records),
        "sources": {k: sources[k] for k in (data.ACLED, data.GED)}
        | {"outlets": sum(v for k, v in sources.items() if k not in (data.ACLED, data.GED))},
        "generate_seconds": round(generate_s, 1),
        "load_seconds": round(load_s, 1),
        "pairs": results,
        "cli": cli,
    }
    print("| sides | events | true links | proposed | precision | recall | seconds | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['sides'][0]} ~ {r['sides'][1]} | {r['events'][0]:,} + {r['events'][1]:,} | "
            f"{r['true_links']:,} | {r['proposed']:,} | {r['precision']} | {r['recall']} | "
            f"{r['seconds']} | {r['cpu_seconds']} |"
        )
    if cli:
        print(
            f"\n`conflictdb reconcile` (whole command): {cli['report_seconds']} s "
            f"({cli['report_cpu_seconds']} s CPU); reading the two sides alone, same run: "
            f"{cli['read_seconds']} s (ratio {cli['report_seconds'] / cli['read_seconds']:.2f})"
        )
        if "ab_this_seconds" in cli:
            print(
                f"A/B, same run, medians of three alternating: this tree "
                f"{cli['ab_this_seconds']} s ({cli['ab_this_cpu_seconds']} s CPU), baseline "
                f"tree {cli['ab_baseline_seconds']} s ({cli['ab_baseline_cpu_seconds']} s CPU)"
            )
        if "apply_seconds" in cli:
            print(f"with --apply: {cli['apply_seconds']} s ({cli['apply_cpu_seconds']} s CPU)")
    print(f"generated in {generate_s:.1f} s, loaded in {load_s:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
