"""All SQL for stats: one GROUP BY over the rows of a source, the events or the rollups.

A source is a SELECT with one row per unit to add up, under fixed labels: ``day`` (for the
date range), ``bucket``, the group columns (``event_type``, ``actor_id``, ``actor_name``
...), ``n`` (events) and the fatality inputs. The events source has one row per matching
event (per event and actor, or outlet, when grouping by those); the rollup source one per
monthly ``event_rollup`` row. The aggregate groups that derived table by its columns, not
by expressions: on PostgreSQL `date_trunc($1, ...)` in the select list and
`date_trunc($2, ...)` in GROUP BY would be different expressions.
"""

from __future__ import annotations

import typing  # typing.cast: here `cast` is SQLAlchemy's
from collections.abc import Sequence
from datetime import date
from typing import Any, TypedDict

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased

from app.events import repository as event_repository
from app.events.schemas import EventFilter
from app.models import (
    Actor,
    Article,
    Event,
    EventActor,
    EventRollup,
    EventSource,
    Outlet,
    Place,
    PlaceAncestor,
)
from app.models.derived import NO_COUNTRY, NO_SUB_EVENT_TYPE
from app.places import repository as place_repository
from app.stats.schemas import MEAN_METRICS, RECORD_DIMENSIONS, Dimension, Interval, Level, Metric

# Each metric's per-event input (the sums treat an unknown fatality as 0) and rollup column.
_EVENT_INPUTS: dict[Metric, Any] = {
    "count": literal_column("1", Integer),
    "fatalities": Event.fatalities_best,
    "fatalities_low": Event.fatalities_low,
    "fatalities_high": Event.fatalities_high,
    "disputed": case((Event.disputed, 1), else_=0),
    "sources_mean": Event.source_count,
    "outlets_mean": Event.outlet_count,
}
_ROLLUP_INPUTS: dict[Metric, Any] = {
    "count": EventRollup.events,
    "fatalities": EventRollup.fatalities_best,
    "fatalities_low": EventRollup.fatalities_low,
    "fatalities_high": EventRollup.fatalities_high,
}


def bucket_expression(
    session: Session, day: SQLColumnExpression[date], interval: Interval
) -> SQLColumnExpression[date]:
    """The first day of the time bucket of the date column ``day``, on this session's database.

    Weeks are ISO weeks (Monday first) on both. SQLite stores dates as ISO text, so its
    buckets are computed with strftime/julianday and read back as dates.
    """
    if interval == "day":
        return day
    if session.get_bind().dialect.name == "postgresql":
        # A timestamp without time zone, so the session's TimeZone cannot shift the day.
        return cast(func.date_trunc(interval, cast(day, DateTime())), Date)
    if interval == "month":
        text = func.strftime("%Y-%m-01", day)
    elif interval == "year":
        text = func.strftime("%Y-01-01", day)
    else:  # week: back to Monday (strftime %w: 0 is Sunday)
        weekday = (cast(func.strftime("%w", day), Integer) + 6) % 7
        text = func.date(func.julianday(day) - weekday)
    return type_coerce(text, Date)


def group_columns(dims: Sequence[Dimension]) -> list[str]:
    """The row keys naming a group: a record dimension's id and name, another's value."""
    names: list[str] = []
    for dim in dims:
        names += [f"{dim}_id", f"{dim}_name"] if dim in RECORD_DIMENSIONS else [dim]
    return names


def _ancestor_of_kind(kind: str) -> FromClause:
    """(place_id, ancestor_id): each place's nearest ancestor of ``kind``, itself included."""
    link, ancestor = aliased(PlaceAncestor), aliased(Place)
    nearer_link, nearer = aliased(PlaceAncestor), aliased(Place)
    # A gazetteer could nest a kind in itself; the nearest one wins, so no event counts twice
    # (the writer's rollups pick the same one).
    nearer_exists = exists().where(
        nearer_link.place_id == link.place_id,
        nearer_link.depth < link.depth,
        nearer.id == nearer_link.ancestor_id,
        nearer.kind == kind,
    )
    return (
        select(link.place_id, link.ancestor_id)
        .join(ancestor, ancestor.id == link.ancestor_id)
        .where(ancestor.kind == kind, ~nearer_exists)
        .subquery(f"{kind}_of")
    )


