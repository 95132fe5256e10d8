"""Actor response and query models."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

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
    kind: str | None = Field(
        default=None,
        max_length=40,
        description="Actor kind, one of the `actor_kinds` in GET /v1/vocabulary.",
        examples=["rebel_group"],
    )
    country: str | None = Field(
        default=None,
        pattern="^[A-Z]{2}$",
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


class ActorDetail(ActorRead):
    """One actor with its other names, its ties to other actors, and how many events it is in."""

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
