"""Rules for stats: time buckets and their bounds, the row limit, zero-filling and order, and
which table answers (the rollup table when the query allows it, the events otherwise)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.core.errors import Unprocessable, ValidationProblem
from app.events import repository as event_repository
from app.events.schemas import EventFilter
from app.formats import csvfile
from app.models.derived import NO_SUB_EVENT_TYPE
from app.stats import repository
from app.stats.schemas import (
    DEFAULT_METRICS,
    DIMENSIONS,
    MEAN_METRICS,
    RECORD_DIMENSIONS,
    EventStatsQuery,
    Interval,
    Metric,
    PlaceStatsQuery,
    is_scheme,
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
ROLLUP_METRICS: frozenset[str] = frozenset(DEFAULT_METRICS)
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
        self, interval: Interval | None, dims: Sequence[str], metrics: Sequence[Metric]
    ) -> Select[Any]: ...


def _too_many(limit: int, rows: int | None = None) -> TooManyRows:
    """The 422 for an answer over the limit (``rows``, when known without fetching them)."""
    size = f"{rows:,} rows" if rows is not None else f"more than {limit:,} rows"
    return TooManyRows(
        f"The answer would have {size}; the limit is {limit:,} (stats_max_buckets). Narrow "
        "the date range, choose a coarser interval, or group by fewer or smaller dimensions.",
        limit=limit,
    )


def _sort_key(dims: Sequence[str]) -> Any:
    """Bucket first, then each group by its name (or value), nulls last, ids breaking ties."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = [row.get("bucket") or date.min]
        for dim in dims:
            if dim in RECORD_DIMENSIONS:
                ident, name = row[f"{dim}_id"], row[f"{dim}_name"]
                parts.append((name is None, name or "", ident is None, ident or 0))
            else:
                value = row[dim]
                parts.append((value is None, value or ""))
        return tuple(parts)

    return key


def _ordered(rows: list[dict[str, Any]], dims: Sequence[str], order: repository.Order) -> None:
    """``rows`` in the documented order, then (issue 12) ``sort``'s within each bucket."""
    rows.sort(key=_sort_key(dims))
    for name, descending in reversed(order):
        if name == "bucket":
            continue
        present = [r for r in rows if r[name] is not None]
        absent = [r for r in rows if r[name] is None]
        present.sort(key=lambda r: r[name], reverse=descending)
        rows[:] = present + absent  # nulls last either way
    rows.sort(key=lambda r: r.get("bucket") or date.min, reverse=_bucket_descending(order))


def _bucket_descending(order: repository.Order) -> bool:
    return any(name == "bucket" and descending for name, descending in order)


def _sort_columns(q: EventStatsQuery, dims: Sequence[str]) -> list[tuple[str, bool]]:
    """``sort`` as (row key, descending): a record dimension sorts by its name, a coded one
    by its code."""
    out = []
    for key in q.sort or []:
        name = key.removeprefix("-")
        if name in RECORD_DIMENSIONS:
            name = f"{name}_name"
        out.append((name, key.startswith("-")))
    return out


def _check_schemes(session: Session, dims: Sequence[str]) -> None:
    """A dataset's scheme named in group_by must exist (422 naming the allowed ones)."""
    schemes = [d for d in dims if is_scheme(d)]
    if not schemes:
        return
    known = repository.scheme_names(session)
    unknown = [d for d in schemes if d not in known]
    if unknown:
        message = (
            f"unknown dimension {', '.join(map(repr, unknown))}; one of "
            f"{', '.join([*DIMENSIONS, *sorted(known)])}"
        )
        raise ValidationProblem(
            message,
            errors=[{"loc": ["query", "group_by"], "msg": message, "type": "unknown_scheme"}],
        )


