"""Stats query and response models: aggregates of the events the events list would return."""

from __future__ import annotations

import re
import typing
from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.core.fields import Pattern
from app.events.schemas import EventFilter, split_commas

Interval = Literal["day", "week", "month", "year"]
Dimension = Literal[
    "event_type",
    "sub_event_type",
    "country",
    "admin1",
    "place",
    "actor",
    "outlet",
    # -- issue 12
    "date_precision",
    "interaction",
    "actor_kind",
]
Metric = Literal[
    "count",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    # -- issue 12: fatalities by whom
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    # -- issue 13: evidence
    "disputed",
    "sources_mean",
    "outlets_mean",
]
Level = Literal["place", "admin1", "country"]

METRICS: tuple[Metric, ...] = typing.get_args(Metric)
DEFAULT_METRICS: tuple[Metric, ...] = ("count", "fatalities", "fatalities_low", "fatalities_high")
DIMENSIONS: tuple[str, ...] = typing.get_args(Dimension)
# Metrics that are means over a row's events, not sums (null for a row without events).
MEAN_METRICS: frozenset[str] = frozenset({"sources_mean", "outlets_mean"})
# Dimensions that are records: their rows carry `<dim>_id` and `<dim>_name`.
RECORD_DIMENSIONS: frozenset[str] = frozenset({"admin1", "place", "actor", "outlet"})
MULTI_VALUED: frozenset[str] = frozenset({"actor", "outlet", "actor_kind"})
# Issue 12: a dataset's scheme (GET /v1/vocabulary, `dimensions`) is a dimension too; its
# rows carry `<scheme>` (the code) and `<scheme>_label`, as `interaction` does.
SCHEME_PATTERN: Final = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
LABELLED_DIMENSIONS: frozenset[str] = frozenset({"interaction"})


def is_scheme(dim: str) -> bool:
    return re.fullmatch(SCHEME_PATTERN, dim) is not None


COUNTING_RULE = (
    "An event with several actors (or reported by several outlets) counts once in each of "
    "their groups, so with `group_by=actor` or `outlet` the groups add up to more than the "
    "events; an event without any counts in the group whose id is null. Several articles "
    "of one outlet count once for it."
)


