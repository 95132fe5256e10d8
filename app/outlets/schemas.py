"""Outlet request, response and query models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core.edits import Patch, absent
from app.core.fields import OUTLET_KIND, Country, Language, Name, NamePrefix, Strict, Text, Url
from app.core.pagination import PageQuery


class OutletFilter(PageQuery):
    """Filters for GET /v1/outlets. Each one narrows the result; together they combine with AND."""

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description=(
            "Outlet name, matched exactly after normalisation (case, accents, hyphens and "
            "spacing are ignored)."
        ),
        examples=["Syria Direct"],
    )
    name_prefix: NamePrefix | None = Field(
        default=None,
        description=(
            "The beginning of the outlet's name, for autocompletes, matched after the same "
            "normalisation as `name` (case, accents, hyphens), or of its domain: `syria d` "
            "and `syriadir` both find Syria Direct (`syriadirect.org`). A prefix ending in a "
            "space ends a word. Needs a letter or a digit."
        ),
        examples=["Syria D"],
    )
    country: Country | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 code of the outlet's country, upper case.",
        examples=["SY"],
    )
    kind: Annotated[str | None, OUTLET_KIND] = Field(
        default=None,
        max_length=40,
        description="Outlet kind, one of the `outlet_kinds` in GET /v1/vocabulary.",
        examples=["national"],
    )


class OutletRead(BaseModel):
    """One outlet."""

    id: int = Field(examples=[1])
    name: str = Field(examples=["Syria Direct"])
    url: str | None = Field(
        description="The outlet's home page.", examples=["https://syriadirect.org"]
    )
    domain: str | None = Field(
        description="Host name of the outlet's site, without `www.`.", examples=["syriadirect.org"]
    )
    country: str | None = Field(
        description="ISO 3166-1 alpha-2 code of the outlet's country.", examples=["SY"]
    )
    language: str | None = Field(
        description="BCP 47 tag of the outlet's main language.", examples=["en"]
    )
    kind: str | None = Field(
        description="One of the `outlet_kinds` in GET /v1/vocabulary.", examples=["national"]
    )
    created_at: datetime
    updated_at: datetime


class OutletDetail(OutletRead):
    """One outlet with the number of its articles held."""

    article_count: int = Field(description="Articles of this outlet in the database.", examples=[1])
    version: int = Field(
        description="Bumped by every change to the outlet; the ETag header is built from it.",
        examples=[1],
    )


Kind = Annotated[Text, StringConstraints(min_length=1, max_length=40)]


class OutletCreate(Strict):
    """POST /v1/outlets: a new outlet, checked and normalised as ingestion does."""

    name: Name = Field(examples=["Syria Direct"])
    url: Url | None = Field(default=None, examples=["https://syriadirect.org"])
    country: Country | None = Field(default=None, examples=["SY"])
    language: Language | None = Field(default=None, examples=["en"])
    kind: Kind | None = Field(
        default=None,
        description="One of the `outlet_kinds` in GET /v1/vocabulary.",
        examples=["national"],
    )


class OutletUpdate(Patch):
    """PATCH /v1/outlets/{id}: the fields given replace the outlet's; null clears one."""

    name: Name = absent(examples=["Syria Direct"])
    url: Url | None = Field(default=None, examples=["https://syriadirect.org"])
    country: Country | None = Field(default=None, examples=["SY"])
    language: Language | None = Field(default=None, examples=["en"])
    kind: Kind | None = Field(default=None, examples=["national"])