def _events_joined() -> FromClause:
    # The event's place, for the country and place columns (the filters need no join).
    return Event.__table__.outerjoin(Place, Place.id == Event.place_id)


def event_rows(
    session: Session,
    f: EventFilter,
    *,
    interval: Interval | None,
    dims: Sequence[Dimension],
    metrics: Sequence[Metric],
) -> Select[Any]:
    """The events source: one row per matching event (and actor, and outlet, when grouped
    by those), the events list's filters applied."""
    joined = _events_joined()
    columns: list[ColumnElement[Any]] = [Event.date_start.label("day")]
    if interval is not None:
        columns.append(bucket_expression(session, Event.date_start, interval).label("bucket"))
    for dim in dims:
        if dim in ("event_type", "sub_event_type"):
            columns.append(getattr(Event, dim).label(dim))
        elif dim == "country":
            columns.append(Place.country.label("country"))
        elif dim == "place":
            columns += [Event.place_id.label("place_id"), Place.name.label("place_name")]
        elif dim == "admin1":
            admin1_of, admin1 = _ancestor_of_kind("admin1"), aliased(Place, name="admin1")
            joined = joined.outerjoin(admin1_of, admin1_of.c.place_id == Event.place_id)
            joined = joined.outerjoin(admin1, admin1.id == admin1_of.c.ancestor_id)
            columns += [admin1.id.label("admin1_id"), admin1.name.label("admin1_name")]
        elif dim == "actor":
            link, actor = aliased(EventActor), aliased(Actor, name="actor")
            joined = joined.outerjoin(link, link.event_id == Event.id)
            joined = joined.outerjoin(actor, actor.id == link.actor_id)
            columns += [actor.id.label("actor_id"), actor.name.label("actor_name")]
        elif dim == "outlet":
            # Distinct (event, outlet): two articles of one outlet count once for it.
            reported = (
                select(EventSource.event_id, Article.outlet_id)
                .join(Article, Article.id == EventSource.article_id)
                .distinct()
                .subquery("reported")
            )
            outlet = aliased(Outlet, name="outlet")
            joined = joined.outerjoin(reported, reported.c.event_id == Event.id)
            joined = joined.outerjoin(outlet, outlet.id == reported.c.outlet_id)
            columns += [outlet.id.label("outlet_id"), outlet.name.label("outlet_name")]
        else:  # pragma: no cover - the query model allows only the names above
            raise ValueError(dim)
    columns += _event_inputs(metrics)
    return select(*columns).select_from(joined).where(*event_repository.filter_clauses(f))


def _event_inputs(metrics: Sequence[Metric]) -> list[ColumnElement[Any]]:
    return [
        (
            _EVENT_INPUTS[m]
            if m in ("count", *MEAN_METRICS)
            else func.coalesce(_EVENT_INPUTS[m], 0)
        ).label(m)
        for m in metrics
    ]


def _totals(rows: FromClause, metrics: Sequence[Metric]) -> list[ColumnElement[Any]]:
    # PostgreSQL sums bigints (the rollups') as numeric: cast back, so rows hold ints; and
    # averages integers as numeric: as a float (rounded by the service).
    return [
        (
            cast(func.avg(rows.c[m]), Float)
            if m in MEAN_METRICS
            else cast(func.coalesce(func.sum(rows.c[m]), 0), BigInteger)
        ).label(m)
        for m in metrics
    ]


