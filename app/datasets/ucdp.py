"""UCDP GED rows (the 49-column CSV download) -> EventRecords, streamed, without a database.

The mapping, column by column (every value not mapped to a field is kept in ``original``):

- ``id`` -> ``external_id`` (UCDP's stable event id); ``relid`` kept in ``original``.
- ``type_of_violence`` -> event type / sub-type. GED codes who fought, not how, and ACLED's
  taxonomy has no "state-based" type, so the nearest ACLED class stands in:

  ====  ===========  ==============================================
  code  UCDP         event_type / sub_event_type
  ====  ===========  ==============================================
  1     state-based  Battles / Armed clash
  2     non-state    Battles / Armed clash
  3     one-sided    Violence against civilians / Attack
  ====  ===========  ==============================================

- ``side_a`` / ``side_b`` -> two actors, sides 'a' and 'b', with ``side_*_new_id`` (else the
  dset id) as external id. Kinds: "Government of X" -> state_forces (country X); GED's
  "Civilians" -> civilians, named "Civilians (<country>)" as ACLED names them, one actor per
  country (UCDP's placeholder id 1 is the same for all civilians everywhere, so it is not
  used as an id), role 'target' in one-sided violence; a joint side ("Ahrar al-Sham, Jabhat
  Fateh al-Sham", or "Government of X, Government of Y") -> coalition, named as the row
  names it, its groups in ``members``, and each group also an actor of its own on that side
  (``EventRecord.member_actors``, kind as if it were a side alone), with its own UCDP id
  when the side's id is a list of one id per group ("123, 456"), else found by name;
  "Supporters of X"
  (UCDP's name for informal groups around a party) -> political_militia; clan and subclan
  names and UCDP's religious communities ("Christians (Nigeria)") -> identity_militia;
  every other armed group -> rebel_group. GED does not say more (UCDP's organisation level is
  not in GED), so cartels and ethnic groups named only by their ethnonym are rebel_group
  until someone edits them.
- ``date_start`` / ``date_end`` as given; ``date_prec`` -> ``date_precision``:
  1 -> day, 2 (within 2-6 days) -> week, 3 (the week) -> week, 4 -> month, 5 -> year.
- ``where_prec`` -> ``geo_precision`` (ACLED's 1-3 scale): 1 (exact place) -> 1;
  2 (within ~25 km) and 3 (second-order unit) -> 2; 4 (first-order unit), 5 (a linear or
  ill-defined area), 6 (the country) and 7 (waters or airspace) -> 3.
- Places: country > ``adm_1`` > ``adm_2`` > ``where_coordinates``, latitude/longitude on the
  most precise. ``where_coordinates`` adds no place when it names the deepest level already
  there (an adm_1 centroid, the country). GED appends the unit type to names ("Idlib
  governorate", "Ariha district", "Rami village"); that word is dropped from the name and the
  spelling as given kept as an alias, so a GED place and the same place from ACLED or a report
  ("Idlib") are one place. Only for admin levels and for locations at where_prec 1-3; the
  ill-defined areas of where_prec 5 ("DPR controlled territory") keep their names. The named
  location's kind: site or natural_feature by its last word (airport, camp / island, valley),
  else populated_place at where_prec 1-2 (a known point) and region beyond (an area).
- ``country`` -> ISO alpha-2 via ``countries`` (historical names included); name kept.
- ``low`` / ``best`` / ``high`` as given. GED has rows with low above best (and high below
  best): kept, and flagged ``low_above_best`` / ``high_below_best``. ``deaths_*`` kept in
  ``original``; a best that is not their sum is flagged ``deaths_sum_differs``.
- Sources: ``source_article`` lists ``"Office,YYYY-MM-DD,Headline"`` entries joined by ``;``,
  and ``source_office`` / ``source_date`` / ``source_headline`` the same parts joined by ``;``.
  Headlines contain ``;``, ``,`` and unescaped quotes, so the article entries are split on the
  ``";"`` between them (csv-style doubled quotes are tried as well), each is split at its
  first ``,YYYY-MM-DD,``, and the pairing is accepted only if re-joining the parts reproduces
  all three other fields exactly. Otherwise the row keeps one source with the raw article
  text, the other three fields go to ``original``, and the row is flagged
  ``sources_unpaired``: better unpaired than paired wrongly. A row with no office (older GED
  rows, ``number_of_sources`` -1) keeps its source text as one unattributed source. Exact
  duplicate entries are kept once (flag ``duplicate_sources``).
- ``summary``: GED has no notes, so it is made from ``dyad_name``, the violence type and
  ``where_description``.

Rows that cannot be imported (no id, a date that is not a date, end before start, an unknown
country or code, negative deaths, coordinates out of range) become RowErrors with the line
and the reason; they never stop the stream.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from datetime import date
from functools import partial
from typing import Final

from app.formats import countries
from app.formats.csvfile import (
    Reject,
    RowSource,
    parse_coordinates,
    parse_count,
    parse_date,
)
from app.formats.records import (
    UCDP_GED,
    ActorSpec,
    EventRecord,
    PlaceSpec,
    RowError,
    SourceSpec,
    make_record,
)
from app.formats.rowstream import RowMapper, RowStream

DATASET: Final = UCDP_GED.name

REQUIRED_COLUMNS: Final = (
    "id",
    "type_of_violence",
    "side_a",
    "side_b",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "where_prec",
    "where_coordinates",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "country",
    "date_prec",
    "date_start",
    "date_end",
    "best",
    "high",
    "low",
)

# type_of_violence -> (event_type, sub_event_type, UCDP's name for it)
VIOLENCE_TYPES: Final = {
    "1": ("Battles", "Armed clash", "state-based violence"),
    "2": ("Battles", "Armed clash", "non-state violence"),
    "3": ("Violence against civilians", "Attack", "one-sided violence"),
}
DATE_PRECISIONS: Final = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}
GEO_PRECISIONS: Final = {"1": 1, "2": 2, "3": 2, "4": 3, "5": 3, "6": 3, "7": 3}

# Mapped to fields of their own (or, for the sources, to SourceSpecs); everything else is
# kept in `original`. geom_wkt only repeats latitude/longitude.
_MAPPED_COLUMNS: Final = frozenset(
    {
        "id",
        "date_start",
        "date_end",
        "low",
        "best",
        "high",
        "latitude",
        "longitude",
        "geom_wkt",
        "source_article",
        "source_office",
        "source_date",
        "source_headline",
    }
)
_DEATHS_COLUMNS: Final = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown")


def _words(text: str) -> list[str]:
    return text.split()


# The type word GED appends to administrative units and settlements; dropped from the name
# (the given spelling stays as an alias). Lower-case only: "Gaza Strip", "Mexico City" and
# "Self-Administered Zone" are names, not type words.
_TYPE_WORDS: Final = frozenset(
    _words(
        """agency area canton cercle chiefdom city commune constituency council county department
    département district division governorate hamlet krai lga locality location municipality
    neighbourhood neighborhood oblast parish prefecture province quarter raion rayon regency
    region republic sector settlement state sub-district sub-division suburb tehsil territory
    town township upazila village woreda zone"""
    )
)
_SITE_WORDS: Final = frozenset(
    _words(
        """airbase airfield airport barracks base bridge camp checkpoint crossing dam factory
    highway hospital junction market mine mosque plant port prison road school station"""
    )
)
_NATURAL_WORDS: Final = frozenset(
    _words(
        """bay coast desert forest gulf hill hills island islands lake mountain mountains pass
    peninsula plain plains range ridge river sea valley"""
    )
)
_NATURAL_PREFIXES: Final = frozenset({"lake", "mount", "river"})

_IDENTITY_NAME = re.compile(
    r"\b(?:sub)?clan\b|^(?:Christians|Muslims|Hindus|Buddhists|Sunnis|Shias|Shiites) \("
)
_SOURCE_ENTRY = re.compile(r"(.*?),(\d{4}-\d{2}-\d{2}),(.*)", re.DOTALL)


def parse_rows(source: RowSource, version: str | None) -> RowStream:
    """Map each GED row to an EventRecord, or a RowError saying why it cannot be imported.

    ``source`` is a text file object (opened with ``newline=""``, streamed) or an iterable of
    row dicts; ``version`` is the GED release ("23.1"). Raises LayoutError on the first
    ``next()`` if the header is not GED's. The loader may move the parsing of the rest of a
    file to a second process (``RowStream.offload``).
    """
    return RowStream(source, REQUIRED_COLUMNS, "UCDP GED", partial(_row_mapper, version))


def _row_mapper(version: str | None) -> RowMapper:
    mapper = _Mapper(version)

    def map_row(line: int, row: Mapping[str, str]) -> EventRecord | RowError:
        try:
            return mapper.map(row, line)
        except Reject as exc:
            return RowError(line, str(exc), row.get("id", "").strip() or None)

    return map_row


# UCDP's names: "GEDEvent_v23_1.csv", "ged231-csv.zip" / "ged231.csv", candidate releases
# "GEDEvent_v24_0_3.csv". A release is two digits, a one-digit minor and perhaps a candidate
# number, and nothing alphanumeric follows: "ged100k.csv" or "ged2020.csv" name no release.
_FILE_VERSION = re.compile(
    r"(?<![a-z])ged(?:event)?_?v?(\d{2})[._]?(\d)(?:[._](\d{1,2}))?(?![0-9a-z])", re.IGNORECASE
)


def version_from_filename(path: str) -> str | None:
    """The GED release a download's file name carries ("GEDEvent_v23_1.csv" -> "23.1")."""
    match = _FILE_VERSION.search(path.replace("\\", "/").rsplit("/", 1)[-1])
    if match is None:
        return None
    return ".".join(part for part in match.groups() if part is not None)


