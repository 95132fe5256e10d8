"""Actor request, response and query models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.core.edits import Patch, absent
from app.core.fields import ACTOR_KIND, Country, Id, Name, NamePrefix, Strict, Text
from app.core.pagination import PageQuery


class ActorFilter(PageQuery):
    """Filters for GET /v1/actors. Each one narrows the result; together they combine with AND."""

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description=(
            "Any name the actor is known by, its aliases included, matched whole after "
            "normalisation: case, accents, hyphens and transliterations of the Arabic article "
            "are ignored, so `Jaish Tahrir al-Sham` finds `Jaish Tahrir a-Sham`."
        ),
        examples=["Jaish Tahrir al-Sham"],
    )
    name_prefix: NamePrefix | None = Field(
        default=None,
        description=(
            "The beginning of any name the actor is known by, its aliases included, for autocompletes: "
            "matched after the same normalisation as `name` (case, accents, hyphens, the Arabic "
            "article), so `al-Ruh` and `ruh` both find `al-Ruheibah`; a prefix ending in a space "
            "ends a word (`Jabal ` does not find `Jabalah`). Needs a letter or a digit. Served by "
            "an index."
        ),
        examples=["Jaish Tahrir"],
    )
    kind: Annotated[str | None, ACTOR_KIND] = Field(
        default=None,
        max_length=40,
        description="Actor kind, one of the `actor_kinds` in GET /v1/vocabulary.",
        examples=["rebel_group"],
    )
    country: Country | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 code of the actor's country, upper case.",
        examples=["SY"],
    )


class ActorRead(BaseModel):
    """One actor."""

    id: int = Field(examples=[3])
    name: str = Field(description="The primary name.", examples=["Jaish Tahrir a-Sham"])
    kind: str = Field(
        description="One of the `actor_kinds` in GET /v1/vocabulary.", examples=["rebel_group"]
    )
    country: str | None = Field(
        description="ISO 3166-1 alpha-2 code of the actor's country.", examples=["SY"]
    )
    created_at: datetime
    updated_at: datetime


class ActorRef(BaseModel):
    id: int = Field(examples=[4])
    name: str = Field(examples=["Free Syrian Army"])
    kind: str = Field(examples=["rebel_group"])


class AffiliationRead(BaseModel):
    """A tie between two actors, read from the side of the actor asked for."""

    id: int = Field(description="The tie's id (to delete it).", examples=[2])
    actor: ActorRef = Field(description="The actor at the other end of the tie.")
    relation: str = Field(
        description=(
            "One of the `affiliation_relations` in GET /v1/vocabulary. In `affiliations` this "
            "actor is `relation` `actor`; in `affiliates` `actor` is `relation` this actor."
        ),
        examples=["member_of"],
    )
    since: date | None = Field(description="First day the tie held, if known.", examples=[None])
    until: date | None = Field(description="Last day the tie held, if it ended.", examples=[None])


class ExternalIdRead(BaseModel):
    dataset: str = Field(examples=["ucdp-ged"])
    external_id: str = Field(examples=["4456"])


class ActorDetail(ActorRead):
    """One actor with its other names, its ties to other actors, and how many events it is in."""

    version: int = Field(
        description="Bumped by every change to the actor; the ETag header is built from it.",
        examples=[1],
    )
    aliases: list[str] = Field(
        description="Other names the actor is known by (the primary name left out).",
        examples=[["Ahmad al-Abdo brigade", "Ahmad al-Abdo"]],
    )
    affiliations: list[AffiliationRead] = Field(
        description="This actor's ties to others: this actor is `relation` each `actor`."
    )
    affiliates: list[AffiliationRead] = Field(
        description="Others' ties to this actor: each `actor` is `relation` this actor."
    )
    event_count: int = Field(
        description="Events the actor takes part in (retracted events left out).", examples=[3]
    )
    external_ids: list[ExternalIdRead] = Field(
        default_factory=list,
        description="Its ids in the datasets it was imported from (UCDP's side ids).",
    )
    datasets: list[str] = Field(
        default_factory=list,
        description=(
            "Where it came from: the datasets whose events name it (`ucdp-ged`, `acled`), and "
            "`reports` when a report's event does."
        ),
        examples=[["ucdp-ged"]],
    )


Kind = Annotated[Text, StringConstraints(min_length=1, max_length=40)]
Relation = Literal["member_of", "allied_with", "commanded_by"]


class ActorCreate(Strict):
    """POST /v1/actors: a new actor, checked and normalised as ingestion does."""

    name: Name = Field(examples=["Jaish Tahrir a-Sham"])
    kind: Kind = Field(
        description="One of the `actor_kinds` in GET /v1/vocabulary.", examples=["rebel_group"]
    )
    country: Country | None = Field(default=None, examples=["SY"])
    aliases: list[Name] = Field(
        default_factory=list, max_length=50, examples=[["Jaish Tahrir al-Sham"]]
    )


class ActorUpdate(Patch):
    """PATCH /v1/actors/{id}: the fields given replace the actor's; null clears `country`.

    A new name keeps the old one as an alias. `add_aliases` and `remove_aliases` change the
    other names (matched after normalisation); the primary name cannot be removed.
    """

    name: Name = absent(examples=["Jaish Tahrir al-Sham"])
    kind: Kind = absent(examples=["rebel_group"])
    country: Country | None = Field(default=None, examples=["SY"])
    add_aliases: list[Name] = absent(max_length=50, examples=[["JTS"]])
    remove_aliases: list[Name] = absent(max_length=50, examples=[["Jaish Tahrir"]])


class ActorAliasCreate(Strict):
    """POST /v1/actors/{id}/aliases: one more name for the actor."""

    name: Name = Field(examples=["Jaish Tahrir al-Sham"])


class ActorAliasRead(BaseModel):
    id: int = Field(description="The alias's id (to delete it).", examples=[9])
    actor_id: int = Field(examples=[3])
    name: str = Field(examples=["Jaish Tahrir al-Sham"])
    primary: bool = Field(description="Whether this is the actor's primary name.")


class AffiliationCreate(Strict):
    """POST /v1/actors/{id}/affiliations: this actor is `relation` the actor `actor_id`."""

    actor_id: Id = Field(description="The actor at the other end of the tie.", examples=[4])
    relation: Relation = Field(examples=["member_of"])
    since: date | None = Field(default=None, examples=["2016-01-01"])
    until: date | None = Field(default=None, examples=[None])

    @model_validator(mode="after")
    def _dates_in_order(self) -> AffiliationCreate:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        return self
