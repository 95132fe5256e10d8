"""Loading parsed dataset rows (UCDP GED, ACLED) into the database: batched, idempotent, streamed.

``import_records`` consumes a parser's stream of ``EventRecord`` / ``RowError`` in batches,
so memory stays flat as the file grows (what grows is a set of the ids seen, for duplicates
and ``prune``). Each batch is one transaction: its rows' provenance is looked up in one query,
names are resolved through caches kept across batches (``resolve.BestMatchResolver``), and the
new events are handed to the writer as one tuple each (``writer.ImportedRow``): staged into
the database and written table by table with ``INSERT ... SELECT`` (``app.writer.staged``).

A re-import compares each row's ``content_sha256`` with the one stored: equal -> unchanged,
nothing written; different -> the event is updated through the writer (an 'import_update'
revision), unless it was changed through the API since its last import (its version is no
longer the one the import left): then the row is reported as a conflict and the edit kept.
``prune`` retracts (never deletes) the dataset's events the file no longer has.

Bad rows never stop an import. The parser's RowErrors, and rows the database refuses, are
reported with their line and reason: a batch that fails is rolled back to its savepoint and
split in halves, recursively, until the bad rows are isolated; the rest load, and no row is
ever half written. ``strict=True`` runs the whole file in one transaction and writes nothing
if any row is bad.

The import holds one write connection from start to end (on SQLite with a page cache and
checkpoints sized for bulk writes while it runs, ``_BULK_PRAGMAS``). A ``RowStream`` parses
the rest of its file in a second process once the first batch shows rows being written and a
core is free (``_Run._consider_offload``, ``app.formats.rowstream``); the records' checks and
provenance encoding then run there too.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Final

import orjson
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    InternalError,
    OperationalError,
    StatementError,
)
from sqlalchemy.orm import Session

from app import writer
from app.datasets import repository
from app.datasets.resolve import BestMatchResolver, Resolved, norm
from app.db import dialect
from app.db.session import encode_json
from app.formats import dimensions
from app.formats.records import DatasetInfo, EventRecord, RowError
from app.formats.rowstream import Refused, RowStream
from app.models import Actor, Event, EventProvenance, Outlet, Place

# At most this many rejected rows and conflicts are kept for the report (the counts go on):
# a file of nothing but bad rows must not fill memory with messages.
MAX_LISTED: Final = 10_000

# Column widths PostgreSQL enforces and SQLite does not: checked here, so a row is refused
# alike on both (and before it costs a bisection).
_NAME_LENGTH: Final = Place.__table__.c.name.type.length  # type: ignore[attr-defined]
_ACTOR_NAME_LENGTH: Final = Actor.__table__.c.name.type.length  # type: ignore[attr-defined]
_OUTLET_NAME_LENGTH: Final = Outlet.__table__.c.name.type.length  # type: ignore[attr-defined]
_EXTERNAL_ID_LENGTH: Final = Event.__table__.c.external_id.type.length  # type: ignore[attr-defined]
_VERSION_LENGTH: Final = EventProvenance.__table__.c.dataset_version.type.length  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ImportConflict:
    """A row not applied because its event was changed through the API since its last import
    (or an event from elsewhere holds its external id); the event is kept as it is."""

    line: int | None
    external_id: str
    event_id: int
    reason: str


@dataclass
class ImportSummary:
    """What an import did. ``rejected`` and ``conflicts`` list the first ``MAX_LISTED``;
    ``rejected_count`` and ``conflict_count`` count them all. ``aborted``: a strict import
    found a bad row and wrote nothing."""

    dataset: str
    version: str | None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retracted: int = 0
    conflicts: list[ImportConflict] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    conflict_count: int = 0
    rejected_count: int = 0
    aborted: bool = False
    notes: list[str] = field(default_factory=list)

    def reject(self, error: RowError) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(error)

    def conflict(self, conflict: ImportConflict) -> None:
        self.conflict_count += 1
        if len(self.conflicts) < MAX_LISTED:
            self.conflicts.append(conflict)

    def audit_detail(self, *, source: str | None, strict: bool, prune: bool) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "source": source,
            "strict": strict,
            "prune": prune,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "retracted": self.retracted,
            "conflicts": self.conflict_count,
            "rejected": self.rejected_count,
            "first_rejected": [{"line": e.line, "reason": e.reason} for e in self.rejected[:20]],
            "notes": self.notes,
        }


class ImportAborted(Exception):
    """The database failed in a way no row explains (connection lost, disk full, locked):
    the batches committed before stay; ``summary`` says what they did."""

    def __init__(self, summary: ImportSummary, cause: BaseException) -> None:
        super().__init__(f"import aborted: {cause}")
        self.summary = summary
        self.cause = cause


@dataclass
class _Outcome:
    """What one batch (or part of one) did, merged into the summary once committed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[ImportConflict] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)

    def __add__(self, other: _Outcome) -> _Outcome:
        return _Outcome(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.conflicts + other.conflicts,
            self.rejected + other.rejected,
        )


