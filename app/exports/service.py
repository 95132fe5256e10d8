"""Streaming the events an export asks for: keyset pages of ~1,000, memory flat.

Pages are read in the order of one of the events list's sorts (by id unless told), each
resuming after the last row of the one before (``WHERE (key, id) > (:last) ... LIMIT n``),
with their places, actors and sources in three more queries, and handed on one event at a
time; nothing holds more than a page. The filters are the events list's own
(``EventFilter`` and ``app.events.repository.filter_clauses``), for the command line and
``GET /v1/events?format=csv|geojson`` alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from app.db.session import read_session
from app.events import repository as event_repository
from app.events.schemas import EventFilter
from app.exports import repository

PAGE_SIZE = 1000


@dataclass
class ExportEvent:
    """One event with what every export format draws on."""

    id: int
    external_id: str | None
    event_type: str
    sub_event_type: str | None
    date_start: date
    date_end: date
    date_precision: str
    geo_precision: int | None
    summary: str | None
    fatalities_low: int | None
    fatalities_best: int | None
    fatalities_high: int | None
    status: str
    # The event's place last, preceded by the places containing it, the country first.
    places: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    # {dataset, version, external_id, original, flags} for an imported event.
    provenance: dict[str, Any] | None = None


def iter_events(
    engine: Engine, filters: EventFilter, *, sort: str = "id", page_size: int = PAGE_SIZE
) -> Iterator[ExportEvent]:
    """The matching events in the order of ``sort`` (a key of the events list's), read by one
    streamed statement and completed ``page_size`` at a time (places, actors, sources: one
    query each a page). The filters' SQL is built (and a bad ``q`` refused) on the first
    event asked for."""
    with read_session(engine) as session:
        clauses = event_repository.filter_clauses(event_repository.with_live_ids(session, filters))
        for rows in repository.event_rows(session, clauses, sort, page_size):
            ids = [r["id"] for r in rows]
            chains = repository.place_chains(
                session, {r["place_id"] for r in rows if r["place_id"] is not None}
            )
            # The same actors, in the same order, as the list's include=actors.
            actors = event_repository.actors_of(session, ids)
            sources = repository.event_sources(session, ids)
            for row in rows:
                yield _event(row, chains, actors, sources)


def _event(
    row: dict[str, Any],
    chains: dict[int, list[dict[str, Any]]],
    actors: dict[int, list[dict[str, Any]]],
    sources: dict[int, list[dict[str, Any]]],
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
        external_id=row["external_id"],
        event_type=row["event_type"],
        sub_event_type=row["sub_event_type"],
        date_start=row["date_start"],
        date_end=row["date_end"],
        date_precision=row["date_precision"],
        geo_precision=row["geo_precision"],
        summary=row["summary"],
        fatalities_low=row["fatalities_low"],
        fatalities_best=row["fatalities_best"],
        fatalities_high=row["fatalities_high"],
        status=row["status"],
        places=chains.get(row["place_id"], []) if row["place_id"] is not None else [],
        actors=actors.get(row["id"], []),
        sources=sources.get(row["id"], []),
        provenance=provenance,
    )
