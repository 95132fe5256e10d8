"""The POST /v1/reports document and its response."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from app.core.fields import (
    Country,
    Id,
    IsoDate,
    Key,
    Language,
    Name,
    Strict,
    Text,
    Url,
)

MAX_QUOTES = 500
MAX_EVENTS = 500
MAX_ACTORS_PER_EVENT = 50
MAX_QUOTES_PER_EVENT = 50


class ById(Strict):
    id: Id


class OutletDescription(Strict):
    name: Name = Field(examples=["Syria Direct"])
    url: Url | None = Field(default=None, examples=["https://syriadirect.org"])
    country: Country | None = Field(default=None, examples=["SY"])
    language: Language | None = Field(default=None, examples=["en"])
    kind: str | None = Field(
        default=None, description="See /v1/vocabulary outlet_kinds.", examples=["national"]
    )


class AffiliationIn(Strict):
    actor: ActorRef
    relation: Literal["member_of", "allied_with", "commanded_by"]
    since: IsoDate | None = None
    until: IsoDate | None = None


class ActorDescription(Strict):
    name: Name = Field(examples=["Jaish Tahrir a-Sham"])
    kind: str | None = Field(
        default=None,
        description="Required when the actor is new. See /v1/vocabulary actor_kinds.",
        examples=["rebel_group"],
    )
    country: Country | None = Field(default=None, examples=["SY"])
    aliases: list[Name] = Field(
        default_factory=list, max_length=50, examples=[["Jaish Tahrir al-Sham"]]
    )
    affiliations: list[AffiliationIn] = Field(default_factory=list, max_length=50)


class PlaceDescription(Strict):
    name: Name = Field(examples=["al-Ruheibah"])
    kind: str | None = Field(
        default=None,
        description="Required when the place is new. See /v1/vocabulary place_kinds.",
        examples=["populated_place"],
    )
    country: Country | None = Field(default=None, examples=["SY"])
    parent: PlaceRef | None = None
    latitude: float | None = Field(
        default=None, ge=-90, le=90, allow_inf_nan=False, examples=[33.7436]
    )
    longitude: float | None = Field(
        default=None, ge=-180, le=180, allow_inf_nan=False, examples=[36.7003]
    )
    geonames_id: Id | None = None
    aliases: list[Name] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _coordinates_together(self) -> PlaceDescription:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        return self


def _ref_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "id" if "id" in value else "description"
    return "id" if isinstance(value, ById) else "description"


ActorRef = Annotated[
    Annotated[ById, Tag("id")] | Annotated[ActorDescription, Tag("description")],
    Discriminator(_ref_tag),
]
PlaceRef = Annotated[
    Annotated[ById, Tag("id")] | Annotated[PlaceDescription, Tag("description")],
    Discriminator(_ref_tag),
]
OutletRef = Annotated[
    Annotated[ById, Tag("id")] | Annotated[OutletDescription, Tag("description")],
    Discriminator(_ref_tag),
]


class ArticleIn(Strict):
    url: Url | None = Field(
        default=None, examples=["https://syriadirect.org/air-raids-and-clashes-in-east-qalamoun/"]
    )
    title: Text | None = Field(default=None, max_length=2000)
    published_date: IsoDate | None = Field(default=None, examples=["2018-04-18"])
    outlet: OutletRef
    dateline: Annotated[Text, StringConstraints(max_length=200)] | None = Field(
        default=None, examples=["Amman"]
    )
    byline: Annotated[Text, StringConstraints(max_length=500)] | None = None
    language: Language | None = Field(default=None, examples=["en"])
    body: Annotated[Text, StringConstraints(max_length=1_000_000)] | None = None


class SpeakerIn(Strict):
    name: Name | None = Field(default=None, examples=["Omar al-Qalamouni"])
    role: Annotated[Text, StringConstraints(max_length=300)] | None = Field(
        default=None, examples=["media activist"]
    )
    protected: bool = Field(
        default=False,
        description=(
            "Show the name only to keys with the curate scope (anonymous and read-scope "
            "answers say `a source`); the quote's text stays public. Curators can change it "
            "later (PATCH /v1/quotes/{id})."
        ),
    )


class QuoteIn(Strict):
    key: Key = Field(description="Client key, unique in the report; events refer to quotes by it.")
    text: Annotated[Text, StringConstraints(min_length=1, max_length=100_000)]
    in_title: bool = Field(
        default=False,
        description=(
            "The text is in the article's title, not its body (an article without a body, "
            "such as a dataset's citation, is quoted in its title); offsets count into the title."
        ),
    )
    start: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        default=None, description="Offset in Unicode code points into the body (or title)."
    )
    end: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None, description="Exclusive end offset in code points."
    )
    speaker: SpeakerIn | None = None
    speaks_for: ActorRef | None = None


Figure = Annotated[int, Field(ge=0, le=10_000_000)]


class Fatalities(Strict):
    """The article's death toll: each figure given is a claim of the article (its outlet)."""

    low: Figure | None = None
    best: Figure | None = None
    high: Figure | None = None
    quote: Key | None = Field(
        default=None, description="Key of the quote that gives the figures, where one does."
    )


class Deaths(Strict):
    """Deaths by whom (as UCDP splits them), each a claim of the article."""

    side_a: Figure | None = Field(default=None, examples=[3])
    side_b: Figure | None = Field(default=None, examples=[5])
    civilians: Figure | None = Field(default=None, examples=[2])
    unknown: Figure | None = Field(default=None, examples=[0])
    quote: Key | None = Field(
        default=None, description="Key of the quote that gives the figures, where one does."
    )


class EventActorIn(Strict):
    actor: ActorRef
    side: Literal["a", "b"] | None = None
    role: Literal["primary", "associated", "target", "mediator"] = "primary"


