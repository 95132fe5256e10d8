"""The import benchmark's floor: the rows an import wrote, written again by the bare database.

    python -m bench.import_floor SOURCE_URL DESTINATION_URL [--batch-size 2000]

SOURCE_URL is a database that `conflictdb import` filled; DESTINATION_URL a freshly migrated,
empty one of the same backend. Every row the import wrote is copied into the destination with
no application code per row, in transactions shaped like the import's, under its settings, so
the time is what the database alone needs to store the same rows: the import's speed target
(10,000 rows/s) is judged against it (bench/README.md, "Imports").

What is copied, and when (derived from the schema: foreign-key order, an ``event_id`` column):

- first transaction: the tables the events refer to (keys, datasets, outlets, actors and
  places with their aliases, ids and hierarchy), whole. The import creates actors and places
  batch by batch as rows name them; the floor writes the same rows in one go.
- a transaction per batch of ``batch_size`` events (the import's batch): the articles those
  events cite (by id, up to the highest they cite), the events, every table keyed by the event
  (actors, sources, provenance, revisions, rollup membership, change feed) and the full-text
  index (SQLite: FTS5 ``rowid``, the event id, and the document's text, so FTS5 tokenizes it
  again; PostgreSQL: ``event_search``'s tsvector *as stored*: ``to_tsvector`` is not computed
  again, which the import's server does for every event).
- last transaction: any articles left, and the rollups (their final rows once, where the
  import upserts them every batch).

The tables the migration seeded that the import changed (``data_version``, ``dimension_code``:
the events' codes refer to it) are deleted and copied in the first transaction.

Then every table's row count in the destination must equal the source's, or this fails.

SQLite: the source is ATTACHed (read only) to the destination's connection, and each copy is
one ``INSERT ... SELECT``; the connection has the import's settings (WAL, synchronous=FULL,
foreign keys on, ``app.datasets.loader._BULK_PRAGMAS``), with foreign keys deferred to each
commit. The writer's CPU is this process's (reading the source included). PostgreSQL: two
connections, each copy a binary ``COPY (SELECT ...) TO STDOUT`` from the source relayed by
this process into ``COPY ... FROM STDIN`` on the destination; the writer's CPU is the
destination backend's (/proc), the source backend's and this process's reported apart. Wall
time includes reading the source, so the rates are a little pessimistic; compare rows per CPU-
second of the writer, which do not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.datasets.loader import _BULK_PRAGMAS

EVENT = "event"
# Written per batch, for the articles the batch's events cite (through this table and column).
ARTICLE = "article"
CITATION = ("event_source", "article_id")
# Summaries of all events, which the import upserts every batch: their final rows, once, last.
SUMMARIES = frozenset({"event_rollup"})
# The tables FTS5 keeps behind a full-text table (written by FTS5 itself, never copied).
_FTS5_SHADOWS = ("data", "idx", "content", "docsize", "config")


@dataclass(frozen=True)
class Table:
    """A table to copy: the columns copied and, for tables copied per batch, the column that
    holds the event id."""

    name: str
    columns: tuple[str, ...]
    key: str | None = None


@dataclass
class Plan:
    """What to copy in which transaction, and the source's row counts to check afterwards."""

    first: list[Table] = field(default_factory=list)
    per_batch: list[Table] = field(default_factory=list)
    articles: Table | None = None
    last: list[Table] = field(default_factory=list)
    replaced: list[Table] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Per batch: (last event id of the batch before, last event id of this batch, the highest
    # article id cited up to this batch).
    batches: list[tuple[int, int, int]] = field(default_factory=list)


# -- the two backends ----------------------------------------------------------------------------


class Copier(ABC):
    """Copies rows from the source database into the destination, a table at a time."""

    method: str

    @abstractmethod
    def fts_tables(self) -> set[str]:
        """Full-text tables keyed by ``rowid`` (the event id), read and written by rowid."""

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def copy(self, table: Table, after: int | None = None, upto: int | None = None) -> None:
        """Copy the table's rows (those with ``after < key <= upto``, when given)."""

    @abstractmethod
    def delete(self, table: Table) -> None:
        """Delete every row of the destination's table."""

    @abstractmethod
    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far: ``writer`` (what writes the destination), and others."""

    @abstractmethod
    def close(self) -> None: ...


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_uri(path: str, *, read_only: bool = False) -> str:
    return f"file:{quote(path)}" + ("?mode=ro" if read_only else "")


class SQLiteCopier(Copier):
    """INSERT ... SELECT from the source, ATTACHed to the destination's connection."""

    method = (
        "INSERT ... SELECT from the imported database, ATTACHed (read only); WAL, "
        "synchronous=FULL, the import's bulk pragmas, foreign keys deferred to each commit"
    )

    def __init__(self, source: str, destination: str) -> None:
        self.connection = sqlite3.connect(_sqlite_uri(destination), uri=True, isolation_level=None)
        # As the import's connection (app.db.dialect, app.datasets.loader).
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = FULL"):
            self.connection.execute(f"PRAGMA {pragma}")
        for name, value in _BULK_PRAGMAS.items():
            self.connection.execute(f"PRAGMA {name} = {int(value)}")
        self.connection.execute(
            "ATTACH DATABASE ? AS source", (_sqlite_uri(source, read_only=True),)
        )

    def fts_tables(self) -> set[str]:
        rows = self.connection.execute(
            "SELECT name FROM source.sqlite_master "
            "WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
        )
        return {name for (name,) in rows}

    def begin(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")
        # Checked at commit: a batch may write a row before the one it refers to (a place's
        # parent), as the import's unit of work is the transaction. Reset by every commit.
        self.connection.execute("PRAGMA defer_foreign_keys = ON")

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def copy(self, table: Table, after: int | None = None, upto: int | None = None) -> None:
        columns = ", ".join(map(_quote_sqlite, table.columns))
        name = _quote_sqlite(table.name)
        bounds = _bounds(table, after, upto)
        where = " AND ".join(f"{_quote_sqlite(key)} {op} ?" for key, op, _ in bounds)
        self.connection.execute(
            f"INSERT INTO main.{name} ({columns}) SELECT {columns} FROM source.{name}"
            + (f" WHERE {where}" if where else ""),
            [value for _, _, value in bounds],
        )

    def delete(self, table: Table) -> None:
        self.connection.execute(f"DELETE FROM main.{_quote_sqlite(table.name)}")

    def cpu_seconds(self) -> dict[str, float]:
        return {"writer": time.process_time()}

    def close(self) -> None:
        self.connection.close()


def _bounds(table: Table, after: int | None, upto: int | None) -> list[tuple[str, str, int]]:
    """(column, operator, value) of the conditions selecting ``after < key <= upto``."""
    if after is None and upto is None:
        return []
    assert table.key is not None, table
    return [
        (table.key, op, value) for op, value in ((">", after), ("<=", upto)) if value is not None
    ]


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PostgresCopier(Copier):
    """Binary COPY from the source's backend, relayed by this process into the destination's."""

    method = (
        "binary COPY (SELECT ...) TO STDOUT from the imported database relayed into COPY FROM "
        "STDIN, one destination transaction per batch; event_search's tsvectors copied as "
        "stored (to_tsvector not recomputed)"
    )

    def __init__(self, source: str, destination: str) -> None:
        # One snapshot of the source for the whole copy, read by one process: no parallel
        # workers, so its backend's CPU is all of the reading.
        self.source = psycopg.connect(
            _conninfo(source), options="-c max_parallel_workers_per_gather=0"
        )
        self.source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.source.read_only = True
        self.destination = psycopg.connect(_conninfo(destination))
        self.pids = {
            "writer": self.destination.info.backend_pid,
            "source": self.source.info.backend_pid,
        }

    def fts_tables(self) -> set[str]:
        return set()  # event_search has an event_id column

    def begin(self) -> None:
        pass  # psycopg begins a transaction with the first statement

    def commit(self) -> None:
        self.destination.commit()

    def copy(self, table: Table, after: int | None = None, upto: int | None = None) -> None:
        columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
        name = sql.Identifier(table.name)
        query = sql.SQL("SELECT {} FROM {}").format(columns, name)
        bounds = _bounds(table, after, upto)
        if bounds:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(
                sql.SQL("{} {} {}").format(sql.Identifier(key), sql.SQL(op), value)
                for key, op, value in bounds
            )
        read = sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)
        write = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(name, columns)
        with (
            self.source.cursor().copy(read) as rows,
            self.destination.cursor().copy(write) as into,
        ):
            for data in rows:
                into.write(data)

    def delete(self, table: Table) -> None:
        self.destination.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name)))

    def cpu_seconds(self) -> dict[str, float]:
        seconds = {role: _process_cpu_seconds(pid) for role, pid in self.pids.items()}
        return {**seconds, "client": time.process_time()}

    def close(self) -> None:
        self.source.rollback()
        self.source.close()
        self.destination.close()


