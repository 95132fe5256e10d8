"""The plain records the dataset parsers produce: one row of UCDP GED or ACLED in our vocabulary.

Parsing needs no database. The loader consumes these records: it resolves places, actors and
outlets by name (or external id), writes through ``app.writer`` in batches, and uses
``EventRecord.content_sha256`` to tell an unchanged row from a changed one on re-import.

Records are frozen: a parser can cache and share specs between rows, and tests compare
records whole.
Vocabulary values are the names seeded by the initial migration: place kinds, actor kinds,
event roles, date precisions, and ACLED's event types and sub-types.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import orjson

# The outlet of sources a dataset could not attribute (GED rows without source_office, and
# rows whose source fields did not line up): each such source becomes an article of this
# outlet whose title is the source text, so the text stays with the event as its evidence.
UNATTRIBUTED_OUTLET = "(unattributed)"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceSpec:
    """One level of an event's place, from the country down.

    ``country`` is the ISO 3166-1 alpha-2 code of the country the place is in (for the country
    itself too): the loader should find a country place by that code, not by its name, since
    datasets spell countries differently. ``aliases`` are other spellings the source used for
    the same place (GED's "Idlib governorate" for "Idlib"); they become place aliases, so a
    later report naming either spelling resolves to this place.
    """

    name: str
    kind: str
    country: str | None
    latitude: float | None = None
    longitude: float | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorSpec:
    """An actor as one event names it, with its side and role in that event.

    ``external_id`` is the dataset's own actor id (UCDP's side id) when it has one: the best key
    for finding the actor again, since UCDP gives two different actors the same name (two "DPR"
    sides, two "UCK"s). ACLED has no actor ids: its actor names are the identities.
    ``country`` is set only when the row says it (GED's "Government of X"; GED's civilians, who
    are the civilians of the event's country); None means unknown, not "no country".
    ``kind`` is the actor_kind the row implies. ``members`` lists the groups of a joint side that
    UCDP codes as one actor ("Ahrar al-Sham, Jabhat Fateh al-Sham"): the loader may link them
    to the coalition with 'member_of' affiliations.
    """

    name: str
    kind: str
    country: str | None = None
    external_id: str | None = None
    side: str | None = None
    role: str = "primary"
    members: tuple[str, ...] = ()
    # Where the dataset places the actor without naming its country (GED's non-state actors
    # fight in the event's country; ACLED's ``iso``): given to the actor when it is created,
    # and preferred among namesakes, but not required of them as ``country`` is (issue 12).
    implied_country: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """One source of an event: an outlet's article, or text that could not be attributed.

    A paired source has an ``outlet`` and, where the dataset gives them, a date and headline
    (the article's title; there is no body). ``raw`` holds source text that is kept verbatim
    instead: the source text of a row with no outlet (an unattributed source, ``outlet`` None),
    or the whole unsplit source text of a row whose source fields did not line up, so nothing
    was paired wrongly.
    """

    outlet: str | None = None
    published_date: date | None = None
    headline: str | None = None
    url: str | None = None
    raw: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One dataset row mapped to our event model.

    ``external_id`` is unique within ``dataset``; ``event_key`` joins the two for the event's
    external id. ``line`` is the physical line the row starts on (header = line 1), for
    messages. ``original`` keeps the row's values that have no column of their own (the
    dataset's codes before mapping, ids, names as given, counts), so nothing a user would look
    for is lost. ``flags`` name oddities kept as given (``low_above_best``).
    ``member_actors``: the groups of a coalition among ``actors`` (a joint side), each an actor
    of its own on the coalition's side; the loader links them to the event beside the
    coalition, and to the coalition as 'member_of'. ``content_sha256`` hashes everything but
    the dataset, its version and the line: equal hashes mean the row maps to the same content,
    so a re-import can skip it.
    """

    dataset: str
    dataset_version: str | None
    external_id: str
    line: int
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
    places: tuple[PlaceSpec, ...]
    actors: tuple[ActorSpec, ...]
    sources: tuple[SourceSpec, ...]
    original: dict[str, str]
    flags: tuple[str, ...] = ()
    member_actors: tuple[ActorSpec, ...] = ()
    # Issue 12: fatalities by whom (UCDP's deaths_*), and the row's codes of its dataset's
    # schemes (app.formats.dimensions): (scheme, code, label), label None when the file
    # gives none (a closed scheme's label is its vocabulary's).
    deaths_a: int | None = None
    deaths_b: int | None = None
    deaths_civilians: int | None = None
    deaths_unknown: int | None = None
    dimensions: tuple[tuple[str, str, str | None], ...] = ()
    content_sha256: str = ""

    @property
    def event_key(self) -> str:
        """A key unique across datasets (``ucdp-ged:300380``), for ``event.external_id``."""
        return f"{self.dataset}:{self.external_id}"

    @property
    def place(self) -> PlaceSpec | None:
        """The most precise place: the one the event happened at."""
        return self.places[-1] if self.places else None


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be mapped: where it is and why, in words for the person importing."""

    line: int
    reason: str
    external_id: str | None = None


# The fields that make up a record's content (all but provenance and position).
CONTENT_FIELDS: Final = (
    "external_id",
    "event_type",
    "sub_event_type",
    "date_start",
    "date_end",
    "date_precision",
    "geo_precision",
    "summary",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "places",
    "actors",
    "sources",
    "original",
    "flags",
)


_content = operator.itemgetter(*CONTENT_FIELDS)
ISSUE_12_FIELDS: Final = (
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "dimensions",
)


def content_sha256(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record's content fields.

    orjson writes the specs (dataclasses) in field order and dates as ISO strings, and sorts
    ``original``'s keys, so the hash does not depend on the file's column order.
    ``member_actors`` counts only when there are some, so the hashes of rows without a
    coalition stay what they were before it was added (a re-import finds them unchanged).
    """
    content = _content(fields)
    if fields.get("member_actors"):
        content = (*content, fields["member_actors"])
    # Issue 12's fields, when a row has any (the hashes of records without them are as
    # before; the parsers give every row some, so a re-import after 0008 updates each once).
    extra = {name: fields[name] for name in ISSUE_12_FIELDS if fields.get(name)}
    if extra:
        content = (*content, extra)
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def make_record(**fields: Any) -> EventRecord:
    """An EventRecord with its content hash filled in (the only way the parsers build one)."""
    return EventRecord(**fields, content_sha256=content_sha256(fields))


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """A source dataset's provenance, shown with every event imported from it."""

    name: str
    version: str | None
    licence: str
    citation: str
    url: str


UCDP_GED: Final = DatasetInfo(
    name="ucdp-ged",
    version=None,
    licence="CC BY 4.0",
    citation=(
        "Sundberg, Ralph, and Erik Melander, 2013, Introducing the UCDP Georeferenced Event "
        "Dataset, Journal of Peace Research 50(4)"
    ),
    url="https://ucdp.uu.se/downloads/",
)

ACLED: Final = DatasetInfo(
    name="acled",
    version=None,
    licence=(
        "ACLED Terms of Use: free for non-commercial use by registered users, with attribution; "
        "the data may not be redistributed; commercial use needs a licence from ACLED"
    ),
    citation=(
        "Raleigh, Clionadh, Andrew Linke, Håvard Hegre and Joakim Karlsen. 2010. Introducing "
        "ACLED. Journal of Peace Research 47(5)"
    ),
    url="https://acleddata.com/terms-of-use/",
)


@dataclass
class ExportEvent:
    """One stored event with what the export formats draw on (its place chain, actors, sources
    and provenance): ``app.events.streams`` reads them, the CSV layouts write them."""

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
    deaths_a: int | None
    deaths_b: int | None
    deaths_civilians: int | None
    deaths_unknown: int | None
    status: str
    retraction_reason: str | None
    interaction: str | None = None
    # (scheme, code, label) of each dataset code the event carries.
    dimensions: list[tuple[str, str, str | None]] = field(default_factory=list)
    # The event's place last, preceded by the places containing it, the country first.
    places: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    # {dataset, version, external_id, original, flags} for an imported event.
    provenance: dict[str, Any] | None = None
    # What the writer keeps from the evidence (``app.models.event.DERIVED_FIELDS``).
    evidence: str = "none"
    source_count: int = 0
    outlet_count: int = 0
    quote_count: int = 0
    first_reported_date: date | None = None
    disputed: bool = False
    incident_id: int | None = None