def event_stats(
    session: Session, q: EventStatsQuery, *, max_rows: int, use_rollups: bool = True
) -> dict[str, Any]:
    """The rows of GET /v1/stats/events, sorted and zero-filled, with the range they span.

    ``use_rollups=False`` always reads the events (the rollups must agree with them).
    """
    q = event_repository.with_live_ids(session, q)
    dims: list[str] = list(q.group_by or [])
    _check_schemes(session, dims)
    metrics = q.chosen_metrics()
    interval = q.interval
    order = _sort_columns(q, dims)
    top = q.limit if dims else None
    source = (
        rollup_source(session, q, interval, dims, metrics) if use_rollups and not q.spread else None
    ) or _event_source(session, q)

    low, high = q.date_from, q.date_to
    starts: list[date] | None = None
    if interval is None:
        low = high = None
    else:
        if low is None or high is None:
            # A bound not given is the edge of the bucket holding the first (last) event
            # (with spread, the bucket holding the last day of the latest-ending one).
            first, last = repository.date_range(
                session,
                _event_source(session, q, spread=True)(None, (), ())
                if q.spread
                else source(None, (), ()),
                end="day_end" if q.spread else "day",
            )
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

    most_groups: int | None = None
    if dims and starts:
        # Every group that appears gets every bucket (or, with a top N, N groups a bucket at
        # most): the product must fit. A top N is checked here; the groups are counted in the
        # aggregate's own rows below (one pass over the source, not a count and then the
        # aggregate: at most max_rows + 1 rows are fetched, and more than that already
        # means more groups than fit, since each group has a row in at least one bucket).
        most_groups = max_rows // len(starts)
        if top is not None and top > most_groups:
            raise _too_many(max_rows, top * len(starts))
        if top is not None:
            most_groups = None

    rows: list[dict[str, Any]] = []
    if starts != [] and q.spread:
        assert interval is not None and low is not None and high is not None and starts
        rows = _spread(session, q, interval, dims, metrics, low, high)
        if top is not None:
            rows = _top_per_bucket(rows, dims, order, top)
    elif starts != []:
        rows = repository.aggregate(
            session,
            source(interval, dims, metrics),
            interval=interval,
            dims=dims,
            metrics=metrics,
            # Without zero-filling the rows are the answer: fetching one more tells. With
            # groups to count (above), more rows than the answer may hold tell too.
            limit=max_rows + 1 if starts is None or most_groups is not None else None,
            order=order,
            top=top,
        )
        if starts is None and len(rows) > max_rows:
            raise _too_many(max_rows)
        if most_groups is not None:
            names = repository.group_columns(dims)
            if (
                len(rows) > max_rows
                or len({tuple(r[n] for n in names) for r in rows}) > most_groups
            ):
                raise _too_many(max_rows)
    if starts:
        rows = _zero_filled(rows, starts, dims, metrics, groups_everywhere=top is None)
    _round_means(rows, metrics)
    _ordered(rows, dims, order)
    return {
        "interval": interval,
        "group_by": dims,
        "metrics": metrics,
        "date_from": low,
        "date_to": high,
        "data": rows,
        "datasets": repository.datasets_of(session, q),
    }


def _spread(
    session: Session,
    q: EventStatsQuery,
    interval: Interval,
    dims: Sequence[str],
    metrics: Sequence[Metric],
    low: date,
    high: date,
) -> list[dict[str, Any]]:
    """Each event's figures shared out over the buckets its days cover, in proportion to its
    days in each (only the days from ``low`` to ``high`` count in)."""
    names = repository.group_columns(dims)
    sums: dict[tuple[Any, ...], list[float]] = {}
    for row in repository.rows(
        session, _event_source(session, q, spread=True)(None, dims, metrics)
    ):
        start, end = _day(row["day"]), _day(row["day_end"])
        days = (end - start).days + 1
        group = tuple(row[n] for n in names)
        bucket = bucket_start(max(start, low), interval)
        while bucket <= min(end, high):
            last = min(bucket_end(bucket, interval), end, high)
            share = ((last - max(bucket, start, low)).days + 1) / days
            totals = sums.setdefault((bucket, group), [0.0] * len(metrics))
            for i, metric in enumerate(metrics):
                totals[i] += share * (1 if metric == "count" else row[metric])
            if last >= date.max - timedelta(days=1):
                break
            bucket = next_bucket(bucket, interval)
    return [
        {
            "bucket": bucket,
            **dict(zip(names, group, strict=True)),
            **{m: round(v, 6) for m, v in zip(metrics, totals, strict=True)},
        }
        for (bucket, group), totals in sums.items()
    ]