def _strip_type_word(name: str) -> tuple[str, tuple[str, ...]]:
    """("Idlib", ("Idlib governorate",)) for "Idlib governorate"; names without one unchanged."""
    head, _, last = name.rpartition(" ")
    head = head.strip()
    # "Kosmi village, Dhanora sub-district" describes two places: no single type word to drop.
    if head and last in _TYPE_WORDS and "," not in name:
        return head, (name,)
    return name, ()


def _location_kind(name: str, where_prec: str) -> str:
    words = name.casefold().split()
    last = words[-1].strip("()")
    if last in _SITE_WORDS:
        return "site"
    if last in _NATURAL_WORDS or words[0] in _NATURAL_PREFIXES:
        return "natural_feature"
    # where_prec 1-2: a known point, so a settlement (a South African "township" too);
    # beyond that the coordinates are an area's centroid.
    return "populated_place" if where_prec in ("1", "2") else "region"


def _split_source_entries(article: str) -> list[list[str]]:
    """Candidate splits of ``source_article`` into entries, most likely first.

    UCDP writes inner quotes unescaped, so entries are split on the ``";"`` between them; a
    file that escapes them csv-style (doubled quotes) is read with the csv module instead.
    """
    text = article.strip()
    candidates: list[list[str]] = []
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        candidates.append(text[1:-1].split('";"'))
        if '""' in text:
            candidates.append(next(csv.reader([text], delimiter=";")))
    return candidates


