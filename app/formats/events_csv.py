"""Export formats, written as they stream: each takes events and yields text chunks.

- ``csv``: flat, one row per event (``FLAT_COLUMNS``), ACLED's column names where ACLED has
  the column (``event_date``, ``actor1``, ``admin1``, ``location``, ``source``, ``notes``,
  ``fatalities`` ...), ours for the rest (``date_end``, ``fatalities_low`` ...).
- ``acled-csv``: ACLED's own layout (``app.formats.acled.acled_row``), which
  ``conflictdb import acled`` reads back.
- ``ndjson``: one JSON object per line: the flat row, with the place hierarchy, actors,
  sources and provenance as nested values.

Generators of text, not writers to a file, so an HTTP response can stream them as well.
GeoJSON is the events list's own (``app.events.service.geojson``): features whose
properties are the API's event rows, for the API and ``conflictdb export`` alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Final

import orjson

from app.exports.service import ExportEvent
from app.formats import acled
from app.formats.records import (
    UNATTRIBUTED_OUTLET,
    ActorSpec,
    EventRecord,
    PlaceSpec,
    SourceSpec,
)

FLAT_COLUMNS: Final = (
    "id",
    "external_id",
    "event_date",
    "date_end",
    "date_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "actor2",
    "assoc_actor_2",
    "country_code",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "status",
    "dataset",
    "dataset_version",
    "dataset_event_id",
)

MEDIA_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "acled-csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
}

# Rows per chunk handed on: large enough that writing is cheap, small enough to stream.
_ROWS_PER_CHUNK = 200
_ADMIN_KINDS: Final = ("admin1", "admin2", "admin3")


def _sides(actors: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Side a (and actors without a side), side b; each with its associated actors last, as
    ACLED lists a side: actorN, then assoc_actor_N."""
    a = [x for x in actors if x["side"] != "b"]
    b = [x for x in actors if x["side"] == "b"]
    return (
        sorted(a, key=lambda x: x["role"] == "associated"),
        sorted(b, key=lambda x: x["role"] == "associated"),
    )


def located(event: ExportEvent) -> dict[str, Any] | None:
    """The event's place, when it has coordinates: the event's coordinates are its place's,
    in every format and in the ``bbox``/``near`` filters alike (a place without coordinates
    does not borrow those of a place containing it)."""
    if event.places and event.places[-1]["latitude"] is not None:
        return event.places[-1]
    return None


def flat_row(event: ExportEvent) -> dict[str, Any]:
    """The event as one flat row (``FLAT_COLUMNS``), values typed (None for missing)."""
    side_a, side_b = _sides(event.actors)
    row: dict[str, Any] = dict.fromkeys(FLAT_COLUMNS)
    row.update(
        id=event.id,
        external_id=event.external_id,
        event_date=event.date_start.isoformat(),
        date_end=event.date_end.isoformat(),
        date_precision=event.date_precision,
        event_type=event.event_type,
        sub_event_type=event.sub_event_type,
        actor1=side_a[0]["name"] if side_a else None,
        assoc_actor_1="; ".join(x["name"] for x in side_a[1:]) or None,
        actor2=side_b[0]["name"] if side_b else None,
        assoc_actor_2="; ".join(x["name"] for x in side_b[1:]) or None,
        geo_precision=event.geo_precision,
        source="; ".join(dict.fromkeys(_source_label(s) for s in event.sources)) or None,
        notes=event.summary,
        fatalities=event.fatalities_best,
        fatalities_low=event.fatalities_low,
        fatalities_high=event.fatalities_high,
        status=event.status,
    )
    for place in event.places:
        if place["kind"] == "country":
            row["country"] = place["name"]
        elif place["kind"] in _ADMIN_KINDS:
            row[place["kind"]] = place["name"]
        else:
            row["location"] = place["name"]
    if event.places:
        row["country_code"] = event.places[-1]["country"]
    point = located(event)
    if point is not None:
        row["latitude"], row["longitude"] = point["latitude"], point["longitude"]
    if event.provenance is not None:
        row["dataset"] = event.provenance["dataset"]
        row["dataset_version"] = event.provenance["version"]
        row["dataset_event_id"] = event.provenance["external_id"]
    return row


