"""Incident request, response and query models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.fields import Id, Strict
from app.core.pagination import PageQuery, StrictQuery
from app.incidents.matching import DEFAULT_DAYS, DEFAULT_KM, MAX_DAYS, MAX_KM

MAX_LINKED = 100


class IncidentLink(Strict):
    """POST /v1/incidents: events that describe one real-world incident."""

    events: Annotated[list[Id], Field(min_length=2, max_length=MAX_LINKED)] = Field(
        description=(
            "Two or more event ids, each once. Events already linked bring their incidents "
            "along: the incidents become one (the oldest is kept)."
        ),
        examples=[[1, 7]],
    )


class IncidentEvent(BaseModel):
    """A record linked as the incident (or a candidate for it), with where it comes from."""

    id: int = Field(examples=[1])
    event_type: str = Field(examples=["Explosions/Remote violence"])
    sub_event_type: str | None = Field(examples=["Air/drone strike"])
    date_start: date = Field(examples=["2018-04-17"])
    date_end: date = Field(examples=["2018-04-18"])
    place_id: int | None = Field(examples=[4])
    place_name: str | None = Field(examples=["Jabal Sharqi"])
    latitude: float | None = Field(examples=[33.8])
    longitude: float | None = Field(examples=[36.75])
    fatalities_best: int | None = Field(examples=[None])
    evidence: Literal["quotes", "dataset", "none"] = Field(examples=["quotes"])
    source_count: int = Field(examples=[1])
    outlet_count: int = Field(examples=[1])
    first_reported_date: date | None = Field(examples=["2018-04-18"])
    status: str = Field(examples=["active"])
    origin: list[str] = Field(
        description="Its dataset (`dataset:<name>`) and its articles' outlets (`outlet:<name>`).",
        examples=[["outlet:Syria Direct"]],
    )


class IncidentRead(BaseModel):
    """An incident: the records linked as it, each keeping its own id and evidence."""

    id: int = Field(examples=[1])
    lead_event_id: int = Field(
        description=(
            "The record it counts as with `count=incidents`: its earliest-reported active "
            "record (earliest `first_reported_date`, then lowest id)."
        ),
        examples=[1],
    )
    event_ids: list[int] = Field(examples=[[1, 7]])
    version: int = Field(examples=[1])
    created_at: datetime
    updated_at: datetime


class IncidentDetail(IncidentRead):
    events: list[IncidentEvent]


class IncidentListRow(IncidentRead):
    records: int = Field(description="How many records are linked as it.", examples=[2])


class IncidentUnlinked(BaseModel):
    unlinked: list[int] = Field(
        description=(
            "The events taken out of the incident: the one asked for, and the last one left "
            "when only one would remain (the incident is then dissolved)."
        ),
        examples=[[7]],
    )
    incident: IncidentDetail | None = Field(
        description="The incident as it is now; null when dissolved."
    )


class SimilarQuery(StrictQuery):
    """GET /v1/events/{id}/similar: how near, how soon, how many, how good."""

    km: float = Field(
        default=DEFAULT_KM,
        gt=0,
        le=MAX_KM,
        allow_inf_nan=False,
        description=f"Candidates within this many kilometres (more than 0, at most {MAX_KM:g}).",
        examples=[50],
    )
    days: int = Field(
        default=DEFAULT_DAYS,
        ge=0,
        le=MAX_DAYS,
        description=f"Candidates within this many days (0 to {MAX_DAYS}) of the event's dates.",
        examples=[7],
    )
    min_score: float = Field(
        default=0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Leave out candidates scoring below this (0 to 1).",
        examples=[0.5],
    )
    limit: int = Field(
        default=10, ge=1, le=100, description="At most this many candidates.", examples=[10]
    )


class SimilarCandidate(IncidentEvent):
    score: float = Field(
        description="0 to 1: how likely the two records describe the same incident.",
        examples=[0.82],
    )
    km: float | None = Field(description="Kilometres between their places.", examples=[3.2])
    days: int = Field(description="Days between their dates (0 if they overlap).", examples=[0])
    reasons: list[str] = Field(
        description="What the score rests on, in words.",
        examples=[["3.2 km apart", "same days", "actors in common: Syrian army ~ Syrian Army"]],
    )
    incident_id: int | None = Field(
        description="The incident the candidate is linked with already, if any.", examples=[None]
    )


class SimilarPage(BaseModel):
    event_id: int = Field(examples=[1])
    incident_id: int | None = Field(examples=[None])
    km: float = Field(examples=[50])
    days: int = Field(examples=[7])
    data: list[SimilarCandidate] = Field(description="Best first.")


class IncidentListQuery(PageQuery):
    """GET /v1/incidents: incidents in id order."""
