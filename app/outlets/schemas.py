"""Outlet response and query models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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
    country: str | None = Field(
        default=None,
        pattern="^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code of the outlet's country, upper case.",
        examples=["SY"],
    )
    kind: str | None = Field(
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
