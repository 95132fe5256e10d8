"""The flat CSV of events: one row per event (``FLAT_COLUMNS``), ACLED's column names where
ACLED has the column (``event_date``, ``actor1``, ``admin1``, ``location``, ``source``,
``notes``, ``fatalities`` ...), ours for the rest (``date_end``, ``fatalities_low`` ...).

Written as it streams (text chunks), for ``GET /v1/events?format=csv`` and ``conflictdb
export`` alike. The API's other layouts: ``acled`` (ACLED's own CSV), ``geojson``, ``ndjson``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from app.formats.csvfile import write_rows
from app.formats.dimensions import SCHEMES
from app.formats.records import UNATTRIBUTED_OUTLET, ExportEvent

# Issue 12: fatalities by whom, the sides' interaction, and a column per dataset scheme
# (its codes, "; "-joined when an event has several), with the names UCDP gives its
# conflicts and dyads beside their ids.
LABELLED_SCHEMES: Final = ("ucdp.conflict", "ucdp.dyad")
DIMENSION_COLUMNS: Final = tuple(
    column
    for scheme in SCHEMES
    for column in (
        (scheme.name, f"{scheme.name}_label") if scheme.name in LABELLED_SCHEMES else (scheme.name,)
    )
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
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "status",
    "dataset",
    "dataset_version",
    "dataset_event_id",
    "evidence",
    "source_count",
    "outlet_count",
    "quote_count",
    "first_reported_date",
    "disputed",
    "incident_id",
    # -- issue 12 (its deaths by whom are above, with the other figures)
    "interaction",
    *DIMENSION_COLUMNS,
)

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
        deaths_a=event.deaths_a,
        deaths_b=event.deaths_b,
        deaths_civilians=event.deaths_civilians,
        deaths_unknown=event.deaths_unknown,
        status=event.status,
        evidence=event.evidence,
        source_count=event.source_count,
        outlet_count=event.outlet_count,
        quote_count=event.quote_count,
        first_reported_date=(
            event.first_reported_date.isoformat() if event.first_reported_date else None
        ),
        # As the JSON list says it, so a spreadsheet filter reads the same word.
        disputed="true" if event.disputed else "false",
        incident_id=event.incident_id,
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
    row.update(
        deaths_a=event.deaths_a,
        deaths_b=event.deaths_b,
        deaths_civilians=event.deaths_civilians,
        deaths_unknown=event.deaths_unknown,
        interaction=event.interaction,
    )
    codes: dict[str, list[str]] = {}
    for scheme, code, label in event.dimensions:
        codes.setdefault(scheme, []).append(code)
        if scheme in LABELLED_SCHEMES:
            row[f"{scheme}_label"] = label
    for scheme, values in codes.items():
        if scheme in row:
            row[scheme] = "; ".join(values)
    if event.provenance is not None:
        row["dataset"] = event.provenance["dataset"]
        row["dataset_version"] = event.provenance["version"]
        row["dataset_event_id"] = event.provenance["external_id"]
    return row


def _source_label(source: dict[str, Any]) -> str:
    if source["outlet"] == UNATTRIBUTED_OUTLET:
        return str(source["title"] or UNATTRIBUTED_OUTLET)
    return str(source["outlet"])


def iter_csv(events: Iterable[ExportEvent]) -> Iterator[str]:
    def rows() -> Iterator[list[Any]]:
        yield list(FLAT_COLUMNS)
        for event in events:
            row = flat_row(event)
            yield ["" if row[c] is None else row[c] for c in FLAT_COLUMNS]

    return write_rows(rows())