class _StrictAbort(Exception):
    """Rolls back a strict import's single transaction."""


class _SourceFailed(Exception):
    """The file could not be read on (not UTF-8, an I/O error): the import stops there."""


def import_records(
    engine: Engine,
    records: Iterable[EventRecord | RowError],
    dataset: DatasetInfo,
    *,
    strict: bool = False,
    prune: bool = False,
    batch_size: int = 2000,
    principal_id: int | None,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
    parallel: bool | None = None,
) -> ImportSummary:
    """Load a parser's records; see the module docstring. ``progress`` is called with the
    number of rows read after each batch; ``source`` (the file name) goes to the audit log.
    ``parallel``: whether a ``RowStream`` may parse in a second process once the first batch
    is written (None: if the rows are being written and a core is free; see
    ``_Run._consider_offload``).

    Raises the parser's LayoutError before anything is written (ValueError for a version too
    long to store), and ImportAborted when the database fails for reasons of its own.
    """
    if dataset.version is not None and len(dataset.version) > _VERSION_LENGTH:
        raise ValueError(f"the dataset version is longer than {_VERSION_LENGTH} characters")
    stream = iter(records)
    first = next(stream, None)  # a file in the wrong layout fails here, before any write
    try:
        with few_collections():
            return _import(
                engine,
                first,
                stream,
                dataset,
                strict,
                prune,
                batch_size,
                principal_id,
                progress,
                source,
                parallel,
            )
    finally:
        if isinstance(stream, RowStream):
            stream.close()  # its worker process, if it has one


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while importing.

    An import allocates millions of short-lived objects (rows, parameters, results) and
    holds large caches; at the default threshold (700 allocations) the collector runs
    thousands of times and rescans the caches each time: a third of the CPU time. Reference
    counting frees nearly everything anyway; the threshold is restored afterwards.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _import(
    engine: Engine,
    first: EventRecord | RowError | None,
    stream: Iterator[EventRecord | RowError],
    dataset: DatasetInfo,
    strict: bool,
    prune: bool,
    batch_size: int,
    principal_id: int | None,
    progress: Callable[[int], None] | None,
    source: str | None,
    parallel: bool | None,
) -> ImportSummary:
    run = _Run(
        engine,
        dataset,
        strict=strict,
        prune=prune,
        batch_size=max(1, batch_size),
        principal_id=principal_id,
        progress=progress,
        source=source,
        parallel=parallel,
    )
    if first is None:
        items: Iterator[tuple[EventRecord | RowError, bool]] = iter(())
    else:
        items = run.items(first, stream)
    with run._connection():
        return run.strict_import(items) if strict else run.batched_import(items)


