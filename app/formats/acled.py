"""ACLED export rows -> EventRecords, and EventRecords -> ACLED's column layout (round trip).

The layout is ACLED's codebook export (``ACLED_COLUMNS``). The mapping:

- ``event_id_cnty`` -> ``external_id``; ``event_date`` (ISO, or "15 January 2020" as older
  exports write it) -> ``date_start`` = ``date_end``: ACLED gives one date and says how far to
  trust it, so no range is invented. ``time_precision`` 1 / 2 / 3 -> day / week / month.
- ``event_type`` / ``sub_event_type``: ACLED's taxonomy is ours (``EVENT_TYPES``, the seeded
  vocabulary); an unknown type, or a sub-type of another type, rejects the row.
- ``actor1`` / ``actor2`` -> the primary actors of sides 'a' / 'b'; ``assoc_actor_1`` /
  ``assoc_actor_2`` (``;``-joined) -> 'associated' actors of the same sides. ``inter1`` /
  ``inter2`` (ACLED's codes 1-8, or the labels newer exports write) -> actor kinds
  (``INTER_KINDS``); associated actors have no code of their own and take their side's kind.
  ACLED has no actor ids and no actor countries: its names ("Civilians (Sudan)") are the
  identities, so ``external_id`` and ``country`` stay None.
- ``iso`` (ISO numeric, used first) and ``country`` -> the country code; places: country >
  ``admin1`` > ``admin2`` > ``admin3`` > ``location`` (a populated_place), latitude/longitude
  on the most precise. ACLED's ``geo_precision`` is our scale (1-3), taken as is.
- ``source`` (``;``-joined) -> one SourceSpec per outlet. ``notes`` -> ``summary``;
  ``fatalities`` -> ``fatalities_best`` (ACLED gives no low/high).
- Kept in ``original``: ``year``, ``disorder_type``, ``inter1``/``inter2``, ``interaction``,
  ``civilian_targeting``, ``iso``, ``region``, ``country``, ``source_scale``, ``tags``,
  ``timestamp``, and any other column the file has.

``write_acled_csv`` writes records back in this layout; parsing its output gives the same
records (bar line numbers). Records from other datasets can be written too, with what ACLED's
layout cannot hold left out (see ``acled_row``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache, partial
from typing import IO, Final

from app.formats import countries
from app.formats.csvfile import (
    Reject,
    RowSource,
    parse_coordinates,
    parse_count,
    parse_date,
    restore,
    write_rows,
)
from app.formats.records import (
    ACLED,
    UNATTRIBUTED_OUTLET,
    ActorSpec,
    EventRecord,
    ExportEvent,
    PlaceSpec,
    RowError,
    SourceSpec,
    make_record,
)
from app.formats.rowstream import RowMapper, RowStream

DATASET: Final = ACLED.name

# ACLED's export layout, in its order (codebook 2023).
ACLED_COLUMNS: Final = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)

REQUIRED_COLUMNS: Final = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
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
)

# ACLED's event types and their sub-types: the vocabulary the initial migration seeds.
EVENT_TYPES: Final[dict[str, frozenset[str]]] = {
    "Battles": frozenset(
        {"Armed clash", "Government regains territory", "Non-state actor overtakes territory"}
    ),
    "Explosions/Remote violence": frozenset(
        {
            "Chemical weapon",
            "Air/drone strike",
            "Suicide bomb",
            "Shelling/artillery/missile attack",
            "Remote explosive/landmine/IED",
            "Grenade",
        }
    ),
    "Violence against civilians": frozenset(
        {"Sexual violence", "Attack", "Abduction/forced disappearance"}
    ),
    "Protests": frozenset(
        {"Peaceful protest", "Protest with intervention", "Excessive force against protesters"}
    ),
    "Riots": frozenset({"Violent demonstration", "Mob violence"}),
    "Strategic developments": frozenset(
        {
            "Agreement",
            "Arrests",
            "Change to group/activity",
            "Disrupted weapons use",
            "Headquarters or base established",
            "Looting/property destruction",
            "Non-violent transfer of territory",
            "Other",
        }
    ),
}

# ACLED inter code -> actor kind (actor_kind.acled_inter in the seeded vocabulary).
INTER_KINDS: Final = {
    "1": "state_forces",
    "2": "rebel_group",
    "3": "political_militia",
    "4": "identity_militia",
    "5": "rioters",
    "6": "protesters",
    "7": "civilians",
    "8": "external_forces",
}
# Newer exports write the category's name instead of its number.
_INTER_LABELS: Final = {
    "state forces": "1",
    "rebel group": "2",
    "rebel groups": "2",
    "political militia": "3",
    "political militias": "3",
    "identity militia": "4",
    "identity militias": "4",
    "rioters": "5",
    "protesters": "6",
    "civilians": "7",
    "external/other forces": "8",
}
# For writing: our kinds ACLED has no code for take the nearest category. UCDP's joint sides
# fight as one armed opposition (2); a person fits none, and 8 is ACLED's "other".
KIND_INTER: Final = {
    **{kind: code for code, kind in INTER_KINDS.items()},
    "coalition": "2",
    "person": "8",
}

TIME_PRECISIONS: Final = {"1": "day", "2": "week", "3": "month"}
# A year-precise date (from GED) is written as ACLED's coarsest precision, the month.
PRECISION_CODES: Final = {"day": "1", "week": "2", "month": "3", "year": "3"}
GEO_PRECISIONS: Final = {"1": 1, "2": 2, "3": 3}

# Mapped to fields of their own; every other column is kept in `original`.
_MAPPED_COLUMNS: Final = frozenset(
    {
        "event_id_cnty",
        "event_date",
        "time_precision",
        "event_type",
        "sub_event_type",
        "actor1",
        "assoc_actor_1",
        "actor2",
        "assoc_actor_2",
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
    }
)


def parse_rows(source: RowSource, version: str | None = None) -> RowStream:
    """Map each ACLED row to an EventRecord, or a RowError saying why it cannot be imported.

    ``source`` is a text file object (opened with ``newline=""``, streamed) or an iterable of
    row dicts. ACLED files carry no version: pass the download date if it matters. Raises
    LayoutError on the first ``next()`` if the header is not ACLED's. The loader may move the
    parsing of the rest of a file to a second process (``RowStream.offload``).
    """
    return RowStream(source, REQUIRED_COLUMNS, "ACLED", partial(_row_mapper, version))


def _row_mapper(version: str | None) -> RowMapper:
    def map_row(line: int, row: Mapping[str, str]) -> EventRecord | RowError:
        try:
            return _map(row, line, version)
        except Reject as exc:
            return RowError(line, str(exc), row.get("event_id_cnty", "").strip() or None)

    return map_row


def _event_date(value: str) -> date:
    text = value.strip()
    if text[:1].isdigit() and " " in text:
        try:
            return datetime.strptime(text, "%d %B %Y").date()  # older exports: "15 January 2020"
        except ValueError:
            pass
    return parse_date(text, "event_date")


def _split(value: str) -> list[str]:
    """``;``-joined names, each once, in order."""
    return list(dict.fromkeys(part.strip() for part in value.split(";") if part.strip()))


_NAMED_COUNTRY = (
    # "Civilians (Sudan)", "Protesters (Syria)": a country in the closing parentheses.
    re.compile(r"\(([^()]+)\)\s*$"),
    # "Military Forces of Russia (2000-)", "Police Forces of Sudan (2019-) Prison Guards".
    re.compile(r"\bof (?:the )?([A-Z][^()]*?)\s*(?:\(|$)"),
)


@lru_cache(maxsize=1 << 14)
def named_country(name: str) -> str | None:
    """The country an ACLED actor's name gives ("Civilians (Sudan)", "Military Forces of
    Russia (2000-)"), if any."""
    for pattern in _NAMED_COUNTRY:
        match = pattern.search(name)
        if match:
            code = countries.alpha2_from_name(match[1].strip())
            if code is not None:
                return code
    return None