def _pair_sources(row: Mapping[str, str]) -> tuple[SourceSpec, ...] | None:
    """The sources, one per entry, if the four source fields line up exactly; else None."""
    office, dates, headlines = (
        row["source_office"].strip(),
        row["source_date"].strip(),
        row["source_headline"].strip(),
    )
    for entries in _split_source_entries(row["source_article"]):
        matches = [_SOURCE_ENTRY.fullmatch(entry) for entry in entries]
        if not all(matches):
            continue
        parts = [(m[1], m[2], m[3]) for m in matches if m is not None]
        if (
            ";".join(p[0] for p in parts).strip() != office
            or ";".join(p[1] for p in parts).strip() != dates
            or ";".join(p[2] for p in parts).strip() != headlines
        ):
            continue
        sources = []
        for outlet, day, headline in parts:
            try:
                published = date.fromisoformat(day)
            except ValueError:
                return None
            if not outlet.strip():
                return None
            sources.append(
                SourceSpec(
                    outlet=outlet.strip(),
                    published_date=published,
                    headline=headline.strip() or None,
                )
            )
        return tuple(sources)
    return None


class _Mapper:
    """Maps rows; caches the specs that repeat across rows (admin chains, actors)."""

    def __init__(self, version: str | None) -> None:
        self.version = version
        self._chains: dict[tuple[str, str, str, str], tuple[PlaceSpec, ...]] = {}
        self._actors: dict[
            tuple[str, str, str, str, str | None], tuple[ActorSpec, tuple[ActorSpec, ...]]
        ] = {}

    def map(self, row: Mapping[str, str], line: int) -> EventRecord:
        external_id = row["id"].strip()
        if not external_id:
            raise Reject("id is empty")
        violence = row["type_of_violence"].strip()
        if violence not in VIOLENCE_TYPES:
            raise Reject(f"type_of_violence {violence!r} is not 1, 2 or 3")
        event_type, sub_event_type, violence_label = VIOLENCE_TYPES[violence]
        date_prec = row["date_prec"].strip()
        if date_prec not in DATE_PRECISIONS:
            raise Reject(f"date_prec {date_prec!r} is not 1-5")
        where_prec = row["where_prec"].strip()
        if where_prec not in GEO_PRECISIONS:
            raise Reject(f"where_prec {where_prec!r} is not 1-7")
        date_start = parse_date(row["date_start"], "date_start")
        date_end = parse_date(row["date_end"], "date_end")
        if date_end < date_start:
            raise Reject(f"date_end {date_end} is before date_start {date_start}")
        country_name = row["country"].strip()
        country = countries.alpha2_from_name(country_name)
        if country is None:
            raise Reject(f"unknown country {country_name!r}")

        low = parse_count(row["low"], "low")
        best = parse_count(row["best"], "best", required=True)
        high = parse_count(row["high"], "high")
        deaths = [parse_count(row.get(c, ""), c) for c in _DEATHS_COLUMNS]
        dimensions = _dimensions(row, violence, where_prec, date_prec)
        flags: list[str] = []
        if low is not None and best is not None and low > best:
            flags.append("low_above_best")
        if high is not None and best is not None and high < best:
            flags.append("high_below_best")
        if all(d is not None for d in deaths) and sum(d or 0 for d in deaths) != best:
            flags.append("deaths_sum_differs")

        latitude, longitude = parse_coordinates(row["latitude"], row["longitude"])
        places = self._places(row, country, country_name, where_prec, latitude, longitude)
        side_a, members_a = self._actor(row, "a", violence, country)
        side_b, members_b = self._actor(row, "b", violence, country)

        original = {k: v for k, v in row.items() if v and k not in _MAPPED_COLUMNS}
        sources = self._sources(row, original, flags)

        dyad = row.get("dyad_name", "").strip()
        summary = f"{dyad} ({violence_label})" if dyad else violence_label.capitalize()
        where_description = row.get("where_description", "").strip()
        if where_description:
            summary = f"{summary}, {where_description}"

        return make_record(
            dataset=DATASET,
            dataset_version=self.version,
            external_id=external_id,
            line=line,
            event_type=event_type,
            sub_event_type=sub_event_type,
            date_start=date_start,
            date_end=date_end,
            date_precision=DATE_PRECISIONS[date_prec],
            geo_precision=GEO_PRECISIONS[where_prec],
            summary=summary,
            fatalities_low=low,
            fatalities_best=best,
            fatalities_high=high,
            places=places,
            actors=(side_a, side_b),
            sources=sources,
            original=original,
            flags=tuple(flags),
            member_actors=members_a + members_b,
            deaths_a=deaths[0],
            deaths_b=deaths[1],
            deaths_civilians=deaths[2],
            deaths_unknown=deaths[3],
            dimensions=dimensions,
        )

    def _chain(
        self, country: str, country_name: str, adm1: str, adm2: str
    ) -> tuple[PlaceSpec, ...]:
        key = (country, country_name, adm1, adm2)
        chain = self._chains.get(key)
        if chain is None:
            display = countries.display_name(country)
            levels = [
                PlaceSpec(
                    name=display,
                    kind="country",
                    country=country,
                    aliases=(country_name,) if country_name != display else (),
                )
            ]
            for name, kind in ((adm1, "admin1"), (adm2, "admin2")):
                if name:
                    clean, aliases = _strip_type_word(name)
                    levels.append(
                        PlaceSpec(name=clean, kind=kind, country=country, aliases=aliases)
                    )
            chain = self._chains[key] = tuple(levels)
        return chain

    def _places(
        self,
        row: Mapping[str, str],
        country: str,
        country_name: str,
        where_prec: str,
        latitude: float | None,
        longitude: float | None,
    ) -> tuple[PlaceSpec, ...]:
        adm1, adm2 = row["adm_1"].strip(), row["adm_2"].strip()
        chain = self._chain(country, country_name, adm1, adm2)
        deepest = chain[-1]
        where = row["where_coordinates"].strip()
        deepest_given = adm2 or adm1 or country_name
        same_as_deepest = not where or where.casefold() in {
            deepest_given.casefold(),
            deepest.name.casefold(),
        }
        if same_as_deepest:
            located = PlaceSpec(
                name=deepest.name,
                kind=deepest.kind,
                country=country,
                latitude=latitude,
                longitude=longitude,
                aliases=deepest.aliases,
            )
            return (*chain[:-1], located)
        if where_prec in ("1", "2", "3"):
            name, aliases = _strip_type_word(where)
        else:
            name, aliases = where, ()
        located = PlaceSpec(
            name=name,
            kind=_location_kind(where, where_prec),
            country=country,
            latitude=latitude,
            longitude=longitude,
            aliases=aliases,
        )
        return (*chain, located)

    def _actor(
        self, row: Mapping[str, str], side: str, violence: str, country: str
    ) -> tuple[ActorSpec, tuple[ActorSpec, ...]]:
        """The side's actor, and for a joint side (a coalition) each of its groups."""
        name = row[f"side_{side}"].strip()
        if not name:
            raise Reject(f"side_{side} is empty")
        external_id = (
            row.get(f"side_{side}_new_id", "").strip()
            or row.get(f"side_{side}_dset_id", "").strip()
        )
        key = (side, name, external_id, violence, country)
        actor = self._actors.get(key)
        if actor is None:
            spec = _make_actor(name, external_id, side, violence, country)
            actor = self._actors[key] = (spec, _member_actors(spec, violence, country))
        return actor

    def _sources(
        self, row: Mapping[str, str], original: dict[str, str], flags: list[str]
    ) -> tuple[SourceSpec, ...]:
        article = row["source_article"].strip()
        paired = _pair_sources(row) if row["source_office"].strip() else None
        if paired is None:
            # Unattributed or unpaired: the article text stays whole, the rest in `original`.
            for column in ("source_office", "source_date", "source_headline"):
                if row[column].strip():
                    original[column] = row[column]
            if row["source_office"].strip():
                flags.append("sources_unpaired")
            return (SourceSpec(raw=article),) if article else ()
        unique = tuple(dict.fromkeys(paired))
        if len(unique) != len(paired):
            flags.append("duplicate_sources")
        declared = row.get("number_of_sources", "").strip()
        if declared.isdigit() and int(declared) != len(paired):
            flags.append("source_count_differs")
        return unique


