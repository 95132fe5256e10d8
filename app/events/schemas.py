"""Event request, response and query models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.core.edits import Patch, absent
from app.core.fields import (
    ACTOR_KIND,
    DATE_PRECISION,
    EVENT_TYPE,
    INTERACTION,
    NOT_BLANK,
    SUB_EVENT_TYPE,
    Id,
    IsoDate,
    Pattern,
    Strict,
    Text,
    dates_in_order,
    existing_country,
)
from app.core.pagination import PageQuery, StrictQuery
from app.events.shapes import (
    ActorBrief,
    EventActorRead,
    EventRead,
    EventSourceRead,
    EvidenceKind,
    OutletBrief,
    QuoteBrief,
    Speaker,
)
from app.models.event import FIGURE_FIELDS
from app.places.schemas import PlaceRef

__all__ = [
    "ActorBrief",
    "EventActorRead",
    "EventRead",
    "EventSourceRead",
    "OutletBrief",
    "QuoteBrief",
    "Speaker",
]

EventSort = Literal["date_start", "-date_start", "fatalities_best", "-fatalities_best", "id", "-id"]
SORT_KEYS: Final[tuple[str, ...]] = (
    "date_start",
    "-date_start",
    "fatalities_best",
    "-fatalities_best",
    "id",
    "-id",
)
EventFormat = Literal["json", "csv", "geojson", "ndjson"]
EventInclude = Literal["sources", "actors"]
INCLUDES: Final[tuple[str, ...]] = ("sources", "actors")
EventField = Literal[
    "id",
    "external_id",
    "event_type",
    "sub_event_type",
    "date_start",
    "date_end",
    "date_precision",
    "place_id",
    "place_name",
    "country",
    "latitude",
    "longitude",
    "geo_precision",
    "summary",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "interaction",
    "evidence",
    "source_count",
    "outlet_count",
    "quote_count",
    "first_reported_date",
    "disputed",
    "incident_id",
    "status",
    "created_at",
    "updated_at",
]
# The fields a claim may be on: the headline figures, and measures.
CLAIM_FIELDS: Final[tuple[str, ...]] = (*FIGURE_FIELDS, "measure")
CountUnit = Literal["events", "incidents"]
COUNT_RULE: Final = (
    "`count=incidents` counts records linked as one incident (POST /v1/incidents) once: as "
    "the incident's lead record, its earliest-reported active one (the earliest "
    "`first_reported_date`, then the lowest id), in that record's time bucket and groups, "
    "and only if that record matches the filters; records linked to none count as "
    "themselves."
)

# The mean Earth radius (IUGG), for great-circle distances.
EARTH_RADIUS_KM: Final = 6371.0088
MAX_NEAR_KM: Final = 20_000.0  # about half the globe: a larger circle holds everything
_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,12})?"
_KM = r"[0-9]{1,5}(\.[0-9]{1,6})?"
BBOX_PATTERN: Final = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
NEAR_PATTERN: Final = rf"^{_NUMBER},{_NUMBER},{_KM}$"
BboxText = Annotated[
    str,
    Pattern(
        BBOX_PATTERN,
        "bbox needs minlon,minlat,maxlon,maxlat: four decimal numbers of degrees, such as "
        "36.0,33.0,37.5,34.5",
    ),
]
NearText = Annotated[
    str,
    Pattern(
        NEAR_PATTERN, "near needs lat,lon,km: decimal degrees and kilometres, such as 33.8,36.75,25"
    ),
]
CountryFilter = Annotated[
    str,
    Pattern(r"^[A-Za-z]{2}$", "country is an ISO 3166-1 alpha-2 code: two letters, such as SY"),
    AfterValidator(str.upper),
    AfterValidator(existing_country),
]


class Bbox(NamedTuple):
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


class Circle(NamedTuple):
    lat: float
    lon: float
    km: float


def _check_lat_lon(lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude {lon} is outside -180..180")


def parse_bbox(value: str) -> Bbox:
    """``minlon,minlat,maxlon,maxlat`` (RFC 7946 order). ``minlon > maxlon`` crosses the
    antimeridian, as in GeoJSON; ``minlat > maxlat`` is refused."""
    if not re.fullmatch(BBOX_PATTERN, value):
        raise ValueError("bbox is minlon,minlat,maxlon,maxlat in decimal degrees")
    box = Bbox(*(float(part) for part in value.split(",")))
    _check_lat_lon(box.min_lat, box.min_lon)
    _check_lat_lon(box.max_lat, box.max_lon)
    if box.min_lat > box.max_lat:
        raise ValueError(f"bbox: minlat {box.min_lat} is above maxlat {box.max_lat}")
    return box


def parse_near(value: str) -> Circle:
    """``lat,lon,km``: within ``km`` kilometres (great-circle) of the point."""
    if not re.fullmatch(NEAR_PATTERN, value):
        raise ValueError("near is lat,lon,km in decimal degrees and kilometres")
    lat, lon, km = (float(part) for part in value.split(","))
    _check_lat_lon(lat, lon)
    if not 0 < km <= MAX_NEAR_KM:
        raise ValueError(f"near: the distance must be more than 0 and at most {MAX_NEAR_KM:g} km")
    return Circle(lat, lon, km)


# -- issue 12: reproducible reads ---------------------------------------------------------------

# A data version (a whole number, as Data-Version names it) or an RFC 3339 time, in UTC.
AsOf = int | AwareDatetime
AS_OF_DESCRIPTION: Final = (
    "Reproducible read: the answer as it was at this data version (a `Data-Version` an "
    "earlier answer carried), or at the last version committed at or before this RFC 3339 "
    "time. The answer names the version in `Data-Version` and never changes "
    "(`Cache-Control: immutable`). A version newer than the current one, one older than the "
    "history kept (the earliest reproducible version), a time before it or in the future are "
    "a **422** naming the range. Under `as_of`, the filters that read records not kept in "
    "history (`q`, `outlet`, `actor_kind`, `include_affiliates`, `count=incidents`) are a "
    "**422**."
)


def parse_as_of(value: Any) -> Any:
    """``as_of``: a whole number is a data version; anything else must be an RFC 3339 time
    with its UTC offset (``Z`` or ``±hh:mm``)."""
    if not isinstance(value, str):
        return value
    if value.isdigit():
        if len(value) > 18:
            raise ValueError("as_of is a data version beyond any this database can have")
        return int(value)
    return rfc3339(
        value,
        "as_of",
        "a data version (a whole number, as in Data-Version) or an RFC 3339 date-time with its "
        "UTC offset, e.g. 2026-12-07T12:00:00Z",
        " when it is a time",
    )


def rfc3339(value: str, name: str, expected: str, offset_note: str = "") -> datetime:
    """An RFC 3339 time as written (``t``/``z`` in either case), in UTC; a time without its
    offset, or one datetime cannot hold (a leap second, year 0), is a value error naming
    ``name`` and what it ``expected``."""
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is {expected}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} needs a UTC offset (Z or ±hh:mm){offset_note}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} is out of range once in UTC") from None


def split_commas(value: Any) -> Any:
    """``a,b`` and ``a&a`` spell the same list (dashboards build either); order kept, no dupes."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        parts = [part.strip() for item in value for part in str(item).split(",")]
        return list(dict.fromkeys(p for p in parts if p))
    return value