# -- the plan ------------------------------------------------------------------------------------


def _count(engine: Engine, table: str) -> int:
    name = engine.dialect.identifier_preparer.quote(table)
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())


def _contents(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    name = engine.dialect.identifier_preparer.quote(table)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {name}")).all()
    return sorted((tuple(row) for row in rows), key=repr)


def plan(source: Engine, destination: Engine, copier: Copier, batch_size: int) -> Plan:
    """What to copy, from the source's schema and contents and the destination's (a freshly
    migrated database: the tables it has rows in were seeded by the migration)."""
    if _count(destination, EVENT):
        raise SystemExit("the destination has events: give a freshly migrated database")
    inspector = inspect(source)
    fts = copier.fts_tables()
    hidden = {f"{name}_{shadow}" for name in fts for shadow in _FTS5_SHADOWS}
    result = Plan()
    batched = {EVENT, ARTICLE}  # the tables written per batch, by the end of the loop below
    for name, _ in inspector.get_sorted_table_and_fkc_names():  # referred tables first
        if name is None or name in hidden:
            continue
        columns = tuple(column["name"] for column in inspector.get_columns(name))
        result.counts[name] = _count(source, name)
        if _count(destination, name):
            # Seeded by the migration: left alone unless the import changed it.
            if _contents(source, name) != _contents(destination, name):
                result.replaced.append(Table(name, columns))
            continue
        if not result.counts[name]:
            continue
        if name == EVENT:
            result.per_batch.insert(0, Table(name, columns, "id"))
        elif name in fts:
            result.per_batch.append(Table(name, ("rowid", *columns), "rowid"))
        elif "event_id" in columns:
            result.per_batch.append(Table(name, columns, "event_id"))
        elif name == ARTICLE:
            result.articles = Table(name, columns, "id")
        else:
            # Copied whole, before or after the batches: never referring to a batch's rows.
            refers_to = {fk["referred_table"] for fk in inspector.get_foreign_keys(name)}
            if refers_to & batched:
                raise SystemExit(
                    f"{name} refers to {', '.join(sorted(refers_to & batched))}, written per "
                    "batch: the floor does not know how to batch it"
                )
            (result.last if name in SUMMARIES else result.first).append(Table(name, columns))
        batched.update(table.name for table in result.per_batch)
    if not result.per_batch or result.per_batch[0].name != EVENT:
        raise SystemExit("the source has no events: import some first")
    result.batches = _batches(source, batch_size)
    return result


def _batches(source: Engine, batch_size: int) -> list[tuple[int, int, int]]:
    """The source's events in batches of ``batch_size`` (by id, as the import numbered them),
    each with the highest article id cited so far."""
    citing, cited = CITATION
    with source.connect() as connection:
        ids = connection.execute(text(f"SELECT id FROM {EVENT} ORDER BY id")).scalars().all()
        batches = []
        after, top = ids[0] - 1, 0
        for start in range(0, len(ids), batch_size):
            upto = ids[min(start + batch_size, len(ids)) - 1]
            highest = connection.execute(
                text(
                    f"SELECT max({cited}) FROM {citing} "
                    "WHERE event_id > :after AND event_id <= :upto"
                ),
                {"after": after, "upto": upto},
            ).scalar_one()
            top = max(top, highest or 0)
            batches.append((after, upto, top))
            after = upto
    return batches


# -- the measurement -----------------------------------------------------------------------------


def _copy_all(copier: Copier, work: Plan) -> None:
    """The copy itself, in the import's transactions (the module's docstring)."""
    copier.begin()
    # Seeded tables the import added to first (dataset codes: the events' rows refer to them).
    for table in work.replaced:
        copier.delete(table)
        copier.copy(table)
    for table in work.first:
        copier.copy(table)
    copier.commit()
    articles = 0
    for after, upto, top in work.batches:
        copier.begin()
        if work.articles is not None and top > articles:
            copier.copy(work.articles, articles, top)
            articles = top
        for table in work.per_batch:
            copier.copy(table, after, upto)
        copier.commit()
    copier.begin()
    if work.articles is not None:
        copier.copy(work.articles, articles)
    for table in work.last:
        copier.copy(table)
    copier.commit()


def _check(source: Engine, destination: Engine, work: Plan) -> None:
    """Fail unless every table has as many rows in the destination as in the source (and the
    tables replaced, the same contents)."""
    wrong = []
    for name, count in work.counts.items():
        copied = _count(destination, name)
        if copied != count:
            wrong.append(f"{name}: {copied:,} rows, the source {count:,}")
    for table in work.replaced:
        if _contents(source, table.name) != _contents(destination, table.name):
            wrong.append(f"{table.name}: not the source's contents")
    if wrong:
        raise RuntimeError("the floor's copy differs from the import's rows:\n" + "\n".join(wrong))


def _copier(source: Engine, destination: Engine) -> Copier:
    if source.dialect.name != destination.dialect.name:
        raise SystemExit("the source and the destination must be of the same backend")
    if source.dialect.name == "sqlite":
        assert source.url.database and destination.url.database
        return SQLiteCopier(source.url.database, destination.url.database)
    return PostgresCopier(
        source.url.render_as_string(hide_password=False),
        destination.url.render_as_string(hide_password=False),
    )


def measure(source_url: str, destination_url: str, batch_size: int) -> dict[str, Any]:
    """Copy what the import wrote into ``source_url`` into the freshly migrated
    ``destination_url``, check it, and return the times (rates count events, as the import's
    count GED rows, one event each)."""
    source, destination = create_engine(source_url), create_engine(destination_url)
    try:
        copier = _copier(source, destination)
        try:
            work = plan(source, destination, copier, batch_size)
            # Idle meanwhile (on PostgreSQL, each holds a backend).
            source.dispose()
            destination.dispose()
            load_before = os.getloadavg()
            cpu_before = copier.cpu_seconds()
            started = time.perf_counter()
            _copy_all(copier, work)
            wall = time.perf_counter() - started
            cpu_after = copier.cpu_seconds()
            load_after = os.getloadavg()
        finally:
            copier.close()
        _check(source, destination, work)
    finally:
        source.dispose()
        destination.dispose()
    events = work.counts[EVENT]
    cpu = {role: cpu_after[role] - cpu_before[role] for role in cpu_after}
    copied = {table.name for table in [*work.first, *work.per_batch, *work.last, *work.replaced]}
    if work.articles is not None:
        copied.add(work.articles.name)
    tables = {name: count for name, count in work.counts.items() if name in copied}
    return {
        "events": events,
        "batches": len(work.batches),
        "rows_written": sum(tables.values()),
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(events / wall),
        "writer_cpu_seconds": round(cpu["writer"], 2),
        "rows_per_cpu_second": round(events / cpu["writer"]) if cpu["writer"] else None,
        **{f"{role}_cpu_seconds": round(s, 2) for role, s in cpu.items() if role != "writer"},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "method": copier.method,
        "tables": tables,  # the rows copied, in foreign-key order
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="SQLAlchemy URL of a database an import filled")
    parser.add_argument("destination", help="SQLAlchemy URL of a freshly migrated database")
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(measure(args.source, args.destination, args.batch_size), indent=2))


if __name__ == "__main__":
    main()
