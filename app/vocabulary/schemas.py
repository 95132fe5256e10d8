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


class DimensionCodeTerm(BaseModel):
    code: str = Field(description="The value `dimension=scheme:code` takes.", examples=["1"])
    label: str | None = Field(
        description="What it means, or the dataset's name for it.",
        examples=["State-based violence"],
    )


class DimensionSchemeTerm(BaseModel):
    name: str = Field(
        description="The scheme, for `dimension=` and `group_by=`.",
        examples=["ucdp.type_of_violence"],
    )
    dataset: str = Field(examples=["ucdp-ged"])
    column: str = Field(description="The dataset's column.", examples=["type_of_violence"])
    closed: bool = Field(
        description=(
            "A closed scheme has exactly these codes (an import row with another is refused); "
            "an open one grows with the imports (conflict ids, tags)."
        )
    )
    multiple: bool = Field(description="Whether an event may carry several codes of it.")
    description: str
    codes: list[DimensionCodeTerm]


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
    interactions: list[VocabularyTerm] = Field(
        description=(
            "ACLED's interaction codes: the kinds of the two sides' actors (an event's "
            "`interaction`)."
        )
    )
    dimensions: list[DimensionSchemeTerm] = Field(
        description="Every dataset's coded fields (issue 12), with their codes."
    )
