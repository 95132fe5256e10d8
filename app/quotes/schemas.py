"""Quote request, response and query models."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.articles import schemas as article_schemas
from app.core.edits import Patch, absent
from app.core.fields import Id, Name, Text
from app.core.pagination import PageQuery
from app.events import schemas as event_schemas


class QuoteFilter(PageQuery):
    """Filters for GET /v1/quotes. Each one narrows the result; together they combine with AND."""

    article: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Article id it is taken from.", examples=[1]
    )
    speaks_for: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description=(
            "Actor id the speaker speaks for (an organisation, not the speaker). A merged "
            "actor's id stands for the actor it was merged into."
        ),
        examples=[5],
    )


class QuoteRead(event_schemas.QuoteBrief):
    """One quote: the exact text, where it sits in its article's body, and who said it."""

    id: int = Field(examples=[13])
    text: str = Field(
        description="Exactly `body[start:end]` of its article (`title[start:end]` when `in_title`).",
        examples=["The Russians negotiate, and the regime bombs."],
    )
    start: int = Field(
        description="Offset of the first code point in the article body.", examples=[2888]
    )
    end: int = Field(description="Offset after the last code point (exclusive).", examples=[2933])
    article_id: int = Field(examples=[1])


class QuoteEvent(BaseModel):
    """An event the quote is cited as evidence for."""

    id: int = Field(examples=[4])
    event_type: str = Field(examples=["Strategic developments"])
    date_start: date = Field(examples=["2018-04-17"])


class QuoteDetail(QuoteRead):
    """One quote with its article and the events it supports."""

    article: article_schemas.ArticleBrief
    events: list[QuoteEvent] = Field(
        description="Events citing this quote as evidence (retracted events left out)."
    )
    version: int = Field(
        description="Bumped by every change to the quote; the ETag header is built from it.",
        examples=[1],
    )


class QuoteUpdate(Patch):
    """PATCH /v1/quotes/{id}: who said it. The text and offsets are the article's and stay."""

    speaker_name: Name | None = Field(default=None, examples=["Marwan al-Qadi"])
    speaker_role: Annotated[Text, StringConstraints(max_length=300)] | None = Field(
        default=None, examples=["spokesperson for the Unified Command"]
    )
    speaks_for_id: Id | None = Field(
        default=None,
        description="The actor (an organisation) the speaker speaks for; null for none.",
        examples=[5],
    )
    speaker_protected: bool = absent(
        description=(
            "Protect the speaker: the name is shown only to keys with the curate scope "
            '(others see "a source"; the text stays public).'
        ),
        examples=[True],
    )
