"""Article request, response and query models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator

from app.core.edits import Patch
from app.core.fields import IsoDate, Language, Text, Url, dates_in_order
from app.core.pagination import PageQuery
from app.events import schemas as event_schemas

ARTICLE_URL = "https://syriadirect.org/air-raids-and-clashes-in-east-qalamoun-amid-negotiations-for-rebel-surrender/"
ARTICLE_TITLE = "Air raids and clashes in East Qalamoun amid negotiations for rebel surrender"


class ArticleFilter(PageQuery):
    """Filters for GET /v1/articles. Each one narrows the result; together they combine with AND."""

    outlet: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Outlet id that published it.", examples=[1]
    )
    published_from: IsoDate | None = Field(
        default=None,
        description="Articles published on or after this date.",
        examples=["2018-04-01"],
    )
    published_to: IsoDate | None = Field(
        default=None,
        description="Articles published on or before this date.",
        examples=["2018-04-30"],
    )

    @field_validator("published_to")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        return dates_in_order(value, info, "published_from")


class ArticleBrief(BaseModel):
    """An article named by another resource (a quote's source)."""

    id: int = Field(examples=[1])
    title: str | None = Field(examples=[ARTICLE_TITLE])
    url: str | None = Field(examples=[ARTICLE_URL])
    published_date: date | None = Field(examples=["2018-04-18"])
    outlet: event_schemas.OutletBrief


class ArticleRead(BaseModel):
    """One article in a list, without its body."""

    id: int = Field(examples=[1])
    outlet: event_schemas.OutletBrief
    url: str | None = Field(description="The article's URL as published.", examples=[ARTICLE_URL])
    title: str | None = Field(examples=[ARTICLE_TITLE])
    published_date: date | None = Field(examples=["2018-04-18"])
    dateline: str | None = Field(
        description="Where the report was filed, as printed.", examples=["Amman"]
    )
    byline: str | None = Field(description="The authors as printed.", examples=[None])
    language: str | None = Field(
        description="BCP 47 tag of the article's language.", examples=["en"]
    )
    created_at: datetime
    updated_at: datetime


class ArticleEvent(BaseModel):
    """An event the article supports, with the ids of the article's quotes cited for it."""

    id: int = Field(examples=[2])
    event_type: str = Field(examples=["Battles"])
    sub_event_type: str | None = Field(examples=["Armed clash"])
    date_start: date = Field(examples=["2018-04-18"])
    summary: str | None
    quote_ids: list[int] = Field(
        description="This article's quotes that support the event (in `quotes`); may be empty.",
        examples=[[5]],
    )


class ArticleDetail(ArticleRead):
    """One article with its body, its quotes and the events it supports."""

    body: str | None = Field(
        description="The full text; quote offsets count Unicode code points into it."
    )
    content_sha256: str | None = Field(
        description="SHA-256 of the body (hex), used to spot the same article without a URL."
    )
    quotes: list[event_schemas.QuoteBrief] = Field(description="In order of position in the body.")
    events: list[ArticleEvent] = Field(
        description="Events this article is a source for (retracted events left out)."
    )
    version: int = Field(
        description="Bumped by every change to the article; the ETag header is built from it.",
        examples=[1],
    )


class ArticleUpdate(Patch):
    """PATCH /v1/articles/{id}: the fields given replace the article's; null clears one.

    The body can change only while no quote points into it (quotes are offsets into it).
    """

    title: Annotated[Text, StringConstraints(max_length=2000)] | None = Field(
        default=None, examples=[ARTICLE_TITLE]
    )
    published_date: date | None = Field(default=None, examples=["2018-04-18"])
    dateline: Annotated[Text, StringConstraints(max_length=200)] | None = Field(
        default=None, examples=["Amman"]
    )
    byline: Annotated[Text, StringConstraints(max_length=500)] | None = None
    language: Language | None = Field(default=None, examples=["en"])
    url: Url | None = Field(
        default=None, description="Unique after normalisation.", examples=[ARTICLE_URL]
    )
    body: Annotated[Text, StringConstraints(max_length=1_000_000)] | None = Field(
        default=None, description="Only while the article has no quotes."
    )
