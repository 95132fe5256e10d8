"""The whole result of an events query in a file format, streamed a page at a time: what
``GET /v1/events?format=...`` and ``conflictdb export`` share, so both write the same shape
under the same name.

- ``ndjson`` and ``geojson`` carry the JSON list's rows (``fields`` and ``include`` applied);
- ``csv`` (flat) and ``acled-csv`` carry ``ExportEvent``s: each event with its place chain,
  actors, sources and provenance, read three queries a page.

Pages follow the query's ``sort``; memory stays at about a page whatever the size of the
result. The shapes themselves are written by ``app.formats``.

Each page is one keyset query in its own short read transaction (after the first, bounded
by the ranges whose ends ``_ranged`` reads once): a stream holds a database connection only
while it reads a page, never while it waits for its client, and each page's statement is
bounded by the read timeout like any read. What that gives (docs: README,
"Streams and consistency"): a page is as of the moment it is read; every event matching
throughout appears exactly once, at most once when sorted by id even if it changes meanwhile;
``Data-Version`` names the version at the start, from which ``/v1/changes`` has the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sized
from typing import Any, Final, TypeVar

from sqlalchemy import Engine

from app.db.session import read_session
from app.events import asof, repository
from app.events.schemas import EventFilter, EventListQuery
from app.formats import acled, events_csv, geojson, ndjson
from app.formats.records import ExportEvent
from app.models.event import DERIVED_FIELDS, RECORDED_FIELDS

CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
# Every format an events query can be written in, by name, with its media type.
MEDIA_TYPES: Final = {
    "json": "application/json",
    "csv": CSV_MEDIA_TYPE,
    "geojson": geojson.MEDIA_TYPE,
    "ndjson": ndjson.MEDIA_TYPE,
    "acled-csv": CSV_MEDIA_TYPE,
}
# The formats of the API's list (``format=``, or ``Accept``); ``conflictdb export`` also
# writes acled-csv.
LIST_FORMATS: Final = ("json", "csv", "geojson", "ndjson")

# Rows per page of a stream, and the bytes handed on at a time.
PAGE_SIZE = 1000
CHUNK_BYTES = 64 * 1024

OnRows = Callable[[int], None]
# A page of a stream, whatever its rows' shape.
Page = TypeVar("Page", bound=Sized)
# An ExportEvent's own fields: the event's recorded fields (its place is the chain), and what
# the writer keeps from its evidence.
EXPORTED_FIELDS = (*(name for name in RECORDED_FIELDS if name != "place_id"), *DERIVED_FIELDS)


def datasets(engine: Engine, query: EventFilter) -> list[dict[str, Any]]:
    """The datasets whose events ``query`` matches, each with its licence, citation and URL
    (issue 12: an export names the terms of every dataset it contains)."""
    with read_session(engine) as session:
        return repository.datasets_of(session, repository.with_live_ids(session, query))


def stream(
    engine: Engine,
    query: EventListQuery,
    fmt: str,
    *,
    on_rows: OnRows | None = None,
    max_bytes: int | None = None,
    terms: list[dict[str, Any]] | None = None,
    reveal: bool = False,
) -> Generator[bytes]:
    """The whole result of ``query`` in ``fmt`` (csv, acled-csv, geojson or ndjson), in the
    order of ``query.sort``; ``on_rows(n)`` is told of each page's rows as it goes. With
    ``include=sources``, a page holds at most about ``max_bytes`` (it is cut short, and the
    next page resumes after it); ``reveal``: protected speakers' names shown. GeoJSON names
    the datasets behind the events (``terms``, read here when not given) in its ``datasets``
    member."""
    if fmt == "ndjson":
        return _ndjson(engine, query, on_rows, max_bytes, reveal)
    if fmt == "geojson":
        return _geojson(engine, query, on_rows, max_bytes, terms, reveal)
    events = export_events(engine, query, sort=query.sort, page_size=PAGE_SIZE, on_rows=on_rows)
    writer = events_csv.iter_csv if fmt == "csv" else acled.iter_acled_csv
    return _encoded(writer(events))


def _list_pages(
    engine: Engine,
    query: EventListQuery,
    on_rows: OnRows | None,
    max_bytes: int | None,
    reveal: bool,
) -> Iterator[list[dict[str, Any]]]:
    """The whole result in the list's shape, a page at a time, each page read in a session
    closed before the page is handed on."""
    with read_session(engine) as session:
        query = repository.with_live_ids(session, query)

    def read(
        after: list[Any] | None, through: list[Any] | None
    ) -> tuple[list[dict[str, Any]], list[Any] | None]:
        with read_session(engine) as session:
            return repository.event_page(
                session,
                query,
                after,
                PAGE_SIZE,
                max_bytes=max_bytes,
                reveal=reveal,
                through=through,
            )

    def bounds(after: list[Any]) -> list[list[Any]]:
        with read_session(engine) as session:
            asof.apply(session, query)
            stmt = repository.list_statement(query, query.sort, [], after=after)
            return repository.page_bounds(session, stmt, query.sort, _span(PAGE_SIZE))

    for page in _ranged(read, bounds):
        if on_rows is not None:
            on_rows(len(page))
        if page:
            yield page


def _span(page_size: int) -> int:
    """Rows in a range of ``_ranged``: nine tenths of a page, so that a range is read in one
    page, with room for rows written into it meanwhile, and no second, empty read."""
    return max(1, page_size * 9 // 10)


def _ranged(
    read: Callable[[list[Any] | None, list[Any] | None], tuple[Page, list[Any] | None]],
    bounds: Callable[[list[Any]], list[list[Any]]],
) -> Iterator[Page]:
    """A whole result, page by page: ``read(after, through)`` reads one keyset page of the
    rows after ``after`` and up to ``through`` (None: no bound), with the sort keys of its
    last row when more may follow in that range (None when the range is done).

    The first page is read alone; when the result goes on past it, ``bounds(last)`` (the
    keys of every ``_span``-th row still to come, ``repository.page_bounds``) splits the
    rest into ranges of a little less than a page, read in order, each as keyset pages up
    to its end. A page's statement then reads its range, never every row still to come.
    The ranges cover everything after the first page whatever is written meanwhile (the
    last one has no end), so the guarantees of plain keyset pages hold: an event that
    matches throughout and keeps its sort keys appears exactly once; a range that gained
    rows takes more pages."""
    page, last = read(None, None)
    yield page
    if last is None:
        return
    after = last
    for through in [*bounds(last), None]:
        while True:
            page, last = read(after, through)
            yield page
            if last is None:
                break
            after = last
        if through is not None:
            after = through


def _ndjson(
    engine: Engine,
    query: EventListQuery,
    on_rows: OnRows | None,
    max_bytes: int | None,
    reveal: bool,
) -> Generator[bytes]:
    for page in _list_pages(engine, query, on_rows, max_bytes, reveal):
        yield ndjson.lines(page)


def _geojson(
    engine: Engine,
    query: EventListQuery,
    on_rows: OnRows | None,
    max_bytes: int | None,
    terms: list[dict[str, Any]] | None,
    reveal: bool,
) -> Generator[bytes]:
    requested = query.columns()
    dropped = [c for c in geojson.COORDINATES if c not in requested]
    if terms is None:
        terms = datasets(engine, query)
    if dropped:  # the geometry needs them even when the properties leave them out
        query = query.model_copy(update={"fields": [*requested, *dropped]})
    yield from geojson.collection(
        _list_pages(engine, query, on_rows, max_bytes, reveal), drop=dropped, datasets=terms
    )


def export_events(
    engine: Engine,
    filters: EventFilter,
    *,
    sort: str = "id",
    page_size: int = PAGE_SIZE,
    on_rows: OnRows | None = None,
) -> Iterator[ExportEvent]:
    """The matching events in the order of ``sort`` (a key of the events list's), a keyset page
    of ``page_size`` at a time, each completed (places, actors, sources: one query each) in
    the page's own read transaction. The filters' SQL is built (and a bad ``q`` refused) on
    the first event asked for."""
    with read_session(engine) as session:
        filters = repository.with_live_ids(session, filters)
        clauses = repository.filter_clauses(filters)

    def read(
        after: list[Any] | None, through: list[Any] | None
    ) -> tuple[list[ExportEvent], list[Any] | None]:
        with read_session(engine) as session:
            asof.apply(session, filters)  # issue 12: each page's read at the same version
            rows, last = repository.export_page(session, clauses, sort, after, page_size, through)
            ids = [r["id"] for r in rows]
            chains = repository.place_chains(
                session, {r["place_id"] for r in rows if r["place_id"] is not None}
            )
            # The same actors, in the same order, as the list's include=actors.
            actors = repository.actors_of(session, ids)
            sources = repository.event_sources(session, ids)
            dimensions = repository.dimensions_of(session, ids)
        return [_export_event(row, chains, actors, sources, dimensions) for row in rows], last

    def bounds(after: list[Any]) -> list[list[Any]]:
        with read_session(engine) as session:
            asof.apply(session, filters)
            return repository.export_bounds(session, clauses, sort, after, _span(page_size))

    for page in _ranged(read, bounds):
        if on_rows is not None:
            on_rows(len(page))
        yield from page


def _export_event(
    row: dict[str, Any],
    chains: dict[int, list[dict[str, Any]]],
    actors: dict[int, list[dict[str, Any]]],
    sources: dict[int, list[dict[str, Any]]],
    dimensions: dict[int, list[tuple[str, str, str | None]]],
) -> ExportEvent:
    provenance = None
    if row["dataset"] is not None:
        stored = row["original"] or {}
        provenance = {
            "dataset": row["dataset"],
            "version": row["dataset_version"],
            "external_id": row["dataset_event_id"],
            "original": stored.get("row", {}),
            "flags": stored.get("flags", []),
        }
    return ExportEvent(
        id=row["id"],
        **{name: row[name] for name in EXPORTED_FIELDS},
        interaction=row["interaction"],
        dimensions=dimensions.get(row["id"], []),
        places=chains.get(row["place_id"], []) if row["place_id"] is not None else [],
        actors=actors.get(row["id"], []),
        sources=sources.get(row["id"], []),
        provenance=provenance,
    )


def _encoded(chunks: Iterable[str]) -> Generator[bytes]:
    """Text chunks as UTF-8, gathered to about ``CHUNK_BYTES`` (fewer, larger writes and hops
    through the thread pool than a chunk per event)."""
    pending: list[bytes] = []
    size = 0
    for text in chunks:
        data = text.encode()
        pending.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)
