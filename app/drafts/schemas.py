"""POST /v1/drafts: a news text in; a POST /v1/reports document out, with the annotations that
explain each proposal. Pydantic only (no FastAPI, no SQLAlchemy): ``app.client`` shares it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, StringConstraints, Tag

from app.core.fields import NOT_BLANK, IsoDate, Language, Name, Strict, Text, Url
from app.reports.schemas import ById, OutletDescription, ReportCreate

MAX_TEXT_CHARS = 1_000_000  # an article's body, as POST /v1/reports takes it


def _outlet_tag(value: Any) -> str:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return "id" if "id" in value else "description"
    return "id" if isinstance(value, ById) else "description"


OutletGiven = Annotated[
    Annotated[Name, Tag("name")]
    | Annotated[ById, Tag("id")]
    | Annotated[OutletDescription, Tag("description")],
    Discriminator(_outlet_tag),
]


class DraftCreate(Strict):
    """A news text to draft a report from."""

    text: Annotated[Text, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS), NOT_BLANK] = (
        Field(description="The article's text: it becomes the report's body, verbatim.")
    )
    title: Annotated[Text, StringConstraints(max_length=2000)] | None = None
    url: Url | None = None
    published_date: IsoDate = Field(
        description="The article's date: weekdays and 'yesterday' are resolved against it.",
        examples=["2018-04-18"],
    )
    outlet: OutletGiven = Field(
        description="The outlet: its name, {'id': N}, or a description as POST /v1/reports takes.",
        examples=["Syria Direct"],
    )
    language: Language | None = Field(
        default=None, description="The text's language, if known; otherwise it is guessed."
    )


AnnotationKind = Literal[
    "language",
    "title",
    "dateline",
    "quote",
    "speaker",
    "event",
    "event_type",
    "date",
    "place",
    "actor",
    "figure",
    "measure",
]


class Annotation(BaseModel):
    """Why the draft proposes something: the words that show it, how sure the rule is, and
    which rule or gazetteer entry matched."""

    kind: AnnotationKind
    text: str = Field(description="The evidence: the text at [start, end).")
    start: int | None = Field(description="Code-point offset into the text.")
    end: int | None = Field(description="Exclusive end offset, in code points.")
    confidence: float = Field(ge=0, le=1)
    why: str
    used_in: list[str] = Field(
        default_factory=list,
        description="JSON Pointers to the parts of the draft this explains (/events/0/place).",
    )
    source: dict[str, Any] | None = Field(
        default=None,
        description="Where a place or actor comes from: the database (with its id), the "
        "bundled gazetteer (GeoNames id, ISO 3166-2 code), a lexicon, or new.",
    )


class Annotations(BaseModel):
    language: str = Field(description="ISO 639-1 code of the text's language, or 'und'.")
    english: bool = Field(description="Whether the rules, written for English, apply.")
    notes: list[str] = Field(
        default_factory=list, description="What the draft as a whole should be read with."
    )
    items: list[Annotation] = Field(default_factory=list)


class DraftRead(ReportCreate):
    """A report to check, edit and POST to /v1/reports (without ``annotations``)."""

    annotations: Annotations

    def report(self) -> ReportCreate:
        """The draft as a POST /v1/reports document."""
        return ReportCreate.model_validate(self.model_dump(exclude={"annotations"}))