class MeasureIn(Strict):
    kind: Annotated[Name, StringConstraints(max_length=200)] = Field(examples=["barrel bombs"])
    value: float | None = Field(default=None, allow_inf_nan=False, examples=[75])
    qualifier: Annotated[Text, StringConstraints(max_length=100)] | None = Field(
        default=None, examples=["over"]
    )
    quote: Key | None = Field(default=None, description="Key of the supporting quote.")


class NewEventIn(Strict):
    key: Key
    external_id: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = None
    event_type: str = Field(examples=["Explosions/Remote violence"])
    sub_event_type: str | None = Field(default=None, examples=["Air/drone strike"])
    date_start: IsoDate
    date_end: IsoDate | None = Field(default=None, description="Defaults to date_start.")
    date_precision: Literal["day", "week", "month", "year"] = "day"
    place: PlaceRef | None = None
    geo_precision: Literal[1, 2, 3] | None = None
    summary: Annotated[Text, StringConstraints(max_length=20_000)] | None = None
    fatalities: Fatalities = Field(default_factory=Fatalities)
    deaths: Deaths = Field(default_factory=Deaths)
    actors: list[EventActorIn] = Field(default_factory=list, max_length=MAX_ACTORS_PER_EVENT)
    quotes: list[Key] = Field(
        default_factory=list,
        max_length=MAX_QUOTES_PER_EVENT,
        description="Keys of the quotes that support the event: at least one.",
    )
    measures: list[MeasureIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _dates_in_order(self) -> NewEventIn:
        if self.date_end is not None and self.date_end < self.date_start:
            raise ValueError("date_end is before date_start")
        return self


class EventReferenceIn(Strict):
    """An existing event this article reports too: by ``id`` or by ``external_id``, with the
    quotes that support it (at least one) and the figures it gives (claims beside the other
    sources', never overwriting them)."""

    key: Key | None = None
    id: Id | None = None
    external_id: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = None
    quotes: list[Key] = Field(
        default_factory=list,
        max_length=MAX_QUOTES_PER_EVENT,
        description="Keys of the quotes that support the event: at least one.",
    )
    fatalities: Fatalities = Field(default_factory=Fatalities)
    deaths: Deaths = Field(default_factory=Deaths)
    measures: list[MeasureIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _one_identifier(self) -> EventReferenceIn:
        if (self.id is None) == (self.external_id is None):
            raise ValueError("reference an existing event by exactly one of id or external_id")
        return self


# Fields added to the document after reports were first stored, with their defaults: left out
# of a report's hash while at their default, so re-posting a report stored before they
# existed is still recognised (a 200 replay, not a 409).
LATER_DEFAULTS: dict[str, dict[str, Any]] = {
    "quote": {"in_title": False},
    "speaker": {"protected": False},
    "fatalities": {"quote": None},
    "event": {
        "deaths": {
            "side_a": None,
            "side_b": None,
            "civilians": None,
            "unknown": None,
            "quote": None,
        }
    },
    "reference": {
        "fatalities": {"low": None, "best": None, "high": None, "quote": None},
        "measures": [],
    },
}


def _event_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "new" if "event_type" in value else "reference"
    return "new" if isinstance(value, NewEventIn) else "reference"


EventIn = Annotated[
    Annotated[NewEventIn, Tag("new")] | Annotated[EventReferenceIn, Tag("reference")],
    Discriminator(_event_tag),
]


def _article_without(name: str) -> dict[str, Any]:
    """A report whose article lacks ``name`` (absent or null)."""
    either = [{"not": {"required": [name]}}, {"properties": {name: {"type": "null"}}}]
    return {"properties": {"article": {"anyOf": either}}}


def _quotes_need_their_text(schema: dict[str, Any]) -> None:
    """What JSON Schema can say of where quotes are (the offsets themselves it cannot check):
    without an article body every quote is of the title (`in_title: true`), and without a
    title none is."""

    def quotes(in_title: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"properties": {"in_title": {"const": in_title}}}
        if in_title:
            item["required"] = ["in_title"]
        return {"properties": {"quotes": {"items": item}}}

    # One if/then/else at the top, not an allOf of two: generators then lose the
    # additionalProperties beside it. No body: title quotes; else, no title: body quotes.
    schema["if"] = _article_without("body")
    schema["then"] = quotes(in_title=True)
    schema["else"] = {"if": _article_without("title"), "then": quotes(in_title=False)}


class ReportCreate(Strict):
    """One article with its quotes and the events they support."""

    model_config = ConfigDict(json_schema_extra=_quotes_need_their_text)

    article: ArticleIn
    quotes: list[QuoteIn] = Field(default_factory=list, max_length=MAX_QUOTES)
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_EVENTS)
    actors: list[ActorRef] = Field(
        default_factory=list,
        max_length=200,
        description="Further actors the article mentions (no event needed).",
    )
    places: list[PlaceRef] = Field(
        default_factory=list,
        max_length=200,
        description="Further places the article mentions (no event needed).",
    )


AffiliationIn.model_rebuild()
ActorDescription.model_rebuild()
PlaceDescription.model_rebuild()


class EntityOutcome(BaseModel):
    name: str
    id: int
    status: Literal["matched", "created"]


class ReportCreated(BaseModel):
    article: dict[str, int] = Field(examples=[{"id": 1}])
    quotes: dict[str, int] = Field(description="Quote key -> id.", examples=[{"omar-bombing": 1}])
    events: dict[str, int] = Field(
        description="Event key -> id.", examples=[{"air-raids-jabal-sharqi": 1}]
    )
    actors: list[EntityOutcome]
    places: list[EntityOutcome]