def _member_actors(coalition: ActorSpec, violence: str, country: str) -> tuple[ActorSpec, ...]:
    """Each group of a joint side as an actor of its own on that side, kind as if it were a
    side alone. A side id that lists one id per group (``"123, 456"``) gives each its id;
    a single id stands for the coalition only, and its groups are found by name."""
    if not coalition.members:
        return ()
    ids: list[str] = [part.strip() for part in (coalition.external_id or "").split(",")]
    if len(ids) != len(coalition.members) or not all(ids):
        ids = [""] * len(coalition.members)
    assert coalition.side is not None
    return tuple(
        _make_actor(name, member_id, coalition.side, violence, country)
        for name, member_id in dict(zip(coalition.members, ids, strict=True)).items()
    )


def _dimensions(
    row: Mapping[str, str], violence: str, where_prec: str, date_prec: str
) -> tuple[tuple[str, str, str | None], ...]:
    """The row's codes of the UCDP schemes (app.formats.dimensions): the closed ones as
    checked above (event_clarity by the loader, against the vocabulary); conflict and dyad
    with the names the row gives them."""
    out: list[tuple[str, str, str | None]] = [
        ("ucdp.type_of_violence", violence, None),
        ("ucdp.where_prec", where_prec, None),
        ("ucdp.date_prec", date_prec, None),
    ]
    for scheme, id_column, name_column in (
        ("ucdp.conflict", "conflict_new_id", "conflict_name"),
        ("ucdp.dyad", "dyad_new_id", "dyad_name"),
    ):
        code = (
            row.get(id_column, "").strip() or row.get(id_column.replace("new", "dset"), "").strip()
        )
        if code:
            out.append((scheme, code, row.get(name_column, "").strip() or None))
    for scheme, column in (
        ("ucdp.event_clarity", "event_clarity"),
        ("ucdp.number_of_sources", "number_of_sources"),
    ):
        code = row.get(column, "").strip()
        if code:
            out.append((scheme, code, None))
    return tuple(out)


def _make_actor(name: str, external_id: str, side: str, violence: str, country: str) -> ActorSpec:
    if name == "Civilians":
        return ActorSpec(
            name=f"Civilians ({countries.display_name(country)})",
            kind="civilians",
            country=country,
            side=side,
            role="target" if violence == "3" else "primary",
        )
    members: tuple[str, ...] = ()
    # A government's country is stated; any other group's is implied by where it fights,
    # the event's country (UCDP locates non-state actors by their conflicts): a new actor
    # gets it, so a report naming the group in that country finds it (README: "How names
    # are matched").
    actor_country: str | None = None
    if "," in name:
        kind = "coalition"
        members = tuple(part.strip() for part in name.split(",") if part.strip())
    elif name.startswith("Government of "):
        kind = "state_forces"
        actor_country = countries.alpha2_from_name(name.removeprefix("Government of "))
    elif name.startswith("Supporters of "):
        kind = "political_militia"
    elif _IDENTITY_NAME.search(name):
        kind = "identity_militia"
    else:
        kind = "rebel_group"
    return ActorSpec(
        name=name,
        kind=kind,
        country=actor_country,
        implied_country=None if actor_country else country,
        external_id=external_id or None,
        side=side,
        members=members,
    )
