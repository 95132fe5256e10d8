"""The events' response shapes: pydantic only (no FastAPI, no SQLAlchemy), so the Python
client (``app.client``) reads answers with the very models the server writes them with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# What backs an event: quotes of its articles, a dataset's row, or nothing (older data).
EvidenceKind = Literal["quotes", "dataset", "none"]


def _only_id_required(schema: dict[str, Any]) -> None:
    # `fields=` may leave any column out but `id`; `include=` adds actors and sources.
    schema["required"] = ["id"]


class EventActorRead(BaseModel):
    id: int
    name: str
    kind: str
    country: str | None
    side: str | None = Field(examples=["a"])
    role: str = Field(examples=["primary"])


class Speaker(BaseModel):
    name: str | None = Field(
        description=(
            "`a source` when the speaker is protected and the request's key lacks the curate scope."
        ),
        examples=["Omar al-Qalamouni"],
    )
    role: str | None = Field(examples=["media activist"])
    speaks_for: ActorBrief | None
    protected: bool = Field(
        description="A curator protects the speaker: the name is shown only to curators."
    )


class ActorBrief(BaseModel):
    id: int
    name: str


class QuoteBrief(BaseModel):
    id: int
    text: str
    in_title: bool = Field(
        description="The quote is in the article's title (the offsets count into it), not its body."
    )
    start: int = Field(description="Offset of the first code point in the article body (or title).")
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


class EventRead(BaseModel):
    """One event in a list: flat, one row per event.

    Every column is present unless `fields=` leaves it out (`id` always is); `actors` and
    `sources` are present only with `include=`.
    """

    model_config = ConfigDict(json_schema_extra=_only_id_required)

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
    latitude: float | None = Field(description="The place's latitude.", examples=[33.8])
    longitude: float | None = Field(description="The place's longitude.", examples=[36.75])
    geo_precision: int | None = Field(examples=[2])
    summary: str | None
    fatalities_low: int | None = Field(examples=[None])
    fatalities_best: int | None = Field(
        description="The headline figure (see GET /v1/events/{id}: `claims`).", examples=[None]
    )
    fatalities_high: int | None = Field(examples=[None])
    # -- issue 12: fatalities by whom, and the sides' interaction
    deaths_a: int | None = Field(
        default=None,
        description="Deaths on side a (UCDP's split; null when not given).",
        examples=[None],
    )
    deaths_b: int | None = Field(default=None, description="Deaths on side b.", examples=[None])
    deaths_civilians: int | None = Field(
        default=None, description="Civilian deaths.", examples=[None]
    )
    deaths_unknown: int | None = Field(
        default=None, description="Deaths whose status is unknown.", examples=[None]
    )
    interaction: str | None = Field(
        default=None,
        description=(
            "ACLED's interaction code derived from the kinds of the two sides' actors "
            "(`12`: state forces and a rebel group; `10`: one side only); see "
            "`interactions` in GET /v1/vocabulary. Null for an event without actors."
        ),
        examples=["12"],
    )
    # -- end issue 12
    # -- issue 13: what backs it, and how well
    evidence: EvidenceKind = Field(
        description=(
            "What backs it: `quotes` of its articles, a `dataset` row, or `none` (older data)."
        ),
        examples=["quotes"],
    )
    source_count: int = Field(description="Articles reporting it.", examples=[1])
    outlet_count: int = Field(description="Distinct outlets of those articles.", examples=[1])
    quote_count: int = Field(description="Distinct quotes cited for it.", examples=[2])
    first_reported_date: date | None = Field(
        description="The earliest publication date of its articles.", examples=["2018-04-18"]
    )
    disputed: bool = Field(
        description="Its sources' figures disagree beyond the dispute threshold.",
        examples=[False],
    )
    incident_id: int | None = Field(
        description="The incident it is linked with (GET /v1/incidents/{id}).", examples=[None]
    )
    status: str = Field(examples=["active"])
    created_at: datetime
    updated_at: datetime
    actors: list[EventActorRead] = Field(
        default_factory=list, description="With `include=actors`: who took part, on which side."
    )
    sources: list[EventSourceRead] = Field(
        default_factory=list,
        description="With `include=sources`: each article, its outlet and the supporting quotes.",
    )
