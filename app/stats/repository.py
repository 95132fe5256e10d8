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
from collections.abc import Iterator, Sequence
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
    literal,
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
    DimensionCode,
    DimensionScheme,
    Event,
    EventActor,
    EventDimension,
    EventRollup,
    EventSource,
    InteractionCode,
    Outlet,
    Place,
    PlaceAncestor,
)
from app.models.derived import NO_COUNTRY, NO_SUB_EVENT_TYPE
from app.places import repository as place_repository
from app.stats.schemas import (
    LABELLED_DIMENSIONS,
    MEAN_METRICS,
    RECORD_DIMENSIONS,
    Interval,
    Level,
    Metric,
    is_scheme,
)

# Each metric's per-event input (the sums treat an unknown fatality as 0) and rollup column.
_EVENT_INPUTS: dict[Metric, Any] = {
    "count": literal_column("1", Integer),
    "fatalities": Event.fatalities_best,
    "fatalities_low": Event.fatalities_low,
    "fatalities_high": Event.fatalities_high,
    "deaths_a": Event.deaths_a,
    "deaths_b": Event.deaths_b,
    "deaths_civilians": Event.deaths_civilians,
    "deaths_unknown": Event.deaths_unknown,
    "disputed": case((Event.disputed, 1), else_=0),
    "sources_mean": Event.source_count,
    "outlets_mean": Event.outlet_count,
}
# The label of the bucket of events above admin1 (at a country, or a place outside any
# admin1): they have no admin1, but they have a place (issue 12).
ABOVE_ADMIN1 = "country-level"
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


def group_columns(dims: Sequence[str]) -> list[str]:
    """The row keys naming a group: a record dimension's id and name (an actor's kind and
    country too), a coded one's code and label (interaction, a dataset's scheme), another's
    value."""
    names: list[str] = []
    for dim in dims:
        if dim in RECORD_DIMENSIONS:
            names += [f"{dim}_id", f"{dim}_name"]
            if dim == "actor":
                names += ["actor_kind", "actor_country"]
        elif dim in LABELLED_DIMENSIONS or is_scheme(dim):
            names += [dim, f"{dim}_label"]
        else:
            names.append(dim)
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
    dims: Sequence[str],
    metrics: Sequence[Metric],
    spread: bool = False,
) -> Select[Any]:
    """The events source: one row per matching event (and actor, and outlet, when grouped
    by those), the events list's filters applied. ``spread``: with each event's last day
    (``day_end``), to share it out over its buckets."""
    joined = _events_joined()
    day: Any = Event.date_start
    if f.date_overlap and f.date_from is not None and not spread:
        # Events overlapping the range from before it count in its first bucket (issue 12).
        day = type_coerce(
            case((Event.date_start < f.date_from, literal(f.date_from, Date)), else_=day), Date
        )
    columns: list[ColumnElement[Any]] = [day.label("day")]
    if spread:
        columns.append(Event.date_end.label("day_end"))
    if interval is not None:
        columns.append(bucket_expression(session, day, interval).label("bucket"))
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
            above = case((Place.country.is_not(None), literal(ABOVE_ADMIN1)), else_=None)
            columns += [
                admin1.id.label("admin1_id"),
                func.coalesce(admin1.name, above).label("admin1_name"),
            ]
        elif dim == "actor":
            link, actor = aliased(EventActor), aliased(Actor, name="actor")
            joined = joined.outerjoin(link, link.event_id == Event.id)
            joined = joined.outerjoin(actor, actor.id == link.actor_id)
            columns += [
                actor.id.label("actor_id"),
                actor.name.label("actor_name"),
                actor.kind.label("actor_kind"),
                actor.country.label("actor_country"),
            ]
        elif dim in ("date_precision",):
            columns.append(getattr(Event, dim).label(dim))
        elif dim == "interaction":
            code = aliased(InteractionCode, name="interaction_code")
            joined = joined.outerjoin(code, code.name == Event.interaction)
            columns += [
                Event.interaction.label("interaction"),
                code.description.label("interaction_label"),
            ]
        elif dim == "actor_kind":
            # Distinct (event, kind): two actors of one kind count once for it.
            link, actor = aliased(EventActor), aliased(Actor)
            kinds = (
                select(link.event_id, actor.kind)
                .join(actor, actor.id == link.actor_id)
                .distinct()
                .subquery("kinds")
            )
            joined = joined.outerjoin(kinds, kinds.c.event_id == Event.id)
            columns.append(kinds.c.kind.label("actor_kind"))
        elif is_scheme(dim):
            coded = (
                select(EventDimension.event_id, DimensionCode.code, DimensionCode.label)
                .join(DimensionCode, DimensionCode.id == EventDimension.code_id)
                .where(DimensionCode.scheme == dim)
                .subquery()
            )
            joined = joined.outerjoin(coded, coded.c.event_id == Event.id)
            columns += [coded.c.code.label(dim), coded.c.label.label(f"{dim}_label")]
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


# A sort: (row key, descending), in order.
Order = Sequence[tuple[str, bool]]