def aggregate(
    session: Session,
    rows: Select[Any],
    *,
    interval: Interval | None,
    dims: Sequence[Dimension],
    metrics: Sequence[Metric],
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Metric totals per (bucket, groups) of a source's rows; at most ``limit`` of them."""
    sub = rows.subquery("rows")
    keys = [sub.c[name] for name in (["bucket"] if interval else []) + group_columns(dims)]
    stmt = select(*keys, *_totals(sub, metrics)).select_from(sub)
    if keys:
        stmt = stmt.group_by(*keys)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def count_groups(
    session: Session, rows: Select[Any], *, dims: Sequence[Dimension], limit: int
) -> int:
    """How many distinct groups a source's rows fall in, counting at most ``limit``."""
    sub = rows.subquery("rows")
    distinct = select(*(sub.c[n] for n in group_columns(dims))).distinct().limit(limit)
    return int(
        session.execute(select(func.count()).select_from(distinct.subquery("groups"))).scalar_one()
    )


def date_range(session: Session, rows: Select[Any]) -> tuple[date | None, date | None]:
    """The earliest and latest ``day`` of a source's rows (None, None when there are none)."""
    sub = rows.subquery("rows")
    low, high = session.execute(select(func.min(sub.c.day), func.max(sub.c.day))).one()
    return _as_date(low), _as_date(high)


def _as_date(value: Any) -> date | None:
    # SQLite's min()/max() of a date column come back as ISO text.
    return date.fromisoformat(value) if isinstance(value, str) else value


# -- the rollup source -------------------------------------------------------------------------


class RollupPlace(TypedDict):
    id: int
    kind: str
    country: str | None


def place_for_rollup(session: Session, place_id: int) -> RollupPlace | None:
    """The live place an id stands for: its id, kind and country code."""
    row = (
        session.execute(
            select(Place.id, Place.kind, Place.country).where(
                Place.id == place_repository.resolved_id(place_id)
            )
        )
        .mappings()
        .first()
    )
    return typing.cast(RollupPlace, dict(row)) if row else None


def country_is_closed(session: Session, country_place_id: int, code: str) -> bool:
    """Whether the places inside this country place are exactly the places with its code.

    The rollups know an event's country only by its place's code; "inside the country
    place" may be read from them only when the two agree.
    """
    inside = select(PlaceAncestor.place_id).where(PlaceAncestor.ancestor_id == country_place_id)
    mismatch = (
        select(Place.id)
        .where(
            Place.merged_into_id.is_(None),
            or_(
                and_(Place.country == code, Place.id.not_in(inside)),
                and_(Place.id.in_(inside), or_(Place.country.is_(None), Place.country != code)),
            ),
        )
        .limit(1)
    )
    return session.execute(mismatch).first() is None


def rollup_rows(
    session: Session,
    *,
    interval: Interval | None,
    dims: Sequence[Dimension],
    metrics: Sequence[Metric],
    months: tuple[date | None, date | None],
    countries: Sequence[str] | None,
    admin1_within: int | None,
    event_types: Sequence[str] | None,
    sub_event_types: Sequence[str] | None,
) -> Select[Any]:
    """The rollup source: one row per monthly rollup row the filters keep (active events only).

    ``months``: first and last month kept; ``admin1_within``: keep the events of this
    place's admin1 divisions (itself included), i.e. the events inside it.
    """
    r = EventRollup
    joined: FromClause = r.__table__
    columns: list[ColumnElement[Any]] = [r.month.label("day")]
    if interval is not None:
        columns.append(bucket_expression(session, r.month, interval).label("bucket"))
    for dim in dims:
        if dim == "event_type":
            columns.append(r.event_type.label("event_type"))
        elif dim == "sub_event_type":
            columns.append(func.nullif(r.sub_event_type, NO_SUB_EVENT_TYPE).label(dim))
        elif dim == "country":
            columns.append(func.nullif(r.country, NO_COUNTRY).label("country"))
        elif dim == "admin1":
            # NO_ADMIN1 (0) is no place's id: the outer join leaves admin1 null, as for events.
            admin1 = aliased(Place, name="admin1")
            joined = joined.outerjoin(admin1, admin1.id == r.admin1_id)
            columns += [admin1.id.label("admin1_id"), admin1.name.label("admin1_name")]
        else:  # pragma: no cover - the service sends only the dimensions above
            raise ValueError(dim)
    for metric in metrics:
        columns.append(_ROLLUP_INPUTS[metric].label(metric))
    clauses: list[ColumnElement[bool]] = []
    first, last = months
    if first is not None:
        clauses.append(r.month >= first)
    if last is not None:
        clauses.append(r.month <= last)
    if countries is not None:  # [] keeps nothing (a country filter and place disagree)
        clauses.append(r.country.in_(countries))
    if admin1_within is not None:
        divisions = (
            select(PlaceAncestor.place_id)
            .join(Place, Place.id == PlaceAncestor.place_id)
            .where(PlaceAncestor.ancestor_id == admin1_within, Place.kind == "admin1")
        )
        clauses.append(r.admin1_id.in_(divisions))
    if event_types is not None:
        clauses.append(r.event_type.in_(event_types))
    if sub_event_types is not None:
        clauses.append(r.sub_event_type.in_(sub_event_types))
    # The writer deletes a rollup row whose events all went away; never count an empty one.
    clauses.append(r.events > 0)
    return select(*columns).select_from(joined).where(*clauses)


# -- per place, for maps -----------------------------------------------------------------------


def _place_rows(f: EventFilter, level: Level, metrics: Sequence[Metric]) -> Select[Any]:
    """One row per matching event: the place it counts at on this level, and metric inputs."""
    joined = _events_joined()
    if level == "place":
        at: Any = Event.place_id
    else:
        ancestor_of = _ancestor_of_kind(level)
        joined = joined.outerjoin(ancestor_of, ancestor_of.c.place_id == Event.place_id)
        at = ancestor_of.c.ancestor_id
    columns: list[ColumnElement[Any]] = [at.label("at_id"), *_event_inputs(metrics)]
    return select(*columns).select_from(joined).where(*event_repository.filter_clauses(f))


class MetricTotals(TypedDict, total=False):
    """A total per metric asked for (``_totals``): the keys are the ``Metric`` names given."""

    count: int
    fatalities: int
    fatalities_low: int
    fatalities_high: int
    disputed: int
    sources_mean: float | None
    outlets_mean: float | None


class LocatedPlaceTotals(MetricTotals):
    place_id: int
    name: str
    kind: str
    country: str | None
    latitude: float  # only places with coordinates are selected
    longitude: float


def located_place_totals(
    session: Session, f: EventFilter, *, level: Level, metrics: Sequence[Metric], limit: int
) -> list[LocatedPlaceTotals]:
    """Per place with coordinates (on the level): its id, name, kind, country, latitude,
    longitude and the metric totals of the events it stands for; at most ``limit``."""
    rows = _place_rows(f, level, metrics).subquery("rows")
    at = aliased(Place, name="at")
    stmt = (
        select(
            at.id.label("place_id"),
            at.name,
            at.kind,
            at.country,
            at.latitude,
            at.longitude,
            *_totals(rows, metrics),
        )
        .select_from(rows)
        .join(at, at.id == rows.c.at_id)
        .where(at.latitude.is_not(None), at.longitude.is_not(None))
        .group_by(at.id, at.name, at.kind, at.country, at.latitude, at.longitude)
        .order_by(at.id)
        .limit(limit)
    )
    return typing.cast(
        list[LocatedPlaceTotals], [dict(r) for r in session.execute(stmt).mappings()]
    )


class UnlocatedTotals(MetricTotals):
    places: int


def unlocated_totals(
    session: Session, f: EventFilter, *, level: Level, metrics: Sequence[Metric]
) -> UnlocatedTotals:
    """The events a map leaves out (no place on the level, or one without coordinates):
    how many such places, and the metric totals of those events."""
    rows = _place_rows(f, level, metrics).subquery("rows")
    at = aliased(Place, name="at")
    stmt = (
        select(func.count(func.distinct(at.id)).label("places"), *_totals(rows, metrics))
        .select_from(rows)
        .outerjoin(at, at.id == rows.c.at_id)
        .where(at.latitude.is_(None))
    )
    return typing.cast(UnlocatedTotals, dict(session.execute(stmt).mappings().one()))