def _day(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _top_per_bucket(
    rows: list[dict[str, Any]], dims: Sequence[str], order: repository.Order, top: int
) -> list[dict[str, Any]]:
    by_bucket: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_bucket.setdefault(row["bucket"], []).append(row)
    out: list[dict[str, Any]] = []
    for bucket_rows in by_bucket.values():
        _ordered(bucket_rows, dims, order)
        out += bucket_rows[:top]
    return out


def _zero_filled(
    rows: list[dict[str, Any]],
    starts: list[date],
    dims: Sequence[str],
    metrics: Sequence[Metric],
    *,
    groups_everywhere: bool = True,
) -> list[dict[str, Any]]:
    """Every bucket for every group that has events (the single group when not grouping);
    with a top N (``groups_everywhere`` False) only the rows found, and empty buckets."""
    names = repository.group_columns(dims)
    found = {(row["bucket"], tuple(row[n] for n in names)): row for row in rows}
    if not groups_everywhere and dims:
        return list(found.values())
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


def _event_source(session: Session, q: EventFilter, *, spread: bool = False) -> Source:
    def rows(
        interval: Interval | None, dims: Sequence[str], metrics: Sequence[Metric]
    ) -> Select[Any]:
        return repository.event_rows(
            session, q, interval=interval, dims=dims, metrics=metrics, spread=spread
        )

    return rows


def rollup_source(
    session: Session,
    q: EventFilter,
    interval: Interval | None,
    dims: Sequence[str],
    metrics: Sequence[Metric] = ("count",),
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
    if not set(metrics) <= ROLLUP_METRICS:  # by whom and evidence metrics are not rolled up
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
        place = repository.place_for_rollup(session, q._live_ids.get("place", 0))
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
        interval: Interval | None, dims: Sequence[str], metrics: Sequence[Metric]
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


def place_stats(
    session: Session, q: PlaceStatsQuery, *, max_rows: int, use_rollups: bool = True
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of metric totals per place, each drawn at its point.

    Issue 12: every place whose own, centroid or an ancestor's coordinates are known has a
    point (``repository.place_points``, said in each feature's ``point``); on the admin1 and
    country levels an event above the level counts at its outermost place (its country),
    whose feature says so (``above_level``: "country-level"); ``unlocated`` totals the events
    without a place or whose place has no point, and lists those places.

    Per admin1, the monthly rollups answer whatever they can (as for GET /v1/stats/events)
    when every matching event has an admin1: a map of a whole dataset's divisions without
    reading its events.
    """
    q = event_repository.with_live_ids(session, q)
    metrics = q.chosen_metrics()
    totals = None
    source = rollup_source(session, q, None, ["admin1"], metrics) if use_rollups else None
    if q.level == "admin1" and source is not None:
        totals = repository.rollup_place_totals(
            session, source(None, ["admin1"], metrics), metrics, limit=max_rows + 2
        )
    if totals is None:
        totals = repository.place_totals(
            session, q, level=q.level, metrics=metrics, limit=max_rows + 2
        )
    if len([t for t in totals if t["at_id"] is not None]) > max_rows:
        raise _too_many(max_rows)
    points = repository.place_points(
        session, [t["at_id"] for t in totals if t["at_id"] is not None]
    )
    features: list[dict[str, Any]] = []
    summed = [*metrics, repository.EVENTS]
    unlocated: dict[str, Any] = {"places": 0, **dict.fromkeys(summed, 0), "place_list": []}
    for t in totals:
        place = points.get(t["at_id"]) if t["at_id"] is not None else None
        if place is None or place["point"] is None:
            for m in summed:
                unlocated[m] += t.get(m) or 0
            repository.place_means(t, metrics)
            if place is not None:
                unlocated["places"] += 1
                if len(unlocated["place_list"]) < UNLOCATED_LISTED:
                    listed: dict[str, Any] = {
                        "id": place["id"],
                        "name": place["name"],
                        "kind": place["kind"],
                        "country": place["country"],
                        **{m: t[m] for m in metrics},
                    }
                    unlocated["place_list"].append(listed)
            continue
        repository.place_means(t, metrics)
        properties: dict[str, Any] = {
            "place_id": place["id"],
            "name": place["name"],
            "kind": place["kind"],
            "country": place["country"],
            "point": place["point"],
            **{m: t[m] for m in metrics},
        }
        if q.level != "place" and place["kind"] != q.level:
            properties["above_level"] = f"{place['kind']}-level"
        features.append(
            {
                "type": "Feature",
                "id": place["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [place["longitude"], place["latitude"]],
                },
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "level": q.level,
        "metrics": metrics,
        "features": features,
        "unlocated": _unlocated_means(unlocated, metrics),
        "datasets": repository.datasets_of(session, q),
    }


def _unlocated_means(unlocated: dict[str, Any], metrics: Sequence[Metric]) -> dict[str, Any]:
    repository.place_means(unlocated, metrics)
    return unlocated


# The places without a point that ``unlocated`` names (it counts them all).
UNLOCATED_LISTED = 100


def places_csv(stats: dict[str, Any]) -> str:
    """The features as a flat table (issue 12: Accept: text/csv on /v1/stats/places)."""
    header = [
        "place_id",
        "name",
        "kind",
        "country",
        "latitude",
        "longitude",
        "point",
        "above_level",
    ]
    header += stats["metrics"]
    rows = (
        [
            *(feature["properties"].get(c) for c in ("place_id", "name", "kind", "country")),
            feature["geometry"]["coordinates"][1],
            feature["geometry"]["coordinates"][0],
            feature["properties"]["point"],
            feature["properties"].get("above_level"),
            *(feature["properties"][m] for m in stats["metrics"]),
        ]
        for feature in stats["features"]
    )
    cleaned = (["" if v is None else v for v in row] for row in rows)
    return "".join(csvfile.write_rows(itertools.chain([header], cleaned)))