class MetricsQuery(EventFilter):
    metrics: list[Metric] | None = Field(
        default=None,
        description=(
            "What to compute per row, repeated or comma-separated; `count` and the three "
            "fatality sums by default. `count`: events (incidents with `count=incidents`); "
            "`fatalities`: sum of `fatalities_best`; `fatalities_low`, `fatalities_high`: sums "
            "of those estimates; `deaths_a`, `deaths_b`, `deaths_civilians`, `deaths_unknown`: "
            "sums of the fatalities by whom (UCDP's split); an unknown figure counts as 0. "
            "`disputed`: events whose sources disagree; `sources_mean`, `outlets_mean`: the "
            "mean number of articles and of distinct outlets reporting an event (two "
            "decimals; null for a row without events)."
        ),
        examples=[["count", "fatalities"]],
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics_list(cls, value: Any) -> Any:
        return split_commas(value)

    def chosen_metrics(self) -> list[Metric]:
        return list(self.metrics) if self.metrics else list(DEFAULT_METRICS)


GroupName = Annotated[
    str,
    Pattern(
        f"^({'|'.join(DIMENSIONS)})$|{SCHEME_PATTERN}",
        "group_by takes " + ", ".join(DIMENSIONS) + ", or a dataset's scheme such as "
        "ucdp.type_of_violence (GET /v1/vocabulary lists them)",
    ),
]
SortName = Annotated[str, StringConstraints(min_length=1, max_length=60)]


class EventStatsQuery(MetricsQuery):
    """GET /v1/stats/events: the events list's filters, then how to bucket and group them."""

    interval: Interval | None = Field(
        default=None,
        description=(
            "Time buckets on `date_start`: `day`, `week` (ISO weeks, Monday to Sunday), "
            "`month` or `year`, each labelled by its first day. Every bucket from the one "
            "holding `date_from` to the one holding `date_to` is present, empty ones with "
            "zeros; a bound not given is the first (last) day of the bucket holding the "
            "earliest (latest) matching event."
        ),
        examples=["month"],
    )
    group_by: list[GroupName] | None = Field(
        default=None,
        max_length=2,
        description=(
            "One or two dimensions, repeated or comma-separated: `event_type`, "
            "`sub_event_type`, `country` (ISO code of the event's place), `admin1` (the "
            "first-level division containing the event's place, or the place itself; events "
            "located only at the country level are the `country-level` row, with a null id), "
            "`place`, `actor` (with its kind and country), `outlet` (through the event's "
            "source articles), `date_precision`, `interaction` (with its label), `actor_kind` "
            "(the kinds of the event's actors), or a dataset's scheme from GET "
            "/v1/vocabulary (`ucdp.type_of_violence`, `ucdp.conflict`, `acled.tags` ...: the "
            "code and its label). " + COUNTING_RULE
        ),
        examples=[["event_type"]],
    )
    format: Literal["json", "csv"] | None = Field(
        default=None,
        description=(
            "`json`, or `csv`: the same rows as a flat table with a header line. Overrides "
            "`Accept` (`text/csv` gives the CSV too)."
        ),
        examples=["csv"],
    )
    # -- issue 12: dashboards' top-N, and coarse dates spread over their buckets
    sort: list[SortName] | None = Field(
        default=None,
        description=(
            "Order of the rows: metrics (`count`, `fatalities` ...) or dimensions (by name or "
            "code), `-` for descending, comma-separated for ties; with an `interval` the "
            "order applies within each bucket. Default: by bucket, then each group's name."
        ),
        examples=[["-count"]],
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description=(
            "At most this many groups (the first in `sort`'s order: a top N); with an "
            "`interval`, within each bucket (groups outside a bucket's top N are not filled "
            "in with zeros there)."
        ),
        examples=[10],
    )
    spread: bool = Field(
        default=False,
        description=(
            "With an `interval`: share each event's count and fatalities out over the "
            "buckets its `[date_start, date_end]` covers, in proportion to its days in each "
            "(a year-precision event adds 31/365 of itself to January). The figures are then "
            "decimals (rounded to 6 places); shares outside `date_from`..`date_to` are left "
            "out. Without `spread` every figure is an integer."
        ),
        examples=[True],
    )

    @field_validator("group_by", "sort", mode="before")
    @classmethod
    def _group_by_list(cls, value: Any) -> Any:
        return split_commas(value)

    @model_validator(mode="after")
    def _consistent(self) -> EventStatsQuery:
        dims = self.group_by or []
        if "actor" in dims and "actor_kind" in dims:
            raise PydanticCustomError(
                "group_by_overlap",
                "group_by actor already gives each actor's kind: group by actor or actor_kind",
                {},
            )
        if self.spread and self.interval is None:
            raise PydanticCustomError("spread_needs_interval", "spread needs an interval", {})
        for key in self.sort or []:
            name = key.removeprefix("-")
            allowed = ["bucket", *self.chosen_metrics(), *dims]
            if name not in allowed:
                raise PydanticCustomError(
                    "unknown_sort",
                    "sort {key!r}: sort by the bucket, a metric asked for or a group_by "
                    "dimension: one of {allowed}",
                    {"key": key, "allowed": ", ".join(allowed)},
                )
        return self


class PlaceStatsQuery(MetricsQuery):
    """GET /v1/stats/places: the events list's filters, totalled per place for a map."""

    format: Literal["geojson", "csv"] | None = Field(
        default=None,
        description="`geojson` (the default), or `csv`: the features as a table. Overrides `Accept`.",
        examples=["csv"],
    )

    level: Level = Field(
        default="place",
        description=(
            "`place`: each event at its own place; `admin1` or `country`: each event rolled "
            "up to the first-level division or country containing its place (the place "
            "itself when it is one), drawn at that place's coordinates."
        ),
        examples=["admin1"],
    )


# -- responses (for the OpenAPI document; the routes serialise plain dicts with orjson) ---------


class EventStatsRow(BaseModel):
    """One row: a bucket and/or a group, with the metrics asked for.

    Only the keys of the interval, the `group_by` dimensions and the `metrics` asked for are
    present; a record dimension gives its id and name (`actor_id`, `actor_name`).
    """

    model_config = ConfigDict(extra="allow")

    bucket: date | None = Field(
        default=None, description="First day of the time bucket.", examples=["2018-04-01"]
    )
    event_type: str | None = Field(default=None, examples=["Battles"])
    sub_event_type: str | None = Field(default=None, examples=["Armed clash"])
    country: str | None = Field(default=None, examples=["SY"])
    admin1_id: int | None = Field(default=None, examples=[2])
    admin1_name: str | None = Field(default=None, examples=["Rif Dimashq"])
    place_id: int | None = Field(default=None, examples=[4])
    place_name: str | None = Field(default=None, examples=["Jabal Sharqi"])
    actor_id: int | None = Field(default=None, examples=[1])
    actor_name: str | None = Field(default=None, examples=["Unified Command"])
    outlet_id: int | None = Field(default=None, examples=[1])
    outlet_name: str | None = Field(default=None, examples=["Syria Direct"])
    count: int | None = Field(
        default=None, description="Events (incidents with `count=incidents`).", examples=[3]
    )
    disputed: int | None = Field(default=None, description="Disputed events.", examples=[1])
    sources_mean: float | None = Field(
        default=None, description="Mean articles per event.", examples=[1.5]
    )
    outlets_mean: float | None = Field(
        default=None, description="Mean distinct outlets per event.", examples=[1.25]
    )
    fatalities: int | None = Field(
        default=None, description="Sum of fatalities_best.", examples=[10]
    )
    fatalities_low: int | None = Field(default=None, examples=[8])
    fatalities_high: int | None = Field(default=None, examples=[14])


class DatasetTerms(BaseModel):
    name: str = Field(examples=["ucdp-ged"])
    licence: str | None = Field(examples=["CC BY 4.0"])
    citation: str | None
    url: str | None


class EventStats(BaseModel):
    interval: Interval | None = Field(examples=["month"])
    group_by: list[str] = Field(examples=[["event_type"]])
    metrics: list[Metric] = Field(examples=[["count", "fatalities"]])
    date_from: date | None = Field(
        description=(
            "The range the buckets span, from: `date_from` as given, else the first day of "
            "the earliest event's bucket (null without `interval`, or without events)."
        ),
        examples=["2018-04-01"],
    )
    date_to: date | None = Field(
        description=(
            "The range the buckets span, to: `date_to` as given, else the last day of the "
            "latest event's bucket (null without `interval`, or without events)."
        ),
        examples=["2018-04-30"],
    )
    data: list[EventStatsRow] = Field(description="Sorted by bucket, then by each group.")
    datasets: list[DatasetTerms] = Field(
        default_factory=list,
        description=(
            "The datasets whose events the figures include, with the licence and citation "
            "their users owe them (issue 12)."
        ),
    )


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(
        description="[longitude, latitude] (RFC 7946).", examples=[[36.75, 33.8]]
    )


class PlaceStatsProperties(BaseModel):
    model_config = ConfigDict(extra="allow")

    place_id: int = Field(examples=[4])
    name: str = Field(examples=["Jabal Sharqi"])
    kind: str = Field(examples=["natural_feature"])
    country: str | None = Field(examples=["SY"])
    point: Literal["own", "centroid", "ancestor"] = Field(
        description=(
            "Where the point comes from: the place's own coordinates, its centroid (the mean "
            "of the located places inside it), or its nearest located ancestor's."
        ),
        examples=["own"],
    )
    above_level: str | None = Field(
        default=None,
        description=(
            "On the admin1 or country level, for the events above it: the level they are at "
            "(`country-level`)."
        ),
        examples=["country-level"],
    )
    count: int | None = Field(default=None, examples=[2])
    fatalities: int | None = Field(default=None, examples=[0])
    fatalities_low: int | None = Field(default=None, examples=[0])
    fatalities_high: int | None = Field(default=None, examples=[0])


class PlaceStatsFeature(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: PointGeometry
    properties: PlaceStatsProperties


class Unlocated(BaseModel):
    """What the map cannot show: events without a place at the level, or at a place
    without coordinates."""

    model_config = ConfigDict(extra="allow")

    places: int = Field(description="Places left out for lack of a point.", examples=[1])
    place_list: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The places without a point (the first 100), with their totals.",
    )
    count: int | None = Field(default=None, description="Events left out.", examples=[3])
    fatalities: int | None = Field(default=None, examples=[5])
    fatalities_low: int | None = Field(default=None, examples=[4])
    fatalities_high: int | None = Field(default=None, examples=[9])


class PlaceStats(BaseModel):
    type: Literal["FeatureCollection"]
    level: Level = Field(examples=["place"])
    metrics: list[Metric] = Field(examples=[["count", "fatalities"]])
    features: list[PlaceStatsFeature]
    unlocated: Unlocated
    datasets: list[DatasetTerms] = Field(
        default_factory=list,
        description="The datasets whose events the figures include, with licence and citation.",
    )