def aggregate(
    session: Session,
    rows: Select[Any],
    *,
    interval: Interval | None,
    dims: Sequence[str],
    metrics: Sequence[Metric],
    limit: int | None = None,
    order: Order = (),
    top: int | None = None,
) -> list[dict[str, Any]]:
    """Metric totals per (bucket, groups) of a source's rows; at most ``limit`` of them.

    ``order`` and ``top`` (issue 12): only the first ``top`` groups in that order, within each
    bucket with an interval (a window function, on both databases), so a top ten of
    thousands of groups is cut in the database.
    """
    sub = rows.subquery("rows")
    names = group_columns(dims)
    keys = [sub.c[name] for name in (["bucket"] if interval else []) + names]
    stmt = select(*keys, *_totals(sub, metrics)).select_from(sub)
    if keys:
        stmt = stmt.group_by(*keys)
    if top is not None:
        totals = stmt.subquery("totals")
        ranking: list[Any] = []
        for name, descending in order:
            column = totals.c[name]
            ranking.append((column.desc() if descending else column.asc()).nulls_last())
        # Ties as the answer orders them: each group by its name (or value), then its id.
        for dim in dims:
            tied = [f"{dim}_name", f"{dim}_id"] if dim in RECORD_DIMENSIONS else [dim]
            ranking += [totals.c[name].asc().nulls_last() for name in tied]
        rank = func.row_number().over(
            partition_by=totals.c.bucket if interval else None, order_by=ranking
        )
        ranked = select(totals, rank.label("rank")).subquery("ranked")
        stmt = select(*(ranked.c[c.name] for c in totals.c)).where(ranked.c.rank <= top)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r) for r in session.execute(stmt).mappings()]


def date_range(
    session: Session, rows: Select[Any], *, end: str = "day"
) -> tuple[date | None, date | None]:
    """The earliest ``day`` and the latest ``end`` (``day``, or ``day_end`` of a spread
    source) of a source's rows (None, None when there are none)."""
    sub = rows.subquery("rows")
    low, high = session.execute(select(func.min(sub.c.day), func.max(sub.c[end]))).one()
    return _as_date(low), _as_date(high)


def rows(session: Session, stmt: Select[Any]) -> Iterator[dict[str, Any]]:
    """A source's rows one by one, as dicts (spread shares them out in Python)."""
    result = session.execute(stmt)
    keys = list(result.keys())
    for row in result:
        yield dict(zip(keys, row, strict=True))


def scheme_names(session: Session) -> set[str]:
    return set(session.scalars(select(DimensionScheme.name)))


def datasets_of(session: Session, f: EventFilter) -> list[dict[str, Any]]:
    """The datasets behind the matching events, with licence and citation (issue 12)."""
    return event_repository.datasets_of(session, f)


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
    dims: Sequence[str],
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
        # A rollup row's month is its first day: a month's bucket is the month itself, with
        # no date arithmetic per row for the database to do before grouping.
        bucket = r.month if interval == "month" else bucket_expression(session, r.month, interval)
        columns.append(bucket.label("bucket"))
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
            above = case((r.country != NO_COUNTRY, literal(ABOVE_ADMIN1)), else_=None)
            columns += [
                admin1.id.label("admin1_id"),
                func.coalesce(admin1.name, above).label("admin1_name"),
            ]
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


def _root_of() -> FromClause:
    """(place_id, ancestor_id): each place's outermost ancestor (itself at the top)."""
    link, ancestor = aliased(PlaceAncestor), aliased(Place)
    return (
        select(link.place_id, link.ancestor_id)
        .join(ancestor, ancestor.id == link.ancestor_id)
        .where(ancestor.parent_id.is_(None))
        .subquery("root_of")
    )


def _place_rows(f: EventFilter, level: Level, metrics: Sequence[Metric]) -> Select[Any]:
    """One row per place the matching events count at on this level, with the metric inputs
    of its events summed (the callers sum them again per place on the level).

    On a level above the place, an event counts at its nearest ancestor of that kind, or
    (issue 12) when it has none, at its outermost one: a country-level event at its
    country on the admin1 map, rather than nowhere.

    The events are totalled per place first, and only those few thousand rows go up the
    gazetteer: joining every event to its ancestor of a kind (a NOT EXISTS over the closure
    table per row) took over 30 s for 100,000 events on SQLite, the map's first request.
    """
    per_place = (
        select(
            Event.place_id.label("place_id"),
            *_totals_of(_event_inputs(metrics), metrics),
            func.count().label(EVENTS),
        )
        .select_from(Event)
        .where(*event_repository.filter_clauses(f))
        .group_by(Event.place_id)
        .subquery("per_place")
    )
    sums = [per_place.c[m] for m in (*metrics, EVENTS)]
    if level == "place":
        return select(per_place.c.place_id.label("at_id"), *sums)
    ancestor_of, root_of = _ancestor_of_kind(level), _root_of()
    at = func.coalesce(ancestor_of.c.ancestor_id, root_of.c.ancestor_id)
    return select(at.label("at_id"), *sums).select_from(
        per_place.outerjoin(ancestor_of, ancestor_of.c.place_id == per_place.c.place_id).outerjoin(
            root_of, root_of.c.place_id == per_place.c.place_id
        )
    )