def _source_label(source: dict[str, Any]) -> str:
    if source["outlet"] == UNATTRIBUTED_OUTLET:
        return str(source["title"] or UNATTRIBUTED_OUTLET)
    return str(source["outlet"])


def _csv_chunks(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def iter_csv(events: Iterable[ExportEvent]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        yield list(FLAT_COLUMNS)
        for event in events:
            row = flat_row(event)
            yield ["" if row[c] is None else row[c] for c in FLAT_COLUMNS]

    return _csv_chunks(rows())


def to_record(event: ExportEvent) -> EventRecord:
    """The event as a dataset record, for ACLED's layout.

    An event imported from ACLED keeps its ACLED id and the values ACLED gave that have no
    column here (inter codes, iso, tags, timestamp ...), so the row comes back as it was
    read. Other events take their own external id (or ``conflictdb:<id>``) as ACLED's id.
    """
    provenance = event.provenance or {}
    if provenance.get("dataset") == acled.DATASET:
        external_id = provenance["external_id"]
    else:
        external_id = event.external_id or f"conflictdb:{event.id}"
    sources = tuple(
        SourceSpec(raw=s["title"])
        if s["outlet"] == UNATTRIBUTED_OUTLET
        else SourceSpec(outlet=s["outlet"], published_date=s["published_date"], url=s["url"])
        for s in event.sources
    )
    return EventRecord(
        dataset=provenance.get("dataset") or "conflictdb",
        dataset_version=provenance.get("version"),
        external_id=external_id,
        line=0,
        event_type=event.event_type,
        sub_event_type=event.sub_event_type,
        date_start=event.date_start,
        date_end=event.date_end,
        date_precision=event.date_precision,
        geo_precision=event.geo_precision,
        summary=event.summary,
        fatalities_low=event.fatalities_low,
        fatalities_best=event.fatalities_best,
        fatalities_high=event.fatalities_high,
        places=tuple(
            PlaceSpec(
                name=p["name"],
                kind=p["kind"],
                country=p["country"],
                latitude=p["latitude"],
                longitude=p["longitude"],
            )
            for p in event.places
        ),
        actors=tuple(
            ActorSpec(
                name=a["name"],
                kind=a["kind"],
                country=a["country"],
                side="b" if a["side"] == "b" else "a",
                role=a["role"],
            )
            for a in event.actors
        ),
        sources=sources,
        original={str(k): str(v) for k, v in provenance.get("original", {}).items()},
        flags=tuple(provenance.get("flags", ())),
    )


def iter_acled_csv(events: Iterable[ExportEvent]) -> Iterator[str]:
    def rows() -> Iterator[list[str]]:
        yield list(acled.ACLED_COLUMNS)
        for event in events:
            row = acled.acled_row(to_record(event))
            yield [row[c] for c in acled.ACLED_COLUMNS]

    return _csv_chunks(rows())


def _json_default(value: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_json_default).decode()


def ndjson_object(event: ExportEvent) -> dict[str, Any]:
    return {
        **flat_row(event),
        "places": event.places,
        "actors": event.actors,
        "sources": event.sources,
        "provenance": event.provenance,
    }


def iter_ndjson(events: Iterable[ExportEvent]) -> Iterator[str]:
    for event in events:
        yield _dumps(ndjson_object(event)) + "\n"


FORMATS: Final[dict[str, Callable[[Iterable[ExportEvent]], Iterator[str]]]] = {
    "csv": iter_csv,
    "acled-csv": iter_acled_csv,
    "ndjson": iter_ndjson,
}


def write(format: str, events: Iterable[ExportEvent], out: IO[str]) -> None:
    """Write the events in ``format`` to a text stream, chunk by chunk."""
    for chunk in FORMATS[format](events):
        out.write(chunk)
