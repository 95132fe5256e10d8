"""Rules for stats: time buckets and their bounds, the row limit, zero-filling and order, and
which table answers (the rollup table when the query allows it, the events otherwise)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.core.errors import Unprocessable
from app.events import repository as event_repository
from app.events.schemas import EventFilter
from app.formats import csvfile
from app.models.derived import NO_SUB_EVENT_TYPE
from app.stats import repository
from app.stats.schemas import (
    MEAN_METRICS,
    RECORD_DIMENSIONS,
    ROLLUP_METRICS,
    Dimension,
    EventStatsQuery,
    Interval,
    Metric,
    PlaceStatsQuery,
)


class TooManyRows(Unprocessable):
    slug, title = "too-many-rows", "The answer would be too large"


# -- time buckets ------------------------------------------------------------------------------


def bucket_start(day: date, interval: Interval) -> date:
    """The first day of the bucket holding ``day`` (weeks start on Monday, as ISO's)."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def next_bucket(start: date, interval: Interval) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def bucket_count(low: date, high: date, interval: Interval) -> int:
    """How many buckets span low..high (both included), without listing them."""
    first, last = bucket_start(low, interval), bucket_start(high, interval)
    if last < first:
        return 0
    if interval == "day":
        return (last - first).days + 1
    if interval == "week":
        return (last - first).days // 7 + 1
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return last.year - first.year + 1


def bucket_end(start: date, interval: Interval) -> date:
    """The last day of the bucket starting on ``start`` (the calendar's last at its end)."""
    try:
        return next_bucket(start, interval) - timedelta(days=1)
    except (OverflowError, ValueError):  # the bucket holding 9999-12-31
        return date.max


def bucket_starts(low: date, high: date, interval: Interval) -> list[date]:
    first, last = bucket_start(low, interval), bucket_start(high, interval)
    out = []
    start = first
    while start <= last:
        out.append(start)
        if start == last:  # no step past the last: it may be the calendar's last bucket
            break
        start = next_bucket(start, interval)
    return out


# -- GET /v1/stats/events ----------------------------------------------------------------------

# What the monthly rollups (``event_rollup``) can answer: they hold active events by month,
# country, admin1, type and sub-type. Any other filter given sends the query to the events.
ROLLUP_INTERVALS: frozenset[Interval | None] = frozenset({None, "month", "year"})
ROLLUP_DIMENSIONS: frozenset[str] = frozenset({"event_type", "sub_event_type", "country", "admin1"})
ROLLUP_FILTERS: frozenset[str] = frozenset(
    {
        "date_from",
        "date_to",
        "country",
        "place",
        "event_type",
        "sub_event_type",
        "include_retracted",
    }
)


class Source(Protocol):
    """Rows to aggregate (see ``app.stats.repository``), for an interval, groups and metrics."""

    def __call__(
        self, interval: Interval | None, dims: Sequence[Dimension], metrics: Sequence[Metric]
    ) -> Select[Any]: ...


def _too_many(limit: int, rows: int | None = None) -> TooManyRows:
    """The 422 for an answer over the limit (``rows``, when known without fetching them)."""
    size = f"{rows:,} rows" if rows is not None else f"more than {limit:,} rows"
    return TooManyRows(
        f"The answer would have {size}; the limit is {limit:,} (stats_max_buckets). Narrow "
        "the date range, choose a coarser interval, or group by fewer or smaller dimensions.",
        limit=limit,
    )


def _sort_key(dims: Sequence[Dimension]) -> Any:
    """Bucket first, then each group by its name (or value), nulls last, ids breaking ties."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = [row.get("bucket") or date.min]
        for dim in dims:
            if dim in RECORD_DIMENSIONS:
                ident, name = row[f"{dim}_id"], row[f"{dim}_name"]
                parts.append((ident is None, name or "", ident or 0))
            else:
                value = row[dim]
                parts.append((value is None, value or ""))
        return tuple(parts)

    return key


def event_stats(
    session: Session, q: EventStatsQuery, *, max_rows: int, use_rollups: bool = True
) -> dict[str, Any]:
    """The rows of GET /v1/stats/events, sorted and zero-filled, with the range they span.

    ``use_rollups=False`` always reads the events (the rollups must agree with them).
    """
    q = event_repository.with_live_ids(session, q)
    dims: list[Dimension] = list(q.group_by or [])
    metrics = q.chosen_metrics()
    interval = q.interval
    # The rollups hold counts and fatality sums only.
    use_rollups = use_rollups and set(metrics) <= ROLLUP_METRICS
    source = (rollup_source(session, q, interval, dims) if use_rollups else None) or (
        _event_source(session, q)
    )

    low, high = q.date_from, q.date_to
    starts: list[date] | None = None
    if interval is None:
        low = high = None
    else:
        if low is None or high is None:
            # A bound not given is the edge of the bucket holding the first (last) event.
            first, last = repository.date_range(session, source(None, (), ()))
            if low is None and first is not None:
                low = bucket_start(first, interval)
            if high is None and last is not None:
                high = bucket_end(bucket_start(last, interval), interval)
        if low is None or high is None:  # no matching events, and a bound not given
            low = high = None
            starts = []
        else:
            n = bucket_count(low, high, interval)
            if n > max_rows:
                raise _too_many(max_rows, n)
            starts = bucket_starts(low, high, interval)

    if dims and starts:
        # Every group that appears gets every bucket: check the product before aggregating.
        most_groups = max_rows // len(starts)
        groups = repository.count_groups(
            session, source(None, dims, ()), dims=dims, limit=most_groups + 1
        )
        if groups > most_groups:
            raise _too_many(max_rows)

    rows: list[dict[str, Any]] = []
    if starts != []:
        rows = repository.aggregate(
            session,
            source(interval, dims, metrics),
            interval=interval,
            dims=dims,
            metrics=metrics,
            # Without zero-filling the rows are the answer: fetching one more tells.
            limit=max_rows + 1 if starts is None else None,
        )
        if starts is None and len(rows) > max_rows:
            raise _too_many(max_rows)
    if starts:
        rows = _zero_filled(rows, starts, dims, metrics)
    _round_means(rows, metrics)
    rows.sort(key=_sort_key(dims))
    return {
        "interval": interval,
        "group_by": dims,
        "metrics": metrics,
        "date_from": low,
        "date_to": high,
        "data": rows,
    }


def _zero_filled(
    rows: list[dict[str, Any]],
    starts: list[date],
    dims: Sequence[Dimension],
    metrics: Sequence[Metric],
) -> list[dict[str, Any]]:
    """Every bucket for every group that has events (the single group when not grouping)."""
    names = repository.group_columns(dims)
    found = {(row["bucket"], tuple(row[n] for n in names)): row for row in rows}
    groups = list(dict.fromkeys(group for _, group in found)) if dims else [()]
    # A bucket without events: no event to count or sum (0), none to average (null).
    zeros: dict[str, int | None] = {m: None if m in MEAN_METRICS else 0 for m in metrics}
    out = []
    for group in groups:
        for start in starts:
            row = found.get((start, group))
            if row is None:
                row = {"bucket": start, **dict(zip(names, group, strict=True)), **zeros}
            out.append(row)
    return out


def _round_means(rows: list[dict[str, Any]], metrics: Sequence[Metric]) -> None:
    means = [m for m in metrics if m in MEAN_METRICS]
    for row in rows:
        for m in means:
            if row[m] is not None:
                row[m] = round(float(row[m]), 2)


def _event_source(session: Session, q: EventFilter) -> Source:
    def rows(
        interval: Interval | None, dims: Sequence[Dimension], metrics: Sequence[Metric]
    ) -> Select[Any]:
        return repository.event_rows(session, q, interval=interval, dims=dims, metrics=metrics)

    return rows


def rollup_source(
    session: Session, q: EventFilter, interval: Interval | None, dims: Sequence[Dimension]
) -> Source | None:
    """The monthly rollups as a source when they give exactly what the events would, else None.

    They can answer an interval of month or year (or none), groups among event_type,
    sub_event_type, country and admin1, and the filters date_from/date_to on month
    boundaries, country, place (a country or an admin1), event_type and sub_event_type,
    retracted events left out. Any other filter the events list has, now or later, is
    given a value other than its default only by a query the rollups cannot answer.
    """
    if interval not in ROLLUP_INTERVALS or not set(dims) <= ROLLUP_DIMENSIONS:
        return None
    if q.include_retracted:
        return None
    for name, field in EventFilter.model_fields.items():
        if name not in ROLLUP_FILTERS and getattr(q, name) != field.get_default(
            call_default_factory=True
        ):
            return None
    if q.date_from is not None and q.date_from.day != 1:
        return None
    # The rollups hold whole months: date_to must be a month's last day (9999-12-31 too).
    if q.date_to is not None and bucket_end(q.date_to.replace(day=1), "month") != q.date_to:
        return None
    countries = [q.country] if q.country is not None else None
    admin1_within = None
    if q.place is not None:
        place = repository.place_for_rollup(session, q.place)
        if place is None:
            return None
        if place["kind"] == "admin1":
            admin1_within = place["id"]
        elif (
            place["kind"] == "country"
            and place["country"] is not None
            and repository.country_is_closed(session, place["id"], place["country"])
        ):
            code = place["country"]
            countries = [code] if countries is None else [c for c in countries if c == code]
        else:
            return None
    if q.sub_event_type and NO_SUB_EVENT_TYPE in q.sub_event_type:
        return None  # the rollups' "no sub-type" would match it; the events' NULL does not
    months = (q.date_from, q.date_to.replace(day=1) if q.date_to is not None else None)
    event_types, sub_event_types = q.event_type, q.sub_event_type

    def rows(
        interval: Interval | None, dims: Sequence[Dimension], metrics: Sequence[Metric]
    ) -> Select[Any]:
        return repository.rollup_rows(
            session,
            interval=interval,
            dims=dims,
            metrics=metrics,
            months=months,
            countries=countries,
            admin1_within=admin1_within,
            event_types=event_types,
            sub_event_types=sub_event_types,
        )

    return rows


def to_csv(stats: dict[str, Any]) -> str:
    """The rows as a flat table: bucket, group columns, metrics; empty cells for nulls."""
    header = ["bucket"] if stats["interval"] else []
    header += repository.group_columns(stats["group_by"])
    header += stats["metrics"]
    rows = (["" if row[c] is None else row[c] for c in header] for row in stats["data"])
    return "".join(csvfile.write_rows(itertools.chain([header], rows)))


# -- GET /v1/stats/places ----------------------------------------------------------------------


def place_stats(session: Session, q: PlaceStatsQuery, *, max_rows: int) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of metric totals per place with coordinates."""
    q = event_repository.with_live_ids(session, q)
    metrics = q.chosen_metrics()
    places = repository.located_place_totals(
        session, q, level=q.level, metrics=metrics, limit=max_rows + 1
    )
    if len(places) > max_rows:
        raise _too_many(max_rows)
    unlocated = repository.unlocated_totals(session, q, level=q.level, metrics=metrics)
    _round_means([*places, unlocated], metrics)  # type: ignore[list-item]
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "id": p["place_id"],
            "geometry": {"type": "Point", "coordinates": [p["longitude"], p["latitude"]]},
            "properties": {
                "place_id": p["place_id"],
                "name": p["name"],
                "kind": p["kind"],
                "country": p["country"],
                **{m: p[m] for m in metrics},
            },
        }
        for p in places
    ]
    return {
        "type": "FeatureCollection",
        "level": q.level,
        "metrics": metrics,
        "features": features,
        "unlocated": unlocated,
    }