def _actor(name: str, kind: str, side: str, event_country: str, role: str = "primary") -> ActorSpec:
    """An ACLED actor: its country stated by its name, or else implied by the event's."""
    stated = named_country(name)
    return ActorSpec(
        name=name,
        kind=kind,
        side=side,
        role=role,
        country=stated,
        implied_country=None if stated else event_country,
    )


def inter_code(value: str) -> str | None:
    """ACLED's actor category as its code ("2"), from the code or the label newer exports
    write ("Rebel group"); None when it is neither."""
    text = value.strip()
    code = _INTER_LABELS.get(text.casefold(), text)
    return code if code in INTER_KINDS or code == "0" else None


def interaction_code(value: str) -> str | None:
    """ACLED's interaction as its two-digit code, from the code or the "State forces-Rebel
    group" labels newer exports write; None when it is neither."""
    text = value.strip()
    if text.isdigit():
        return text
    text = re.sub(r"\s+only$", "", text, flags=re.IGNORECASE)  # "Protesters only"
    parts = [inter_code(part) for part in re.split(r"\s*[-–]\s*(?=[A-Z])", text)]
    if not parts or len(parts) > 2 or any(p is None for p in parts):
        return None
    codes = sorted(int(p) for p in parts if p is not None)
    return f"{codes[0]}0" if len(codes) == 1 else f"{codes[0]}{codes[1]}"


