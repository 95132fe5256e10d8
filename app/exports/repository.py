"""All SQL for exports: a keyset page of events, and their places, actors and sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.events import repository as event_repository
from app.models import (
    Article,
    Dataset,
    Event,
    EventProvenance,
    EventSource,
    Outlet,
    Place,
    PlaceAncestor,
)

_CHUNK = 1000


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i : i + _CHUNK]


def event_rows(
    session: Session, clauses: Sequence[ColumnElement[bool]], sort: str, page_size: int
) -> Iterator[list[dict[str, Any]]]:
    """The events matching ``clauses`` in the order of ``sort`` (one of the events list's),
    with the dataset row behind each imported one: one streamed statement, handed on
    ``page_size`` rows at a time (see ``app.events.repository.iter_event_pages``)."""
    order = event_repository.SORTS[sort]
    stmt = (
        select(
            Event.id,
            Event.external_id,
            Event.event_type,
            Event.sub_event_type,
            Event.date_start,
            Event.date_end,
            Event.date_precision,
            Event.place_id,
            Event.geo_precision,
            Event.summary,
            Event.fatalities_low,
            Event.fatalities_best,
            Event.fatalities_high,
            Event.status,
            Dataset.name.label("dataset"),
            EventProvenance.dataset_version,
            EventProvenance.external_id.label("dataset_event_id"),
            EventProvenance.original,
        )
        .outerjoin(EventProvenance, EventProvenance.event_id == Event.id)
        .outerjoin(Dataset, Dataset.id == EventProvenance.dataset_id)
        .where(*clauses)
        .order_by(*order.order_by())
    )
    result = session.execute(stmt, execution_options=event_repository.STREAMED)
    try:
        keys = list(result.keys())
        for partition in result.partitions(page_size):
            yield [dict(zip(keys, row, strict=True)) for row in partition]
    finally:
        result.close()  # the server-side cursor, also when the export stops early


def place_chains(session: Session, place_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each place with its ancestors, outermost (the country) first, the place itself last."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(place_ids):
        for row in session.execute(
            select(
                PlaceAncestor.place_id.label("of"),
                Place.id,
                Place.name,
                Place.kind,
                Place.country,
                Place.latitude,
                Place.longitude,
            )
            .join(Place, Place.id == PlaceAncestor.ancestor_id)
            .where(PlaceAncestor.place_id.in_(chunk))
            .order_by(PlaceAncestor.place_id, PlaceAncestor.depth.desc())
        ).mappings():
            place = dict(row)
            out[place.pop("of")].append(place)
    return out


def event_sources(session: Session, event_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(event_ids):
        for row in session.execute(
            select(
                EventSource.event_id,
                Article.id.label("article_id"),
                Outlet.name.label("outlet"),
                Article.title,
                Article.url,
                Article.published_date,
            )
            .join(Article, Article.id == EventSource.article_id)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, Article.published_date.nulls_last(), Article.id)
        ).mappings():
            source = dict(row)
            out[source.pop("event_id")].append(source)
    return out
