"""Event response and query models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core.pagination import PageQuery

EventSort = Literal["date_start", "-date_start", "id", "-id"]


class EventFilter(PageQuery):
    """Filters for GET /v1/events. Each one narrows the result; together they combine with AND."""

    date_from: date | None = Field(
        default=None, description="Events starting on or after this date.", examples=["2018-04-01"]
    )
    date_to: date | None = Field(
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
        description="Place id: events there or anywhere inside it.",
        examples=[1],
    )
    actor: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Actor id taking part.", examples=[1]
    )
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
    status: str
    created_at: datetime
    updated_at: datetime
    place: EventPlace | None
    actors: list[EventActorRead]
    sources: list[EventSourceRead]
    measures: list[MeasureRead]


Speaker.model_rebuild()
