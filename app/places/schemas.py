"""Place request, response and query models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.core.edits import Patch, absent
from app.core.fields import PLACE_KIND, Country, Id, Name, NamePrefix, Strict, Text
from app.core.pagination import PageQuery


class PlaceRef(BaseModel):
    """A place named in another record's answer: an event's place and its ancestors."""

    id: int
    name: str
    kind: str
    country: str | None


class PlaceFilter(PageQuery):
    """Filters for GET /v1/places. Each one narrows the result; together they combine with AND."""

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description=(
            "Any name the place is known by, its aliases included, matched whole after "
            "normalisation: case, accents, hyphens and transliterations of the Arabic article "
            "are ignored, so `Ruheibah` finds `al-Ruheibah`."
        ),
        examples=["al-Rhaibeh"],
    )
    name_prefix: NamePrefix | None = Field(
        default=None,
        description=(
            "The beginning of any name the place is known by, its aliases included, for autocompletes: "
            "matched after the same normalisation as `name` (case, accents, hyphens, the Arabic "
            "article), so `al-Ruh` and `ruh` both find `al-Ruheibah`; a prefix ending in a space "
            "ends a word (`Jabal ` does not find `Jabalah`). Needs a letter or a digit. Served by "
            "an index."
        ),
        examples=["al-Ruh"],
    )
    kind: Annotated[str | None, PLACE_KIND] = Field(
        default=None,
        max_length=40,
        description="Place kind, one of the `place_kinds` in GET /v1/vocabulary.",
        examples=["populated_place"],
    )
    country: Country | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 code of the country the place is in, upper case.",
        examples=["SY"],
    )
    parent: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Place id: only its direct children (a merged place's id stands for its survivor).",
        examples=[3],
    )
    within: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description=(
            "Place id: every place inside it, at any depth (not the place itself); a merged "
            "place's id stands for its survivor."
        ),
        examples=[1],
    )


class PlaceRead(BaseModel):
    """One place in the gazetteer."""

    id: int = Field(examples=[5])
    name: str = Field(description="The primary name.", examples=["al-Ruheibah"])
    kind: str = Field(
        description="One of the `place_kinds` in GET /v1/vocabulary.", examples=["populated_place"]
    )
    country: str | None = Field(
        description="ISO 3166-1 alpha-2 code of the country the place is in.", examples=["SY"]
    )
    parent_id: int | None = Field(
        description="The place directly containing it; null for a country.", examples=[4]
    )
    latitude: float | None = Field(description="WGS 84 degrees north.", examples=[33.7436])
    longitude: float | None = Field(description="WGS 84 degrees east.", examples=[36.7003])
    geonames_id: int | None = Field(
        description="The place's GeoNames id, if known.", examples=[None]
    )


class PlaceChild(BaseModel):
    id: int = Field(examples=[5])
    name: str = Field(examples=["al-Ruheibah"])
    kind: str = Field(examples=["populated_place"])


class PlaceDetail(PlaceRead):
    """One place with its other names, the places containing it, and those directly inside it."""

    version: int = Field(
        description="Bumped by every change to the place; the ETag header is built from it.",
        examples=[1],
    )
    created_at: datetime
    updated_at: datetime
    aliases: list[str] = Field(
        description="Other names the place is known by (the primary name left out).",
        examples=[["Ruhaybah", "al-Rhaibeh"]],
    )
    ancestors: list[PlaceRef] = Field(
        description="The places containing it, from the outermost (the country) inward."
    )
    children: list[PlaceChild] = Field(description="The places directly inside it, by name.")
    event_count: int = Field(
        description="Events at the place or anywhere inside it (retracted events left out).",
        examples=[1],
    )


Kind = Annotated[Text, StringConstraints(min_length=1, max_length=40)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class PlaceCreate(Strict):
    """POST /v1/places: a new place, checked and normalised as ingestion does."""

    name: Name = Field(examples=["al-Ruheibah"])
    kind: Kind = Field(
        description="One of the `place_kinds` in GET /v1/vocabulary.", examples=["populated_place"]
    )
    country: Country | None = Field(
        default=None, description="Defaults to the parent's country.", examples=["SY"]
    )
    parent_id: Id | None = Field(
        default=None, description="The place directly containing it.", examples=[4]
    )
    latitude: Latitude | None = Field(default=None, examples=[33.7436])
    longitude: Longitude | None = Field(default=None, examples=[36.7003])
    geonames_id: Id | None = Field(default=None, examples=[170592])
    aliases: list[Name] = Field(default_factory=list, max_length=50, examples=[["Ruhaybah"]])

    @model_validator(mode="after")
    def _coordinates_together(self) -> PlaceCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        return self


class PlaceUpdate(Patch):
    """PATCH /v1/places/{id}: the fields given replace the place's; null clears a nullable one.

    A new `parent_id` moves the place with everything inside it. A new name keeps the old one
    as an alias.
    """

    name: Name = absent(examples=["al-Ruheibah"])
    kind: Kind = absent(examples=["populated_place"])
    country: Country | None = Field(default=None, examples=["SY"])
    parent_id: Id | None = Field(
        default=None, description="null makes it a top-level place.", examples=[4]
    )
    latitude: Latitude | None = Field(
        default=None, description="Given or cleared together with longitude.", examples=[33.74]
    )
    longitude: Longitude | None = Field(default=None, examples=[36.7])
    geonames_id: Id | None = Field(default=None, examples=[170592])
