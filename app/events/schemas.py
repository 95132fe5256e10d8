"""Event request, response and query models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.core.edits import Patch, absent
from app.core.pagination import PageQuery, StrictQuery
from app.ingest.schemas import Id, IsoDate, Text

EventSort = Literal["date_start", "-date_start", "id", "-id"]


class EventFilters(StrictQuery):
    """The event filters every event query shares (the list, exports, stats).

    Each one narrows the result; together they combine with AND.
    """

    date_from: IsoDate | None = Field(
        default=None, description="Events starting on or after this date.", examples=["2018-04-01"]
    )
    date_to: IsoDate | None = Field(
        default=None, description="Events starting on or before this date.", examples=["2018-04-30"]
    )
    event_type: list[str] | None = Field(
        default=None,
        description="ACLED event type; repeat for any of several.",
        examples=[["Battles"]],
    )
    place: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description=(
            "Place id: events there or anywhere inside it. A merged place's id stands for the "
            "place it was merged into."
        ),
        examples=[1],
    )
    actor: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description=(
            "Actor id taking part. A merged actor's id stands for the actor it was merged into."
        ),
        examples=[1],
    )
    include_retracted: bool = Field(
        default=False, description="Also list retracted events (left out by default)."
    )


class EventFilter(EventFilters, PageQuery):
    """Query parameters of GET /v1/events: the filters, the sort and the page."""

    sort: EventSort = Field(default="-date_start", description="Sort key; `-` for descending.")


class EventRead(BaseModel):
    """One event in a list: flat, one row per event."""

    id: int = Field(examples=[1])
    external_id: str | None = Field(examples=[None])
    event_type: str = Field(examples=["Explosions/Remote violence"])
    sub_event_type: str | None = Field(examples=["Air/drone strike"])
    date_start: date = Field(examples=["2018-04-17"])
    date_end: date = Field(examples=["2018-04-18"])
    date_precision: str = Field(examples=["day"])
    place_id: int | None = Field(examples=[4])
    place_name: str | None = Field(examples=["Jabal Sharqi"])
    country: str | None = Field(description="ISO 3166-1 alpha-2 of the place.", examples=["SY"])
    latitude: float | None = Field(examples=[33.8])
    longitude: float | None = Field(examples=[36.75])
    geo_precision: int | None = Field(examples=[2])
    summary: str | None
    fatalities_low: int | None = Field(examples=[None])
    fatalities_best: int | None = Field(examples=[None])
    fatalities_high: int | None = Field(examples=[None])
    status: str = Field(examples=["active"])
    created_at: datetime
    updated_at: datetime


class PlaceRef(BaseModel):
    id: int
    name: str
    kind: str
    country: str | None


class EventPlace(PlaceRef):
    latitude: float | None
    longitude: float | None
    ancestors: list[PlaceRef] = Field(description="From the outermost (the country) inward.")


class EventActorRead(BaseModel):
    id: int
    name: str
    kind: str
    country: str | None
    side: str | None = Field(examples=["a"])
    role: str = Field(examples=["primary"])


class Speaker(BaseModel):
    name: str | None = Field(examples=["Omar al-Qalamouni"])
    role: str | None = Field(examples=["media activist"])
    speaks_for: ActorBrief | None


class ActorBrief(BaseModel):
    id: int
    name: str


class QuoteBrief(BaseModel):
    id: int
    text: str
    start: int = Field(description="Offset of the first code point in the article body.")
    end: int = Field(description="Offset after the last code point (exclusive).")
    speaker: Speaker


class OutletBrief(BaseModel):
    id: int
    name: str


class EventSourceRead(BaseModel):
    article_id: int
    title: str | None
    url: str | None
    published_date: date | None
    outlet: OutletBrief
    quotes: list[QuoteBrief]


class MeasureRead(BaseModel):
    kind: str = Field(examples=["barrel bombs"])
    value: float | None = Field(examples=[75])
    qualifier: str | None = Field(examples=["over"])
    quote_id: int | None


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
    fatalities_best: int | None
    fatalities_high: int | None
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
    fatalities_low: Fatality | None = Field(default=None, examples=[2])
    fatalities_best: Fatality | None = Field(default=None, examples=[3])
    fatalities_high: Fatality | None = Field(default=None, examples=[5])
    external_id: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="An id in another dataset; unique.", examples=["SYR12345"]
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> EventUpdate:
        start, end = self.date_start, self.date_end
        if start is not None and end is not None and end < start:
            raise ValueError("date_end is before date_start")
        return self


class EventRetraction(StrictQuery):
    """DELETE /v1/events/{id}: a retraction needs its reason."""

    reason: Annotated[Text, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")] = (
        Field(
            description="Why the event is retracted (shown with it and kept in its history).",
            examples=["Duplicate of event 7: the same air raids, reported twice."],
        )
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
            "create, update, retract, add_source, remove_source, remove_quote, actor_merge or "
            "place_merge."
        ),
        examples=["update"],
    )
    api_key_id: int | None = Field(
        description="The API key that made the change (null for the command-line tools' "
        "imports before keys existed).",
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
