"""Vocabulary response models: the controlled lists other resources refer to by name."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VocabularyTerm(BaseModel):
    name: str = Field(description="The value used in other resources and filters.")
    description: str


class EventTypeTerm(VocabularyTerm):
    sub_event_types: list[VocabularyTerm] = Field(
        description="The sub-types an event of this type may have."
    )


class ActorKindTerm(VocabularyTerm):
    acled_inter: int | None = Field(
        description="ACLED's actor type code (inter1/inter2); null for kinds ACLED lacks.",
        examples=[2],
    )


class VocabularyRead(BaseModel):
    """Every controlled list, each ordered by name (actor kinds by ACLED code)."""

    event_types: list[EventTypeTerm] = Field(
        description="Event types (ACLED's taxonomy by default) with their sub-types."
    )
    actor_kinds: list[ActorKindTerm]
    place_kinds: list[VocabularyTerm]
    outlet_kinds: list[VocabularyTerm]
    date_precisions: list[VocabularyTerm] = Field(
        description="How precisely an event's dates are known."
    )
    event_roles: list[VocabularyTerm] = Field(description="How an actor takes part in an event.")
    affiliation_relations: list[VocabularyTerm] = Field(
        description="How one actor is tied to another."
    )
    event_statuses: list[VocabularyTerm]