class _Run:
    def __init__(
        self,
        engine: Engine,
        dataset: DatasetInfo,
        *,
        strict: bool,
        prune: bool,
        batch_size: int,
        principal_id: int | None,
        progress: Callable[[int], None] | None,
        source: str | None,
        parallel: bool | None,
    ) -> None:
        self.engine = engine
        self.dataset = dataset
        self.strict = strict
        self.prune = prune
        self.batch_size = batch_size
        self.principal_id = principal_id
        self.progress = progress
        self.source = source
        self.summary = ImportSummary(dataset=dataset.name, version=dataset.version)
        # Every external id read, for duplicates within the file and for prune.
        self.seen: set[str] = set()
        self.rejected_without_id = 0
        self.dataset_id = 0
        self.vocab: repository.Vocabulary  # read by _setup
        self.resolver: BestMatchResolver
        self.parallel = parallel
        # Events the planner's statistics count (as of this import's last ANALYZE), and events
        # this import has created since.
        self.analyzed_events = 0
        self.created_since_analyze = 0
        self.offloaded = False  # the offload has been considered
        self.offload_now = False
        self.connection: Connection | None = None

    def items(
        self, first: EventRecord | RowError, stream: Iterator[EventRecord | RowError]
    ) -> Iterator[tuple[EventRecord | RowError, bool]]:
        """(item, whether the stream has checked it) for every item. Once ``offload_now`` is
        set (between two batches: ``_consider_offload``), a RowStream is asked to parse the
        rest of its file in a second process and to run this import's checks there."""
        yield first, False
        checked = False
        while True:
            if self.offload_now:
                self.offload_now = False
                if isinstance(stream, RowStream):
                    # The provenance is encoded there too if the engine stores the encoder's
                    # text as it is (orjson.Fragment): its JSON serializer is that encoder.
                    fragments = getattr(self.engine.dialect, "_json_serializer", None)
                    checked = stream.offload(
                        partial(problem, vocab=self.vocab),
                        provenance=provenance_json if fragments is encode_json else None,
                    )
            try:
                item = next(stream)
            except StopIteration:
                return
            yield item, checked

    def _consider_offload(self, outcome: _Outcome) -> None:
        """After the first batch: parse the rest in a second process if that pays.

        It pays when the rows are being written (the loader's share of the work is then
        ~4x the parser's, and the parser's leaves this process), not when they are mostly
        unchanged (a re-import: the worker, which also pickles every record, would be the
        slower half), and only with a core to spare for it (``parallel`` None), else
        it is extra work for the same cores (measured: +13% CPU in all). ``parallel`` True
        offloads whenever the rows are written; False never.
        """
        if self.parallel is False or self.offloaded:
            return
        self.offloaded = True  # decided once
        written = outcome.created + outcome.updated
        if written * 2 >= self.batch_size and (self.parallel or _spare_core()):
            self.offload_now = True

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A write transaction (``write_session``) on the connection the import holds from
        start to end (``_connection``), so the settings made for it stay with it, and its
        page cache too; its bulk inserts go straight to the driver (app.db.bulk)."""
        assert self.connection is not None
        with writer.bulk_session(self.engine, connection=self.connection) as session:
            yield session

    @contextmanager
    def _connection(self) -> Iterator[None]:
        """Hold one write connection for the import, with SQLite set for bulk writes
        (``_BULK_PRAGMAS``) until it ends."""
        write_engine = self.engine.execution_options(**{dialect.WRITE_OPTION: True})
        with write_engine.connect() as connection:
            restore = _bulk_pragmas(connection)
            self.connection = connection
            try:
                yield
            finally:
                self.connection = None
                restore()

    # -- the two modes ---------------------------------------------------------------------

    def batched_import(self, items: Iterator[tuple[EventRecord | RowError, bool]]) -> ImportSummary:
        """One transaction per batch; bad rows are isolated and the rest committed."""
        try:
            with self._session() as session:
                self._setup(session)
            for batch in self._batches(items):
                outcome = self._commit_batch(batch)
                self._merge(outcome)
                self._consider_offload(outcome)
                self._report_progress()
                if self._statistics_stale(outcome):
                    with self._session() as session:
                        repository.refresh_statistics(session)
            with self._session() as session:
                if self.prune:
                    self._prune(session)
                self._audit(session)
        except DBAPIError as exc:
            raise ImportAborted(self.summary, exc) from exc
        except _SourceFailed as exc:
            self._audit_stop(exc.__cause__)
            raise ImportAborted(self.summary, exc.__cause__ or exc) from exc
        return self.summary

    def strict_import(self, items: Iterator[tuple[EventRecord | RowError, bool]]) -> ImportSummary:
        """The whole file in one transaction: any bad row and nothing is written."""
        written = _Outcome()
        try:
            with self._session() as session:
                self._setup(session)
                for batch in self._batches(items):
                    # Once doomed, read on only to report every bad row.
                    if not self.summary.rejected_count:
                        outcome = self._isolate(session, batch)
                        for error in outcome.rejected:
                            self.summary.reject(error)
                        written = written + outcome
                        self._consider_offload(outcome)
                        if self._statistics_stale(outcome):
                            repository.refresh_statistics(session)
                    self._report_progress()
                if self.summary.rejected_count:
                    raise _StrictAbort
                self._merge(written)
                if self.prune:
                    self._prune(session)
                self._audit(session)
        except _StrictAbort:
            self.summary.rejected.sort(key=lambda e: e.line)
            self.summary.aborted = True
            self.summary.notes.append("strict: a row was rejected, so nothing was written")
        except DBAPIError as exc:
            raise ImportAborted(self.summary, exc) from exc
        except _SourceFailed as exc:
            self.summary.aborted = True
            raise ImportAborted(self.summary, exc.__cause__ or exc) from exc
        return self.summary

    # -- batches ---------------------------------------------------------------------------

    def _setup(self, session: Session) -> None:
        info = self.dataset
        row = repository.dataset(session, info.name)
        stated = {"licence": info.licence, "citation": info.citation, "url": info.url}
        if row is None:
            self.dataset_id = writer.create_dataset(session, info.name, **stated)
        else:
            self.dataset_id = row["id"]
            recorded = {"licence": row["licence"], "citation": row["citation"], "url": row["url"]}
            changed = {k: v for k, v in stated.items() if recorded[k] != v}
            if changed:
                writer.update_dataset(session, self.dataset_id, changed)
        self.vocab = repository.vocabulary(session)
        self.resolver = BestMatchResolver(self.dataset_id)
        self.analyzed_events = repository.estimated_rows(session, "event")

    def _statistics_stale(self, outcome: _Outcome) -> bool:
        """Whether the events written since the planner's statistics were last taken are as
        many as the events it knew of then (on an empty database: after batches 1, 2, 4,
        8 ...; into a database of N events: after each N written; never for unchanged rows).

        ``refresh_statistics`` then updates them: a table grown since, unknown to PostgreSQL's
        planner, made the provenance lookup scan the dataset once per batch.
        """
        self.created_since_analyze += outcome.created
        if self.created_since_analyze == 0 or self.created_since_analyze < self.analyzed_events:
            return False
        self.analyzed_events += self.created_since_analyze
        self.created_since_analyze = 0
        return True

    def _batches(
        self, items: Iterator[tuple[EventRecord | RowError, bool]]
    ) -> Iterator[list[EventRecord]]:
        batch: list[EventRecord] = []
        seen = self.seen
        while True:
            try:
                item, checked = next(items)
            except StopIteration:
                break
            except Exception as exc:  # the parser's, whatever it is: reading cannot go on
                raise _SourceFailed(exc) from exc
            self.summary.rows += 1
            if isinstance(item, RowError) and not isinstance(item, Refused):
                if item.external_id is None:
                    self.rejected_without_id += 1
                else:
                    seen.add(item.external_id)
                self.summary.reject(item)
                continue
            assert item.external_id is not None  # a record, or one the stream's check refused
            if item.external_id in seen:
                self.summary.reject(
                    RowError(
                        item.line,
                        f"id {item.external_id} appears earlier in the file",
                        item.external_id,
                    )
                )
                continue
            seen.add(item.external_id)
            if isinstance(item, Refused):
                self.summary.reject(RowError(item.line, item.reason, item.external_id))
                continue
            reason = None if checked else problem(item, self.vocab)
            if reason is not None:
                self.summary.reject(RowError(item.line, reason, item.external_id))
                continue
            batch.append(item)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _commit_batch(self, batch: list[EventRecord]) -> _Outcome:
        """The batch in its own transaction (``write_transaction``, on the import's connection),
        retried whole if the database gives up on it (serialization failure, deadlock, busy);
        what the resolver cached of a failed attempt is forgotten."""

        def retry() -> None:
            self.resolver.rollback()
            self.resolver.begin()

        self.resolver.begin()
        try:
            outcome = writer.write_transaction(
                self.engine,
                lambda session: self._isolate(session, batch),
                session=self._session,
                on_retry=retry,
            )
        except BaseException:
            self.resolver.rollback()
            raise
        self.resolver.commit()
        return outcome

    def _isolate(self, session: Session, batch: list[EventRecord]) -> _Outcome:
        """Write the batch under a savepoint; if the database refuses it, roll back and write
        each half the same way, until the rows it refuses are alone and reported."""
        savepoint = session.begin_nested()
        self.resolver.begin()
        try:
            outcome = self._write(session, batch)
            savepoint.commit()
        except StatementError as exc:
            savepoint.rollback()
            self.resolver.rollback()
            if _fatal(exc):
                raise
            if len(batch) == 1:
                record = batch[0]
                return _Outcome(rejected=[RowError(record.line, _reason(exc), record.external_id)])
            middle = len(batch) // 2
            return self._isolate(session, batch[:middle]) + self._isolate(session, batch[middle:])
        except BaseException:
            savepoint.rollback()
            self.resolver.rollback()
            raise
        self.resolver.commit()
        return outcome

    def _write(self, session: Session, batch: list[EventRecord]) -> _Outcome:
        outcome = _Outcome()
        existing = repository.provenance(session, self.dataset_id, (r.external_id for r in batch))
        new_keys = [r.event_key for r in batch if r.external_id not in existing]
        taken = repository.events_by_external_id(session, new_keys) if new_keys else {}
        creates: list[EventRecord] = []
        updates: list[tuple[EventRecord, repository.Provenance]] = []
        for record in batch:
            known = existing.get(record.external_id)
            if known is None:
                holder = taken.get(record.event_key)
                if holder is None:
                    creates.append(record)
                else:
                    outcome.conflicts.append(
                        ImportConflict(
                            record.line,
                            record.external_id,
                            holder,
                            f"event {holder} already has the external id {record.event_key} "
                            f"and was not imported from {self.dataset.name}: it is kept and "
                            "this row is not imported",
                        )
                    )
                continue
            untouched = known["version"] == known["imported_version"]
            # An event an earlier import retracted as absent comes back with its row.
            comes_back = untouched and known["status"] == "retracted"
            if known["content_sha256"] == record.content_sha256 and not comes_back:
                outcome.unchanged += 1
            elif not untouched:
                outcome.conflicts.append(_edited(record, known))
            else:
                updates.append((record, known))
        resolved = self.resolver.resolve(session, creates + [r for r, _ in updates])
        created, changed = resolved[: len(creates)], resolved[len(creates) :]
        if creates:
            writer.import_rows(
                session,
                self.dataset_id,
                [_imported_row(r, refs) for r, refs in zip(creates, created, strict=True)],
                api_key_id=self.principal_id,
            )
            outcome.created = len(creates)
        if updates:
            applied = writer.update_imported_events(
                session,
                [
                    self._update(record, known, refs)
                    for (record, known), refs in zip(updates, changed, strict=True)
                ],
                api_key_id=self.principal_id,
            )
            outcome.updated = len(applied)
            for record, known in updates:
                if known["event_id"] not in applied:  # edited between our read and write
                    outcome.conflicts.append(_edited(record, known))
        return outcome

    def _merge(self, outcome: _Outcome) -> None:
        s = self.summary
        s.created += outcome.created
        s.updated += outcome.updated
        s.unchanged += outcome.unchanged
        for conflict in outcome.conflicts:
            s.conflict(conflict)
        for error in outcome.rejected:
            s.reject(error)

    def _report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.summary.rows)

    # -- rows ------------------------------------------------------------------------------

    def _provenance(self, record: EventRecord, *, update: bool = False) -> writer.NewProvenance:
        # A RowStream's worker encoded it already (a WireEventRecord): a new event's
        # provenance takes that text as it is; an update compares it with the stored one.
        encoded = getattr(record, "provenance_json", None)
        original: dict[str, Any] | orjson.Fragment
        if encoded is None:
            original = stored_original(record)
        else:
            original = orjson.loads(encoded) if update else orjson.Fragment(encoded)
        return writer.NewProvenance(
            dataset_id=self.dataset_id,
            external_id=record.external_id,
            dataset_version=record.dataset_version,
            content_sha256=record.content_sha256,
            original=original,
        )

    def _update(
        self, record: EventRecord, known: repository.Provenance, refs: Resolved
    ) -> writer.ImportedEventUpdate:
        values = _event_values(record, refs)
        if known["status"] == "retracted":
            values.update(status="active", retraction_reason=None, retracted_at=None)
        return writer.ImportedEventUpdate(
            event_id=known["event_id"],
            expected_version=known["imported_version"],
            values=values,
            actors=refs.actors,
            article_ids=refs.article_ids,
            provenance=self._provenance(record, update=True),
            dimension_ids=refs.dimension_ids,
        )

    # -- prune and audit -------------------------------------------------------------------

    def _prune(self, session: Session) -> None:
        s = self.summary
        if s.rows == 0:
            s.notes.append("prune skipped: the file has no rows (refusing to retract everything)")
            return
        if self.rejected_without_id:
            s.notes.append(
                f"prune skipped: {self.rejected_without_id} rejected row(s) have no readable id, "
                "so the events absent from the file cannot be told apart"
            )
            return
        reason = f"absent from {self.dataset.name}" + (
            f" {self.dataset.version}" if self.dataset.version else ""
        )
        to_retract: list[tuple[int, int]] = []
        external_ids: dict[int, str] = {}
        for row in repository.active_imported_events(session, self.dataset_id):
            if row["external_id"] in self.seen:
                continue
            if row["version"] == row["imported_version"]:
                to_retract.append((row["event_id"], row["version"]))
                external_ids[row["event_id"]] = row["external_id"]
            else:
                s.conflict(
                    ImportConflict(
                        None,
                        row["external_id"],
                        row["event_id"],
                        f"{reason}, but edited since its last import: kept, not retracted",
                    )
                )
        retracted = writer.retract_imported_events(
            session, to_retract, reason, api_key_id=self.principal_id
        )
        s.retracted += len(retracted)
        for event_id, _ in to_retract:
            if event_id not in retracted:  # edited between our read and write
                s.conflict(
                    ImportConflict(
                        None,
                        external_ids[event_id],
                        event_id,
                        f"{reason}, but edited meanwhile: kept, not retracted",
                    )
                )

    def _audit_stop(self, cause: BaseException | None) -> None:
        """The audit row of an import the file stopped: the batches before it are in."""
        self.summary.notes.append(f"stopped: the file could not be read on ({cause})")
        with self._session() as session:
            self._audit(session)

    def _audit(self, session: Session) -> None:
        writer.audit(
            session,
            "import.run",
            api_key_id=self.principal_id,
            entity="dataset",
            entity_id=self.dataset_id,
            detail=self.summary.audit_detail(
                source=self.source, strict=self.strict, prune=self.prune
            ),
        )


# -- helpers ---------------------------------------------------------------------------------

# SQLite settings for the import's connection while it runs (per connection, so nothing else
# sees them), each then set back: a page cache that holds what a batch writes (at the default
# 2 MB, pages spill to the WAL in mid-transaction and are written again; measured: ~5% of the
# import's time) and the indexes' upper levels, and checkpoints every 64 MB of WAL rather
# than every 4 MB (each checkpoint copies pages back into the database file and syncs it; a
# page written by many batches is then copied once). Durability is unchanged: every commit
# is still synced (synchronous stays FULL).
_BULK_PRAGMAS: Final = {"cache_size": -65_536, "wal_autocheckpoint": 16_384, "temp_store": 2}


def _bulk_pragmas(connection: Connection) -> Callable[[], None]:
    """Apply ``_BULK_PRAGMAS`` to a SQLite connection; returns what sets them back."""
    if connection.dialect.name != "sqlite":
        return lambda: None
    # On the driver's connection: through SQLAlchemy, a statement would begin a transaction
    # (BEGIN IMMEDIATE, on a write connection).
    raw: Any = connection.connection.driver_connection
    before = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in _BULK_PRAGMAS}
    for name, value in _BULK_PRAGMAS.items():
        raw.execute(f"PRAGMA {name} = {int(value)}")

    def restore() -> None:
        with suppress(Exception):  # a connection lost meanwhile is discarded anyway
            for name, value in before.items():
                raw.execute(f"PRAGMA {name} = {int(value)}")

    return restore


def problem(record: EventRecord, vocab: repository.Vocabulary) -> str | None:
    """Why the database would refuse the record, found without asking it (or None).

    The vocabularies and PostgreSQL's column widths and NUL ban are checked here so a row
    is refused alike on SQLite and PostgreSQL. A module function, so a RowStream's worker
    process can run it (``_Run.items``).
    """
    subs = vocab["event_types"].get(record.event_type)
    if subs is None:
        return f"unknown event type {record.event_type!r}"
    if record.sub_event_type is not None and record.sub_event_type not in subs:
        return f"{record.sub_event_type!r} is not a sub-type of {record.event_type!r}"
    if record.date_precision not in vocab["date_precisions"]:
        return f"unknown date precision {record.date_precision!r}"
    if len(record.event_key) > _EXTERNAL_ID_LENGTH:
        return f"the id is longer than {_EXTERNAL_ID_LENGTH - len(record.dataset) - 1} characters"
    if record.places and (record.places[0].kind != "country" or not record.places[0].country):
        return "the place hierarchy does not start with a country"
    for place in record.places:
        if place.kind not in vocab["place_kinds"]:
            return f"unknown place kind {place.kind!r}"
        found = _name_problem("place", place.name, _NAME_LENGTH)
        for alias in place.aliases:
            found = found or _alias_problem(alias, _NAME_LENGTH)
        if found:
            return found
    for actor in (*record.actors, *record.member_actors):
        if actor.kind not in vocab["actor_kinds"]:
            return f"unknown actor kind {actor.kind!r} for {actor.name!r}"
        if actor.role not in vocab["event_roles"]:
            return f"unknown event role {actor.role!r} for {actor.name!r}"
        found = _name_problem("actor", actor.name, _ACTOR_NAME_LENGTH)
        if found:
            return found
    for source in record.sources:
        if source.outlet is not None:
            found = _name_problem("outlet", source.outlet, _OUTLET_NAME_LENGTH)
            if found:
                return found
    for scheme, code, label in record.dimensions:
        found = _code_problem(scheme, code, label, vocab)
        if found:
            return found
    if _has_nul(record):
        return "the row contains a NUL character"
    return None


def provenance_json(record: EventRecord) -> str:
    """``stored_original`` as the engine's JSON serializer encodes it."""
    return encode_json(stored_original(record))


def _spare_core() -> bool:
    """Whether a core is free for a second process: at least two this process may run on,
    and a load (1-minute average, this import's own share of it included) leaving more than
    half of one idle."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores >= 2 and os.getloadavg()[0] < cores - 0.5


def stored_original(record: EventRecord) -> dict[str, Any]:
    """What ``event_provenance.original`` keeps: the row's own values, and its flags.

    The row's coordinates are kept too: they are mapped onto its place, which keeps the
    coordinates of the first row that located it, so a later row's own point would otherwise
    be lost.
    """
    row = dict(record.original)
    place = record.place
    if place is not None and place.latitude is not None and place.longitude is not None:
        row["latitude"] = repr(place.latitude)
        row["longitude"] = repr(place.longitude)
    return {"row": row, "flags": list(record.flags)}


def _event_values(record: EventRecord, refs: Resolved) -> dict[str, Any]:
    return {
        "event_type": record.event_type,
        "sub_event_type": record.sub_event_type,
        "date_start": record.date_start,
        "date_end": record.date_end,
        "date_precision": record.date_precision,
        "place_id": refs.place_id,
        "geo_precision": record.geo_precision,
        "summary": record.summary,
        "fatalities_low": record.fatalities_low,
        "fatalities_best": record.fatalities_best,
        "fatalities_high": record.fatalities_high,
        "deaths_a": record.deaths_a,
        "deaths_b": record.deaths_b,
        "deaths_civilians": record.deaths_civilians,
        "deaths_unknown": record.deaths_unknown,
    }


def _imported_row(record: EventRecord, refs: Resolved) -> writer.ImportedRow:
    """A new event's row for the set-based writer (``app.writer.staged``): its fields in
    ``GIVEN_FIELDS`` order, its resolved references, and its provenance."""
    # A RowStream's worker encoded the provenance already (a WireEventRecord).
    encoded = getattr(record, "provenance_json", None)
    return writer.ImportedRow(
        (
            record.event_key,
            record.event_type,
            record.sub_event_type,
            record.date_start,
            record.date_end,
            record.date_precision,
            refs.place_id,
            record.geo_precision,
            record.summary,
            record.fatalities_low,
            record.fatalities_best,
            record.fatalities_high,
            record.deaths_a,
            record.deaths_b,
            record.deaths_civilians,
            record.deaths_unknown,
        ),
        refs.actors,
        refs.article_ids,
        refs.dimension_ids,
        record.external_id,
        record.dataset_version,
        record.content_sha256,
        provenance_json(record) if encoded is None else encoded,
    )


def _edited(record: EventRecord, known: repository.Provenance) -> ImportConflict:
    return ImportConflict(
        record.line,
        record.external_id,
        known["event_id"],
        f"event {known['event_id']} was changed through the API since its last import "
        f"(version {known['version']}, imported as {known['imported_version']}): the edit is "
        "kept and this row's changes are not applied",
    )


@lru_cache(maxsize=1 << 16)  # names repeat across rows by the thousand
def _name_problem(what: str, name: str, length: int) -> str | None:
    normalised = norm(name)
    if not normalised:
        return f"{what} name {name!r} has no letters or digits to match on"
    # The normalised form is stored too, and can be the longer (compatibility forms expand).
    if max(len(name), len(normalised)) > length:
        return f"{what} name longer than {length} characters: {name[:40]!r}..."
    if "\x00" in name:
        return f"{what} name {name!r} contains a NUL character"
    return None


def _code_problem(
    scheme: str, code: str, label: str | None, vocab: repository.Vocabulary
) -> str | None:
    """A code its scheme does not know (a closed scheme's list), or that cannot be stored."""
    if scheme not in vocab["schemes"]:
        return f"unknown scheme {scheme!r}"
    closed = vocab["closed_codes"].get(scheme)
    if closed is not None and code not in closed:
        column = dimensions.BY_NAME[scheme].column if scheme in dimensions.BY_NAME else scheme
        return f"{column} {code!r} is not a code of {scheme}; one of {', '.join(sorted(closed))}"
    if len(code) > dimensions.MAX_CODE_LENGTH:
        return (
            f"{scheme} code longer than {dimensions.MAX_CODE_LENGTH} characters: {code[:40]!r}..."
        )
    if label is not None and len(label) > dimensions.MAX_LABEL_LENGTH:
        return f"{scheme} label longer than {dimensions.MAX_LABEL_LENGTH} characters"
    return None


@lru_cache(maxsize=1 << 14)
def _alias_problem(alias: str, length: int) -> str | None:
    if max(len(alias), len(norm(alias))) > length:
        return f"place alias longer than {length} characters: {alias[:40]!r}..."
    return None


def _has_nul(record: EventRecord) -> bool:
    # Names were checked by problem() already (cached); one join, one scan for the rest.
    texts = [
        record.summary or "",
        record.external_id,
        *(f"{code}{label or ''}" for _, code, label in record.dimensions),
        *record.original.values(),
        *(f"{s.headline or ''}{s.raw or ''}{s.url or ''}" for s in record.sources),
        *(a for p in record.places for a in p.aliases),
    ]
    return "\x00" in "".join(texts)


def _fatal(exc: StatementError) -> bool:
    """Errors no row explains: the connection or the database itself failed, or PostgreSQL
    asks for the whole transaction to be retried."""
    if isinstance(exc, (OperationalError, InterfaceError, InternalError)):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or dialect.is_retryable(exc)
    return False


def _reason(exc: StatementError) -> str:
    message = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return "the database refused the row: " + (message[0] if message else type(exc).__name__)