def _side(row: Mapping[str, str], n: str, side: str, country: str) -> list[ActorSpec]:
    name = row[f"actor{n}"].strip()
    associated = _split(row[f"assoc_actor_{n}"])
    if not name:
        if associated:
            raise Reject(f"assoc_actor_{n} is given without actor{n}")
        return []
    inter = row[f"inter{n}"].strip()
    code = _INTER_LABELS.get(inter.casefold(), inter)
    kind = INTER_KINDS.get(code)
    if kind is None:
        raise Reject(f"inter{n} {inter!r} is not an ACLED actor category (1-8) for {name!r}")
    actors = [_actor(name, kind, side, country)]
    actors += [
        _actor(other, kind, side, country, "associated") for other in associated if other != name
    ]
    return actors


# The columns kept as dimension codes (app.formats.dimensions), by scheme.
_DIMENSION_COLUMNS: Final = {
    "acled.disorder_type": "disorder_type",
    "acled.civilian_targeting": "civilian_targeting",
    "acled.admin1": "admin1",
    "acled.admin2": "admin2",
    "acled.admin3": "admin3",
    "acled.iso": "iso",
    "acled.region": "region",
    "acled.source_scale": "source_scale",
}


def _dimensions(row: Mapping[str, str]) -> tuple[tuple[str, str, str | None], ...]:
    """The row's codes of the ACLED schemes. Inter codes and the interaction as numbers
    (newer exports' labels read as theirs); tags split on ``;``. A value a closed scheme
    does not have is refused by the loader, against the vocabulary."""
    out: list[tuple[str, str, str | None]] = []
    for n in ("1", "2"):
        given = row.get(f"inter{n}", "").strip()
        if given:
            out.append((f"acled.inter{n}", inter_code(given) or given, None))
    given = row.get("interaction", "").strip()
    if given:
        out.append(("acled.interaction", interaction_code(given) or given, None))
    for scheme, column in _DIMENSION_COLUMNS.items():
        value = row.get(column, "").strip()
        if value:
            out.append((scheme, value, None))
    for tag in _split(row.get("tags", "")):
        out.append(("acled.tags", tag, None))
    return tuple(out)