def _refuse_unknown(name: str, values: list[str], allowed: tuple[str, ...]) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(
            f"unknown {name}{plural} {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}"
        )
    return values


PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
# Issue 12: a record named where its id is asked (actor=, place=, outlet=): matched through
# its aliases and transliterations as reports are; digits alone are an id.
RecordName = Annotated[
    Text,
    StringConstraints(min_length=1, max_length=300),
    Pattern(r"[^0-9]", "a name needs a character other than digits (digits alone are an id)"),
]
IdOrName = PositiveId | RecordName
DIMENSION_PATTERN: Final = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*:.+$"
DimensionFilter = Annotated[
    Text,
    StringConstraints(max_length=400),
    Pattern(
        DIMENSION_PATTERN,
        "dimension needs scheme:code, a scheme of GET /v1/vocabulary and one of its codes, "
        "such as ucdp.type_of_violence:2",
    ),
]
MAX_IDS: Final = 1000


class EventFilter(StrictQuery):
    """The event filters every event query shares (the list and its formats, exports, stats).

    Each one given narrows the result; together they combine with AND. Repeating a
    parameter that takes several values (`event_type=A&event_type=B`) means any of them.
    """

    # The live ids ``place`` and ``actor`` stand for, once read (``events.repository.
    # with_live_ids``): statements then carry them as constants. Not a parameter.
    _live_ids: dict[str, int] = PrivateAttr(default_factory=dict)
    # Issue 12: the code ids each scheme of ``dimension`` stands for, once read.
    _codes: dict[str, list[int]] = PrivateAttr(default_factory=dict)
    # Issue 12: the data version ``as_of`` stands for, once read (``app.events.asof``).
    _version: int | None = PrivateAttr(default=None)

    date_from: IsoDate | None = Field(
        default=None, description="Events starting on or after this date.", examples=["2018-04-01"]
    )
    date_to: IsoDate | None = Field(
        default=None, description="Events starting on or before this date.", examples=["2018-04-30"]
    )
    event_type: Annotated[list[str] | None, EVENT_TYPE] = Field(
        default=None,
        description="ACLED event type (see GET /v1/vocabulary); repeat for any of several.",
        examples=[["Battles"]],
    )
    sub_event_type: Annotated[list[str] | None, SUB_EVENT_TYPE] = Field(
        default=None,
        description="ACLED sub-event type (see GET /v1/vocabulary); repeat for any of several.",
        examples=[["Armed clash"]],
    )
    place: IdOrName | None = Field(
        default=None,
        description=(
            "Place id, or name (matched through its aliases and transliterations, as reports "
            "are; a name several places have is a 422 listing them with their ids): events "
            "there or anywhere inside it. A merged place's id stands for the place it was "
            "merged into."
        ),
        examples=[3],
    )
    country: CountryFilter | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 code of the country of the event's place.",
        examples=["SY"],
    )
    bbox: BboxText | None = Field(
        default=None,
        description=(
            "`minlon,minlat,maxlon,maxlat` (decimal degrees, edges included): events whose "
            "place's coordinates are inside. `minlon > maxlon` crosses the antimeridian. "
            "Events without coordinates never match."
        ),
        examples=["36.0,33.0,37.5,34.5"],
    )
    near: NearText | None = Field(
        default=None,
        description=(
            "`lat,lon,km`: events whose place is within `km` kilometres of the point "
            "(great-circle distance on a sphere of radius 6,371.0088 km; at most 20,000 km). "
            "Events without coordinates never match."
        ),
        examples=["33.8,36.75,25"],
    )
    actor: IdOrName | None = Field(
        default=None,
        description=(
            "Actor id, or name (matched through its aliases and transliterations; an "
            "ambiguous name is a 422 listing the candidates with their ids), taking part. A "
            "merged actor's id stands for the actor it was merged into."
        ),
        examples=[1],
    )
    include_affiliates: bool = Field(
        default=False,
        description=(
            "With `actor`: also match events of the actors affiliated to it: those with an "
            "affiliation (`member_of`, `allied_with`, `commanded_by`) whose related actor is "
            "`actor`, one level down, while the affiliation held (its since/until dates "
            "overlap the event's dates; open ends are unbounded). The FSA finds its factions' "
            "events; a faction does not find the FSA's."
        ),
        examples=[True],
    )
    # -- issue 12 (before `side`, which narrows it)
    actor_kind: Annotated[list[str] | None, ACTOR_KIND] = Field(
        default=None,
        description=(
            "Events with an actor of this kind (GET /v1/vocabulary, `actor_kinds`); repeat for "
            "any of several. With `side`, on that side."
        ),
        examples=[["rebel_group"]],
    )
    side: Literal["a", "b"] | None = Field(
        default=None,
        description=(
            "With `actor` (or `actor_kind`): only events where that actor (or affiliate, or an "
            "actor of that kind) is on this side."
        ),
        examples=["a"],
    )
    outlet: IdOrName | None = Field(
        default=None,
        description=("Outlet id or name: events reported by at least one article of this outlet."),
        examples=[1],
    )
    fatalities_min: Count | None = Field(
        default=None,
        description="Events whose best fatality estimate is at least this (unknown ones never match).",
        examples=[1],
    )
    fatalities_max: Count | None = Field(
        default=None,
        description="Events whose best fatality estimate is at most this (unknown ones never match).",
        examples=[100],
    )
    geo_precision: list[Annotated[int, Field(ge=1, le=3)]] | None = Field(
        default=None,
        description=(
            "Geographic precision (1 exact place, 2 near it, 3 region); repeat for any of several."
        ),
        examples=[[1, 2]],
    )
    updated_since: AwareDatetime | None = Field(
        default=None,
        description="Events changed at or after this time (RFC 3339, with its UTC offset).",
        examples=["2018-04-18T00:00:00Z"],
    )
    q: Annotated[Text, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None,
        description=(
            "Full-text search over the event's summary, its supporting quotes and the titles "
            'of the articles reporting it: all words, `"a phrase"`, `OR`, `-excluded`, '
            "`prefix*`; accents and case are ignored."
        ),
        examples=["barrel bombs"],
    )
    include_retracted: bool = Field(
        default=False,
        description="Also list retracted events (left out by default).",
        examples=[False],
    )
    # -- issue 12: dataset dimensions, actor kinds, coarse dates, ids --------------------------
    id: list[PositiveId] | None = Field(
        default=None,
        max_length=MAX_IDS,
        description=(
            "Event ids (repeat, or comma-separate; at most 1,000): only these events, as list "
            "rows, in the list's order; ids that do not exist are left out."
        ),
        examples=[[1, 2]],
    )
    dimension: list[DimensionFilter] | None = Field(
        default=None,
        description=(
            "A dataset's code, `scheme:code` (the schemes and their codes are in GET "
            "/v1/vocabulary, `dimensions`): `ucdp.type_of_violence:2`, `ucdp.conflict:299`, "
            "`acled.tags:crowd size=no report`. Repeat it: codes of one scheme match any of "
            "them, different schemes must all match. A scheme or code that does not exist is "
            "a 422 naming the allowed ones."
        ),
        examples=[["ucdp.type_of_violence:1"]],
    )
    interaction: Annotated[list[str] | None, INTERACTION] = Field(
        default=None,
        description=(
            "ACLED's interaction code derived from the kinds of the event's two sides "
            "(`12`: state forces and a rebel group); repeat for any of several. The codes are "
            "in GET /v1/vocabulary, `interactions`."
        ),
        examples=[["12"]],
    )
    date_precision: Annotated[list[str] | None, DATE_PRECISION] = Field(
        default=None,
        description="How precisely the event is dated: day, week, month or year; repeatable.",
        examples=[["day"]],
    )
    date_overlap: bool = Field(
        default=False,
        description=(
            "With `date_from`/`date_to`: events whose `[date_start, date_end]` overlaps the "
            "range, not only those starting in it."
        ),
        examples=[True],
    )
    # -- end issue 12
    sources_min: Count | None = Field(
        default=None,
        description=(
            "Events reported by at least this many articles (`source_count`); 0 means all."
        ),
        examples=[2],
    )
    outlets_min: Count | None = Field(
        default=None,
        description=(
            "Events reported by articles of at least this many distinct outlets "
            "(`outlet_count`); 0 means all."
        ),
        examples=[2],
    )
    disputed: bool | None = Field(
        default=None,
        description=(
            "`true`: only events whose sources' figures disagree beyond the dispute threshold "
            "(see an event's `claims`); `false`: only the others."
        ),
        examples=[True],
    )
    evidence: list[EvidenceKind] | None = Field(
        default=None,
        description=(
            "What backs the event: `quotes` (quotes of its articles), `dataset` (an imported "
            "dataset's row), `none` (older data with neither); repeat for any of several."
        ),
        examples=[["none"]],
    )
    incident: PositiveId | None = Field(
        default=None, description="Incident id: the events linked as that incident.", examples=[1]
    )
    count: CountUnit = Field(
        default="events",
        description="`events`: every matching record. " + COUNT_RULE,
        examples=["incidents"],
    )
    as_of: AsOf | None = Field(
        default=None,
        description=AS_OF_DESCRIPTION,
        examples=["42", "2026-12-07T12:00:00Z"],
    )

    @field_validator("id", "evidence", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_commas(value)

    @field_validator("date_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        return dates_in_order(value, info, "date_from")

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bbox(value)
        return value

    @field_validator("near")
    @classmethod
    def _near(cls, value: str | None) -> str | None:
        if value is not None:
            parse_near(value)
        return value

    @field_validator("include_affiliates")
    @classmethod
    def _needs_actor(cls, value: Any, info: ValidationInfo) -> Any:
        # Only when `actor` itself is valid and absent: a bad actor is reported on its own.
        if value and "actor" in info.data and info.data["actor"] is None:
            raise ValueError(f"{info.field_name} applies only with actor")
        return value

    @field_validator("side")
    @classmethod
    def _side_needs_actor(cls, value: Any, info: ValidationInfo) -> Any:
        # `side` narrows `actor` or `actor_kind` (issue 12 added the second); only when both
        # are valid and absent: a bad actor is reported on its own.
        if (
            value
            and "actor" in info.data
            and "actor_kind" in info.data
            and info.data["actor"] is None
            and not info.data["actor_kind"]
        ):
            raise ValueError("side applies only with actor or actor_kind")
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        return parse_as_of(value)

    @field_validator("updated_since", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return rfc3339(
            value,
            "updated_since",
            "an RFC 3339 date-time with its UTC offset, e.g. 2018-04-18T00:00:00Z",
        )

    def bounds(self) -> Bbox | None:
        return parse_bbox(self.bbox) if self.bbox is not None else None

    def circle(self) -> Circle | None:
        return parse_near(self.near) if self.near is not None else None


class EventDetailQuery(StrictQuery):
    """An event's detail takes one parameter: ``as_of`` (issue 12)."""

    as_of: AsOf | None = Field(
        default=None,
        description=(
            "The event as it was at this data version, or at the last version committed at "
            "or before this RFC 3339 time: its fields, actors, place and the places "
            "containing it, sources and claims then (articles, quotes and outlets are shown "
            "as they are now). A 404 when the event did not exist yet; out-of-range values "
            "are a **422**, as on the list."
        ),
        examples=["42"],
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        return parse_as_of(value)


class EventListQuery(EventFilter, PageQuery):
    """Query parameters of GET /v1/events: the filters, the sort, the page and the format."""

    sort: EventSort = Field(
        default="-date_start",
        description=(
            "Sort key, `-` for descending; ties broken by id the same way. Events with an "
            "unknown `fatalities_best` come last in both directions."
        ),
        examples=["-fatalities_best"],
    )
    limit: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Page size (at most 1,000). JSON only: the other formats are not paged.",
        examples=[100],
    )
    cursor: str | None = Field(
        default=None,
        description=(
            "Opaque cursor from a previous page's `next_cursor` (made for the same sort). "
            "JSON only."
        ),
        examples=["WyItZmF0YWxpdGllc19iZXN0IixbMTIsNF1d"],
    )
    total: bool = Field(
        default=False,
        description="Also count every matching event (`total`). JSON only.",
        examples=[True],
    )
    fields: list[EventField] | None = Field(
        default=None,
        description=(
            "The columns of each event, comma-separated or repeated (`id` is always "
            "included); all by default. JSON and NDJSON only."
        ),
        examples=[["id", "date_start", "event_type", "latitude", "longitude"]],
    )
    include: list[EventInclude] | None = Field(
        default=None,
        description=(
            "Relations to embed in each event, comma-separated or repeated: `actors` (with "
            "side and role), `sources` (article, outlet and supporting quotes). JSON and "
            "NDJSON only."
        ),
        examples=[["actors", "sources"]],
    )
    format: EventFormat | None = Field(
        default=None,
        description=(
            "`json` (pages), or the whole result streamed as `csv` (ACLED-like columns), "
            "`geojson` (RFC 7946 FeatureCollection) or `ndjson` (one JSON event a line). "
            "Overrides the `Accept` header."
        ),
        examples=["json"],
    )

    @field_validator("sort", mode="before")
    @classmethod
    def _sort_known(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in SORT_KEYS:
            raise ValueError(f"unknown sort key {value!r}; allowed: {', '.join(SORT_KEYS)}")
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _fields_known(cls, value: Any) -> Any:
        value = split_commas(value)
        if isinstance(value, list):
            _refuse_unknown("field", value, EVENT_FIELDS)
        return value

    @field_validator("include", mode="before")
    @classmethod
    def _include_known(cls, value: Any) -> Any:
        value = split_commas(value)
        if isinstance(value, list):
            _refuse_unknown("include", value, INCLUDES)
        return value

    def columns(self) -> tuple[str, ...]:
        """The event columns asked for, in their canonical order."""
        if not self.fields:
            return EVENT_FIELDS
        wanted = {"id", *self.fields}
        return tuple(c for c in EVENT_FIELDS if c in wanted)


class EventPlace(PlaceRef):
    latitude: float | None
    longitude: float | None
    ancestors: list[PlaceRef] = Field(description="From the outermost (the country) inward.")


# The columns of an event in a list, in their order (EventRead's, but the includes); `fields=`
# picks among them (`id` is always there: it names the event, and embedded relations hang
# off it).
EVENT_FIELDS: Final[tuple[str, ...]] = tuple(
    name for name in EventRead.model_fields if name not in INCLUDES
)


class MeasureRead(BaseModel):
    """A measure a source gives (a standing measure claim: see `claims`)."""

    kind: str = Field(examples=["barrel bombs"])
    value: float | None = Field(examples=[75])
    qualifier: str | None = Field(examples=["over"])
    quote_id: int | None
    article_id: int | None = Field(description="The article that gives it.", examples=[1])
    claim_id: int = Field(examples=[1])


ClaimStatus = Literal["standing", "superseded", "withdrawn"]


class ClaimRead(BaseModel):
    """One figure one source gives: an article (its outlet, maybe a quote), a dataset's row,
    or a curator."""

    id: int = Field(examples=[3])
    field: str = Field(
        description=(
            "`fatalities_low`, `fatalities_best`, `fatalities_high`, `deaths_a`, `deaths_b`, "
            "`deaths_civilians`, `deaths_unknown`, or `measure` (with its `kind`)."
        ),
        examples=["fatalities_best"],
    )
    kind: str | None = Field(description="A measure's kind.", examples=[None])
    value: float | None = Field(examples=[12])
    qualifier: str | None = Field(examples=["at least"])
    origin: Literal["source", "dataset", "curator"] = Field(examples=["source"])
    article_id: int | None = Field(examples=[1])
    outlet: OutletBrief | None = Field(description="The article's outlet.")
    quote_id: int | None = Field(examples=[2])
    dataset: str | None = Field(description="The dataset's name.", examples=[None])
    status: ClaimStatus = Field(
        description=(
            "`standing`; `superseded` by a later claim of the same outlet, dataset or curators "
            "(for figures); `withdrawn` by a curator."
        ),
        examples=["standing"],
    )
    recorded_at: datetime
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None


class IncidentBrief(BaseModel):
    id: int = Field(examples=[1])
    lead_event_id: int = Field(
        description="The record the incident counts as (count=incidents).", examples=[1]
    )
    event_ids: list[int] = Field(description="Every record linked as it.", examples=[[1, 7]])


class EventProvenanceRead(BaseModel):
    """The dataset row an imported event came from, and what its users owe the dataset."""

    dataset: str = Field(description="The dataset's name.", examples=["ucdp-ged"])
    version: str | None = Field(
        description="The release the event's current content was imported from.",
        examples=["23.1"],
    )
    external_id: str = Field(description="The event's id in the dataset.", examples=["300380"])
    licence: str | None = Field(examples=["CC BY 4.0"])
    citation: str | None = Field(
        examples=[
            "Sundberg, Ralph, and Erik Melander, 2013, Introducing the UCDP Georeferenced Event "
            "Dataset, Journal of Peace Research 50(4)"
        ]
    )
    url: str | None = Field(examples=["https://ucdp.uu.se/downloads/"])
    original: dict[str, str] = Field(
        description=(
            "The row's values as the file gave them that have no field of their own here "
            "(the dataset's codes before mapping, ids, names as given, counts), and the row's "
            "own coordinates."
        ),
        examples=[{"relid": "SYR-2013-1-11973-99", "type_of_violence": "1", "country": "Syria"}],
    )
    flags: list[str] = Field(
        description="Oddities of the row kept as given, e.g. `low_above_best`.",
        examples=[["deaths_sum_differs"]],
    )
    imported_at: datetime = Field(description="When this content was imported.")


class DimensionRead(BaseModel):
    """One code of a dataset's scheme that the event carries (issue 12)."""

    scheme: str = Field(examples=["ucdp.type_of_violence"])
    code: str = Field(examples=["1"])
    label: str | None = Field(examples=["State-based violence"])


class EventDetail(BaseModel):
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
    fatalities_best: int | None = Field(
        description=(
            "Headline figures (this one and the other fatalities and deaths) follow the "
            "claims: the latest curator's claim while one stands, else the median of each "
            "outlet's and dataset's latest claim (the lower middle one of an even number)."
        )
    )
    fatalities_high: int | None
    # -- issue 12
    deaths_a: int | None
    deaths_b: int | None
    deaths_civilians: int | None
    deaths_unknown: int | None
    interaction: str | None = Field(default=None, examples=["12"])
    dimensions: list[DimensionRead] = Field(
        default_factory=list,
        description="The codes of the datasets' schemes the event carries (GET /v1/vocabulary).",
    )
    # -- end issue 12
    evidence: EvidenceKind = Field(
        description="`quotes`, `dataset` (its `provenance`), or `none` (older data)."
    )
    source_count: int
    outlet_count: int
    quote_count: int
    first_reported_date: date | None
    disputed: bool = Field(
        description="Its sources' latest figures for one field spread by more than the dispute "
        "threshold of the largest."
    )
    status: str = Field(description="`active`, or `retracted` (see the reason).")
    retraction_reason: str | None = Field(
        default=None, description="Why the event was retracted; null while active."
    )
    retracted_at: datetime | None = Field(default=None, description="When it was retracted.")
    version: int = Field(
        description="Bumped by every change to the event; the ETag header is built from it.",
        examples=[1],
    )
    created_at: datetime
    updated_at: datetime
    place: EventPlace | None
    actors: list[EventActorRead]
    sources: list[EventSourceRead]
    measures: list[MeasureRead]
    claims: list[ClaimRead] = Field(
        description="Every figure and measure each source gives, side by side (oldest first)."
    )
    incident: IncidentBrief | None = Field(
        description="The incident it is linked with, and the records linked as it."
    )
    provenance: EventProvenanceRead | None = Field(
        default=None,
        description="For an event imported from a dataset (UCDP GED, ACLED): where it came from.",
    )


Speaker.model_rebuild()


Fatality = Annotated[int, Field(ge=0, le=10_000_000)]
TypeName = Annotated[Text, StringConstraints(min_length=1, max_length=80)]


class EventUpdate(Patch):
    """PATCH /v1/events/{id}: the fields given replace the event's; null clears a nullable one.

    Actors, sources and measures change through reports and merges, not here.
    """

    event_type: TypeName = absent(
        description="One of the event types in GET /v1/vocabulary.", examples=["Battles"]
    )
    sub_event_type: TypeName | None = Field(
        default=None,
        description=(
            "A sub-type of the event type. Changing the type without it keeps the current "
            "sub-type only if it belongs to the new type."
        ),
        examples=["Armed clash"],
    )
    date_start: date = absent(examples=["2018-04-17"])
    date_end: date = absent(examples=["2018-04-18"])
    date_precision: Literal["day", "week", "month", "year"] = absent(examples=["day"])
    place_id: Id | None = Field(default=None, description="An existing place's id.", examples=[4])
    geo_precision: Literal[1, 2, 3] | None = Field(default=None, examples=[2])
    summary: Annotated[Text, StringConstraints(max_length=20_000)] | None = None
    fatalities_low: Fatality | None = Field(
        default=None,
        description=(
            "A headline figure (this and the other fatalities and deaths) given here is "
            "recorded as a curator's claim, the headline while it stands; null: unknown."
        ),
        examples=[2],
    )
    fatalities_best: Fatality | None = Field(default=None, examples=[3])
    fatalities_high: Fatality | None = Field(default=None, examples=[5])
    deaths_a: Fatality | None = Field(default=None, examples=[1])
    deaths_b: Fatality | None = Field(default=None, examples=[2])
    deaths_civilians: Fatality | None = Field(default=None, examples=[0])
    deaths_unknown: Fatality | None = Field(default=None, examples=[0])
    external_id: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="An id in another dataset; unique.", examples=["SYR12345"]
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> EventUpdate:
        start, end = self.date_start, self.date_end
        if start is not None and end is not None and end < start:
            raise ValueError("date_end is before date_start")
        return self


class ClaimCreate(Strict):
    """POST /v1/events/{id}/claims: a figure a curator records: their own (no `article_id`),
    or one a source gives that the curator found (`article_id`: one of the event's articles;
    `quote_id`: one of that article's quotes)."""

    field: str = Field(
        description=(
            "`fatalities_low`, `fatalities_best`, `fatalities_high`, `deaths_a`, `deaths_b`, "
            "`deaths_civilians`, `deaths_unknown`, or `measure` (with `kind`)."
        ),
        examples=["fatalities_best"],
    )
    value: float | None = Field(
        description="The figure (a whole number of deaths for the figure fields); null: unknown.",
        allow_inf_nan=False,
        ge=-1e15,
        le=1e15,
        examples=[12],
    )
    kind: Annotated[Text, StringConstraints(min_length=1, max_length=200), NOT_BLANK] | None = (
        Field(default=None, description="A measure's kind.", examples=["barrel bombs"])
    )
    qualifier: Annotated[Text, StringConstraints(max_length=100)] | None = Field(
        default=None, examples=["at least"]
    )
    article_id: Id | None = Field(default=None, examples=[1])
    quote_id: Id | None = Field(default=None, examples=[2])

    @field_validator("field")
    @classmethod
    def _claimable(cls, value: str) -> str:
        if value not in CLAIM_FIELDS:
            raise ValueError(f"{value!r} takes no claims; claims are on {', '.join(CLAIM_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _shape(self) -> ClaimCreate:
        if self.field == "measure":
            if self.kind is None:
                raise ValueError("a measure claim needs its kind")
        else:
            if self.kind is not None:
                raise ValueError(f"kind applies only to measure claims, not {self.field}")
            if self.value is not None and (self.value < 0 or self.value != int(self.value)):
                raise ValueError(f"{self.field} is a whole number of deaths, 0 or more")
            if self.value is not None and self.value > 10_000_000:
                raise ValueError(f"{self.field} is at most 10,000,000")
        if self.quote_id is not None and self.article_id is None:
            raise ValueError("quote_id needs the article_id it is a quote of")
        return self


class ClaimWithdrawal(StrictQuery):
    """DELETE /v1/events/{id}/claims/{claim_id}: a withdrawal needs its reason."""

    reason: Annotated[Text, StringConstraints(min_length=1, max_length=2000), NOT_BLANK] = Field(
        description="Why the claim is withdrawn (kept with it and in the event's history).",
        examples=["The outlet corrected its toll: it counted the same victims twice."],
    )


class EventRetraction(StrictQuery):
    """DELETE /v1/events/{id}: a retraction needs its reason."""

    reason: Annotated[Text, StringConstraints(min_length=1, max_length=2000), NOT_BLANK] = Field(
        description="Why the event is retracted (shown with it and kept in its history).",
        examples=["Duplicate of event 7: the same air raids, reported twice."],
    )


class FieldChange(BaseModel):
    before: Any = Field(description="The value before the change (null when created).")
    after: Any = Field(description="The value after the change.")


class EventRevisionRead(BaseModel):
    """One change to an event: who made it (API key id), when, and each changed field."""

    id: int = Field(examples=[7])
    event_id: int = Field(examples=[1])
    action: str = Field(
        description=(
            "create, update, retract, add_source, remove_source, remove_quote, actor_merge, "
            "place_merge, import_update, source_update, add_claim, withdraw_claim, link, unlink "
            "or protect_speaker."
        ),
        examples=["update"],
    )
    api_key_id: int | None = Field(
        description="The API key that made the change, shown to keys with the curate or "
        "admin scope (null for anyone else, and for the command-line tools' imports before "
        "keys existed).",
        examples=[1],
    )
    changed_at: datetime
    changes: dict[str, FieldChange] = Field(
        description=(
            "Each changed field's before and after. `actors` is a list of "
            "{actor_id, side, role}; `sources` and `quotes` are lists of article and quote ids."
        ),
        examples=[{"fatalities_best": {"before": None, "after": 3}}],
    )


# -- issue 12: what changed between two versions ------------------------------------------------


class EventDiffQuery(EventFilter):
    """GET /v1/events/diff: two versions (or times) and the list's filters."""

    from_: AsOf = Field(
        alias="from",
        description=(
            "The earlier data version (or RFC 3339 time: the last version committed at or "
            "before it)."
        ),
        examples=["40"],
    )
    to: AsOf = Field(
        description="The later data version (or RFC 3339 time), at least `from`.",
        examples=["42"],
    )

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        return parse_as_of(value)


class DiffAdded(BaseModel):
    id: int = Field(description="The event: it matches the filters at `to`, not at `from`.")
    created: bool = Field(
        description="Whether the event was created between the two versions (else an edit "
        "brought it into the filters' slice, or it was restored)."
    )


class DiffRemoved(BaseModel):
    id: int = Field(description="The event: it matched the filters at `from`, not at `to`.")
    reason: Literal["retracted", "left"] = Field(
        description="`retracted`: it was retracted (merged events are retracted into their "
        "survivor); `left`: an edit took it out of the filters' slice."
    )


class DiffChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from", description="The value at `from`.")
    to: Any = Field(description="The value at `to`.")


class DiffChanged(BaseModel):
    id: int = Field(description="The event: it matches the filters at both versions.")
    changes: dict[str, DiffChange] = Field(
        description="Each field that changed, with its value at both versions: the event's "
        "fields as the list names them, `actors` ([{actor_id, side, role}]) and "
        "`sources` (article ids)."
    )


class EventDiff(BaseModel):
    from_: int = Field(alias="from", description="The data version compared from.")
    to: int = Field(description="The data version compared to.")
    added: list[DiffAdded]
    removed: list[DiffRemoved]
    changed: list[DiffChanged]