def _totals_of(inputs: Sequence[ColumnElement[Any]], metrics: Sequence[Metric]) -> list[Any]:
    # A mean metric's input is summed too: the service divides by the events (``EVENTS``).
    return [func.sum(column).label(m) for column, m in zip(inputs, metrics, strict=True)]


# The number of events behind a place's totals, beside the metrics: a mean metric's row holds
# its input's sum, which ``place_means`` turns into the mean over these events.
EVENTS = "_events"


def _place_sums(rows: FromClause, metrics: Sequence[Metric]) -> list[ColumnElement[Any]]:
    return [
        cast(func.coalesce(func.sum(rows.c[m]), 0), BigInteger).label(m) for m in (*metrics, EVENTS)
    ]


def place_means(totals: dict[str, Any], metrics: Sequence[Metric]) -> None:
    """A place's (or the unlocated events') mean metrics from their sums and ``EVENTS``,
    rounded to two decimals (null without events); ``EVENTS`` is then dropped."""
    events = totals.pop(EVENTS, None)
    for m in metrics:
        if m in MEAN_METRICS:
            totals[m] = round(totals[m] / events, 2) if events else None


class MetricTotals(TypedDict, total=False):
    """A total per metric asked for (``_totals``): the keys are the ``Metric`` names given."""

    count: int
    fatalities: int
    fatalities_low: int
    fatalities_high: int
    deaths_a: int
    deaths_b: int
    deaths_civilians: int
    deaths_unknown: int
    disputed: int
    sources_mean: float | None
    outlets_mean: float | None


def place_totals(
    session: Session, f: EventFilter, *, level: Level, metrics: Sequence[Metric], limit: int
) -> list[dict[str, Any]]:
    """The metric totals per place events count at on the level (``at_id``; None for the
    events without a place), at most ``limit`` places; a mean metric as its sum, beside the
    events behind it (``EVENTS``: see ``place_means``)."""
    rows = _place_rows(f, level, metrics).subquery("rows")
    stmt = (
        select(rows.c.at_id, *_place_sums(rows, metrics))
        .group_by(rows.c.at_id)
        .order_by(rows.c.at_id.nulls_first())
        .limit(limit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def rollup_place_totals(
    session: Session, source_rows: Select[Any], metrics: Sequence[Metric], *, limit: int
) -> list[dict[str, Any]] | None:
    """``place_totals`` on the admin1 level from the monthly rollups (``rollup_rows`` grouped
    by admin1), or None when some of the events have no admin1: the rollups hold those
    under no admin1 (None), and cannot say at which outermost place each counts."""
    sub = source_rows.subquery("rollup")
    stmt = (
        select(sub.c.admin1_id.label("at_id"), *_totals(sub, metrics))
        .group_by(sub.c.admin1_id)
        .order_by(sub.c.admin1_id.nulls_first())
        .limit(limit)
    )
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    if rows and rows[0]["at_id"] is None:
        return None
    return rows


class PlacePoint(TypedDict):
    id: int
    name: str
    kind: str
    country: str | None
    latitude: float | None
    longitude: float | None
    point: str | None  # own, centroid or ancestor; None without one


def place_points(session: Session, place_ids: Sequence[int]) -> dict[int, PlacePoint]:
    """Each place with the point a map draws it at (issue 12): its own coordinates, else its
    centroid (the mean of the located places inside it), else the nearest ancestor's own or
    centroid."""
    out: dict[int, PlacePoint] = {}
    link, ancestor = aliased(PlaceAncestor), aliased(Place)
    for chunk in _chunks(sorted(set(place_ids))):
        for row in session.execute(
            select(Place.id, Place.name, Place.kind, Place.country).where(Place.id.in_(chunk))
        ).mappings():
            out[row["id"]] = {**row, "latitude": None, "longitude": None, "point": None}  # type: ignore[typeddict-item]
        for place_id, depth, lat, lon, c_lat, c_lon in session.execute(
            select(
                link.place_id,
                link.depth,
                ancestor.latitude,
                ancestor.longitude,
                ancestor.centroid_latitude,
                ancestor.centroid_longitude,
            )
            .join(ancestor, ancestor.id == link.ancestor_id)
            .where(
                link.place_id.in_(chunk),
                or_(ancestor.latitude.is_not(None), ancestor.centroid_latitude.is_not(None)),
            )
            .order_by(link.place_id, link.depth)
        ):
            place = out[place_id]
            if place["point"] is not None:
                continue  # a nearer one was found
            if lat is not None:
                place["latitude"], place["longitude"] = lat, lon
                place["point"] = "own" if depth == 0 else "ancestor"
            else:
                place["latitude"], place["longitude"] = c_lat, c_lon
                place["point"] = "centroid" if depth == 0 else "ancestor"
    return out


def _chunks(ids: Sequence[int], size: int = 1000) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