def _places(
    row: Mapping[str, str], country: str, latitude: float | None, longitude: float | None
) -> tuple[PlaceSpec, ...]:
    given = row["country"].strip()
    display = countries.display_name(country)
    levels: list[tuple[str, str]] = [
        (row[column].strip(), kind)
        for column, kind in (
            ("admin1", "admin1"),
            ("admin2", "admin2"),
            ("admin3", "admin3"),
            ("location", "populated_place"),
        )
    ]
    places = [
        PlaceSpec(
            name=display,
            kind="country",
            country=country,
            aliases=(given,) if given and given != display else (),
        )
    ]
    places += [PlaceSpec(name=name, kind=kind, country=country) for name, kind in levels if name]
    if latitude is not None:
        last = places[-1]
        places[-1] = PlaceSpec(
            name=last.name,
            kind=last.kind,
            country=country,
            latitude=latitude,
            longitude=longitude,
            aliases=last.aliases,
        )
    return tuple(places)


def _map(row: Mapping[str, str], line: int, version: str | None) -> EventRecord:
    # Cells our exports neutralised against spreadsheet formulas come back as they were.
    row = {column: restore(value) for column, value in row.items()}
    external_id = row["event_id_cnty"].strip()
    if not external_id:
        raise Reject("event_id_cnty is empty")
    event_date = _event_date(row["event_date"])
    precision = row["time_precision"].strip()
    if precision not in TIME_PRECISIONS:
        raise Reject(f"time_precision {precision!r} is not 1, 2 or 3")
    event_type = row["event_type"].strip()
    sub_event_type = row["sub_event_type"].strip() or None
    if event_type not in EVENT_TYPES:
        raise Reject(f"unknown event_type {event_type!r}")
    if sub_event_type is not None and sub_event_type not in EVENT_TYPES[event_type]:
        raise Reject(f"sub_event_type {sub_event_type!r} is not a kind of {event_type!r}")
    geo = row["geo_precision"].strip()
    if geo and geo not in GEO_PRECISIONS:
        raise Reject(f"geo_precision {geo!r} is not 1, 2 or 3")

    country = countries.alpha2_from_numeric(row.get("iso", "")) or countries.alpha2_from_name(
        row["country"]
    )
    if country is None:
        raise Reject(f"unknown country {row['country'].strip()!r} (iso {row.get('iso', '')!r})")
    latitude, longitude = parse_coordinates(row["latitude"], row["longitude"])

    actors = _side(row, "1", "a", country) + _side(row, "2", "b", country)
    if not actors:
        raise Reject("actor1 is empty")
    flags = []
    names_a = {a.name for a in actors if a.side == "a"}
    if any(a.side == "b" and a.name in names_a for a in actors):
        flags.append("same_actor_both_sides")

    return make_record(
        dataset=DATASET,
        dataset_version=version,
        external_id=external_id,
        line=line,
        event_type=event_type,
        sub_event_type=sub_event_type,
        date_start=event_date,
        date_end=event_date,
        date_precision=TIME_PRECISIONS[precision],
        geo_precision=GEO_PRECISIONS[geo] if geo else None,
        summary=row["notes"].strip() or None,
        fatalities_low=None,
        fatalities_best=parse_count(row["fatalities"], "fatalities"),
        fatalities_high=None,
        places=_places(row, country, latitude, longitude),
        actors=tuple(actors),
        sources=tuple(SourceSpec(outlet=name) for name in _split(row["source"])),
        original={k: v for k, v in row.items() if v and k not in _MAPPED_COLUMNS},
        flags=tuple(flags),
        dimensions=_dimensions(row),
    )


# -- writing ---------------------------------------------------------------------------------


def _coordinate(value: float | None) -> str:
    return "" if value is None else repr(value)


