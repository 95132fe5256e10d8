"""Streaming the events an export asks for: keyset pages of ~1,000, memory flat.

Pages are read by event id (``WHERE id > :last ORDER BY id LIMIT n``, the primary key's
order), each with its places, actors, sources and provenance in four more queries, and
handed on one event at a time; nothing holds more than a page. The filters are the events
list's (``app.events.repository.filter_clauses``), plus the country of the event's place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Engine

from app.db.session import read_session
from app.events import repository as event_repository
from app.events.schemas import EventFilter
from app.exports import repository

PAGE_SIZE = 1000


@dataclass(frozen=True)
class ExportFilter:
    """Which events to export; every filter given narrows the export (AND)."""

    date_from: date | None = None
    date_to: date | None = None
    event_type: Sequence[str] = ()
    place: int | None = None
    country: str | None = None
    actor: int | None = None
    include_retracted: bool = False

    def clauses(self) -> list[ColumnElement[bool]]:
        listed = EventFilter(
            date_from=self.date_from,
            date_to=self.date_to,
            event_type=list(self.event_type) or None,
            place=self.place,
            actor=self.actor,
            include_retracted=self.include_retracted,
        )
        clauses = event_repository.filter_clauses(listed)
        if self.country is not None:
            clauses.append(repository.country_clause(self.country.upper()))
        return clauses


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
    engine: Engine, export: ExportFilter, *, page_size: int = PAGE_SIZE
) -> Iterator[ExportEvent]:
    """The matching events in id order, a page at a time."""
    clauses = export.clauses()
    after = 0
    with read_session(engine) as session:
        while True:
            rows = repository.event_page(session, clauses, after, page_size)
            if not rows:
                return
            ids = [r["id"] for r in rows]
            chains = repository.place_chains(
                session, {r["place_id"] for r in rows if r["place_id"] is not None}
            )
            actors = repository.event_actors(session, ids)
            sources = repository.event_sources(session, ids)
            for row in rows:
                yield _event(row, chains, actors, sources)
            if len(rows) < page_size:
                return
            after = ids[-1]


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
