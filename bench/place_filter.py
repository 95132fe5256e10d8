"""A country page by `place=` on PostgreSQL: the merged-id subquery against the constant.

    python -m bench.place_filter [--events 100000]

Starts a throwaway PostgreSQL cluster (tests/pgcluster.py), loads the dashboards' dataset
(bench/dataset.py) and times the events list's statement for a country-year page of
`place=<the country with most events>` (`sort=-date_start`, 101 rows), built two ways: as
before 4d5e038, with the place resolved in SQL (`places.repository.resolved_id`, hidden from
the planner), and as the API builds it now, with the live id read first and inlined
(`events.repository.with_live_ids`). Prints the median of 15 runs and the top of each plan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app.db.session import read_session
    from app.events import repository
    from app.events.schemas import EventListQuery
    from app.models import Event, Place, PlaceAncestor
    from bench import dataset
    from tests.pgcluster import PostgresCluster

    with PostgresCluster() as cluster:
        url = cluster.create_database("place_filter")
        subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "upgrade"],
            env=dict(os.environ, CONFLICTDB_DATABASE_URL=url),
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        engine = create_engine(url)
        dataset.load(engine, args.events)
        dataset.finish(engine)
        with read_session(engine) as session:
            country_id, name = session.execute(
                select(Place.id, Place.name)
                .join(PlaceAncestor, PlaceAncestor.ancestor_id == Place.id)
                .join(Event, Event.place_id == PlaceAncestor.place_id)
                .where(Place.kind == "country")
                .group_by(Place.id, Place.name)
                .order_by(func.count().desc())
                .limit(1)
            ).one()
        print(f"{args.events:,} events; place={country_id} ({name})")
        for year in (2018, 2022):
            given = EventListQuery(
                place=country_id,
                date_from=f"{year}-01-01",
                date_to=f"{year}-12-31",
                sort="-date_start",
                limit=100,
            )
            for label, live in (("resolved in SQL", False), ("constant", True)):
                with read_session(engine) as session:
                    f = repository.with_live_ids(session, given) if live else given
                    stmt = repository.list_statement(f, f.sort, f.columns()).limit(101)
                    times = []
                    for _ in range(15):
                        started = time.perf_counter()
                        session.execute(stmt).all()
                        times.append(time.perf_counter() - started)
                    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
                    plan = session.execute(text(f"EXPLAIN (COSTS OFF) {sql}")).scalars().all()
                print(f"{year} {label}: median {statistics.median(times) * 1000:.2f} ms")
                print("    " + " | ".join(line.strip() for line in plan[:5]))


if __name__ == "__main__":
    main()