def acled_row(record: EventRecord) -> dict[str, str]:
    """One record as an ACLED row (``ACLED_COLUMNS`` -> text).

    Values kept in ``original`` (inter codes, interaction, iso, region, tags, timestamp ...) are
    written back as they came; what a record from another dataset lacks is derived (inter codes
    from actor kinds, iso from the country) or left empty. What the layout cannot hold is left
    out: a date range (ACLED has one date: the start is written), low/high fatalities, sources'
    dates and headlines (only outlets, or the raw text of unattributed ones).
    """
    original = record.original
    columns = dict.fromkeys(ACLED_COLUMNS, "")
    for column in ACLED_COLUMNS:
        if column in original:
            columns[column] = original[column]

    sides: dict[str, list[ActorSpec]] = {"a": [], "b": []}
    for actor in record.actors:
        # Primary actors first, so the first of each side is its actorN.
        sides["b" if actor.side == "b" else "a"].append(actor)
    for n, side in (("1", "a"), ("2", "b")):
        actors = sorted(sides[side], key=lambda a: a.role == "associated")
        if actors:
            columns[f"actor{n}"] = actors[0].name
            columns[f"assoc_actor_{n}"] = "; ".join(a.name for a in actors[1:])
            if f"inter{n}" not in original:
                columns[f"inter{n}"] = KIND_INTER.get(actors[0].kind, "")
    if "interaction" not in original and columns["inter1"].isdigit():
        # ACLED's interaction: both codes, lower first; a lone actor's code then 0 ("10").
        first, second = int(columns["inter1"]), int(columns["inter2"] or 0)
        low, high = (first, second) if second == 0 else sorted((first, second))
        columns["interaction"] = f"{low}{high}"

    columns["event_id_cnty"] = record.external_id
    columns["event_date"] = record.date_start.isoformat()
    columns["year"] = original.get("year") or str(record.date_start.year)
    columns["time_precision"] = PRECISION_CODES[record.date_precision]
    columns["event_type"] = record.event_type
    columns["sub_event_type"] = record.sub_event_type or ""

    for place in record.places:
        if place.kind == "country":
            columns["country"] = original.get("country") or place.name
            if "iso" not in original and place.country:
                columns["iso"] = countries.numeric_from_alpha2(place.country) or ""
        elif place.kind in ("admin1", "admin2", "admin3"):
            columns[place.kind] = place.name
        else:
            columns["location"] = place.name
    located = next((p for p in reversed(record.places) if p.latitude is not None), None)
    if located is not None:
        columns["latitude"] = _coordinate(located.latitude)
        columns["longitude"] = _coordinate(located.longitude)
    columns["geo_precision"] = "" if record.geo_precision is None else str(record.geo_precision)

    columns["source"] = "; ".join(
        s.outlet or s.raw or "" for s in record.sources if s.outlet or s.raw
    )
    columns["notes"] = record.summary or ""
    columns["fatalities"] = "" if record.fatalities_best is None else str(record.fatalities_best)
    return columns


def write_acled_csv(records: Iterable[EventRecord], file: IO[str]) -> int:
    """Write records as an ACLED CSV (header first) to a text file opened with ``newline=""``.

    Streams: one row is built and written at a time. Returns the number of rows written.
    """
    count = 0

    def rows() -> Iterator[list[str]]:
        nonlocal count
        yield list(ACLED_COLUMNS)
        for record in records:
            row = acled_row(record)
            count += 1
            yield [row[c] for c in ACLED_COLUMNS]

    for chunk in write_rows(rows()):
        file.write(chunk)
    return count


def to_record(event: ExportEvent) -> EventRecord:
    """The event as a dataset record, for ACLED's layout.

    An event imported from ACLED keeps its ACLED id and the values ACLED gave that have no
    column here (inter codes, iso, tags, timestamp ...), so the row comes back as it was
    read. Other events take their own external id (or ``conflictdb:<id>``) as ACLED's id.
    """
    provenance = event.provenance or {}
    if provenance.get("dataset") == DATASET:
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
        yield list(ACLED_COLUMNS)
        for event in events:
            row = acled_row(to_record(event))
            yield [row[c] for c in ACLED_COLUMNS]

    return write_rows(rows())
