"""Stats query and response models: aggregates of the events the events list would return."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.events.schemas import EventFilter, split_commas

Interval = Literal["day", "week", "month", "year"]
Dimension = Literal["event_type", "sub_event_type", "country", "admin1", "place", "actor", "outlet"]
Metric = Literal[
    "count",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "disputed",
    "sources_mean",
    "outlets_mean",
]
Level = Literal["place", "admin1", "country"]

# The default metrics (all four sums); the evidence metrics are given by name.
METRICS: tuple[Metric, ...] = ("count", "fatalities", "fatalities_low", "fatalities_high")
# Metrics that are means over a row's events, not sums (null for a row without events).
MEAN_METRICS: frozenset[str] = frozenset({"sources_mean", "outlets_mean"})
# Metrics the monthly rollups hold.
ROLLUP_METRICS: frozenset[str] = frozenset(METRICS)
# Dimensions that are records: their rows carry `<dim>_id` and `<dim>_name`.
RECORD_DIMENSIONS: frozenset[str] = frozenset({"admin1", "place", "actor", "outlet"})
MULTI_VALUED: frozenset[str] = frozenset({"actor", "outlet"})

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
            "of those estimates (an unknown fatality counts as 0); `disputed`: events whose "
            "sources disagree; `sources_mean`, `outlets_mean`: the mean number of articles "
            "and of distinct outlets reporting an event (two decimals; null for a row without "
            "events)."
        ),
        examples=[["count", "fatalities"]],
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics_list(cls, value: Any) -> Any:
        return split_commas(value)

    def chosen_metrics(self) -> list[Metric]:
        return list(self.metrics) if self.metrics else list(METRICS)


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
    group_by: list[Dimension] | None = Field(
        default=None,
        max_length=2,
        description=(
            "One or two dimensions, repeated or comma-separated: `event_type`, "
            "`sub_event_type`, `country` (ISO code of the event's place), `admin1` (the "
            "first-level division containing the event's place, or the place itself), "
            "`place`, `actor`, `outlet` (through the event's source articles). " + COUNTING_RULE
        ),
        examples=[["event_type"]],
    )
    format: Literal["json", "csv"] = Field(
        default="json",
        description="`json`, or `csv`: the same rows as a flat table with a header line.",
        examples=["csv"],
    )

    @field_validator("group_by", mode="before")
    @classmethod
    def _group_by_list(cls, value: Any) -> Any:
        return split_commas(value)


class PlaceStatsQuery(MetricsQuery):
    """GET /v1/stats/places: the events list's filters, totalled per place for a map."""

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


class EventStats(BaseModel):
    interval: Interval | None = Field(examples=["month"])
    group_by: list[Dimension] = Field(examples=[["event_type"]])
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

    places: int = Field(description="Places left out for lack of coordinates.", examples=[1])
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
