"""All SQL for events: the list and its filters, the detail, edits' lookups and history."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.actors import repository as actor_repository
from app.core.pagination import PageQuery, SortColumn, fetch_page
from app.events.schemas import EventFilter, EventFilters
from app.models import (
    Actor,
    Article,
    Dataset,
    Event,
    EventActor,
    EventMeasure,
    EventProvenance,
    EventRevision,
    EventSource,
    EventSourceQuote,
    Outlet,
    Place,
    PlaceAncestor,
    Quote,
    SubEventType,
)
from app.models import EventType as EventTypeRow
from app.places import repository as place_repository

LIST_COLUMNS = (
    Event.id,
    Event.external_id,
    Event.event_type,
    Event.sub_event_type,
    Event.date_start,
    Event.date_end,
    Event.date_precision,
    Event.place_id,
    Place.name.label("place_name"),
    Place.country.label("country"),
    Place.latitude,
    Place.longitude,
    Event.geo_precision,
    Event.summary,
    Event.fatalities_low,
    Event.fatalities_best,
    Event.fatalities_high,
    Event.status,
    Event.created_at,
    Event.updated_at,
)

# sort key -> (columns in order, Python types for the cursor, descending)
SORTS: dict[str, tuple[tuple[SortColumn, ...], tuple[type, ...], bool]] = {
    "date_start": ((Event.date_start, Event.id), (date, int), False),
    "-date_start": ((Event.date_start, Event.id), (date, int), True),
    "id": ((Event.id,), (int,), False),
    "-id": ((Event.id,), (int,), True),
}


def filter_clauses(f: EventFilters) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if not f.include_retracted:
        clauses.append(Event.status == "active")
    if f.date_from is not None:
        clauses.append(Event.date_start >= f.date_from)
    if f.date_to is not None:
        clauses.append(Event.date_start <= f.date_to)
    if f.event_type:
        clauses.append(Event.event_type.in_(f.event_type))
    if f.place is not None:
        inside = select(PlaceAncestor.place_id).where(
            PlaceAncestor.ancestor_id == place_repository.resolved_id(f.place)
        )
        clauses.append(Event.place_id.in_(inside))
    if f.actor is not None:
        clauses.append(
            exists().where(
                EventActor.event_id == Event.id,
                EventActor.actor_id == actor_repository.resolved_id(f.actor),
            )
        )
    return clauses


def list_events(session: Session, f: EventFilter) -> tuple[list[dict[str, Any]], str | None]:
    columns, kinds, descending = SORTS[f.sort]
    stmt = select(*LIST_COLUMNS).outerjoin(Place, Place.id == Event.place_id)
    stmt = stmt.where(*filter_clauses(f))
    return fetch_page(
        session, stmt, f, sort=f.sort, columns=columns, kinds=kinds, descending=descending
    )


def count_events(session: Session, f: EventFilter) -> int:
    stmt = select(func.count()).select_from(Event).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_event(session: Session, event_id: int) -> dict[str, Any] | None:
    row = session.execute(select(Event.__table__).where(Event.id == event_id)).mappings().first()
    if row is None:
        return None
    event = dict(row)
    event["place"] = place_repository.place_with_ancestors(session, event.pop("place_id"))
    event["actors"] = [
        dict(r)
        for r in session.execute(
            select(
                Actor.id, Actor.name, Actor.kind, Actor.country, EventActor.side, EventActor.role
            )
            .join(EventActor, EventActor.actor_id == Actor.id)
            .where(EventActor.event_id == event_id)
            .order_by(EventActor.side.nulls_last(), Actor.id)
        ).mappings()
    ]
    event["sources"] = _sources(session, event_id)
    event["measures"] = [
        dict(r)
        for r in session.execute(
            select(
                EventMeasure.kind, EventMeasure.value, EventMeasure.qualifier, EventMeasure.quote_id
            )
            .where(EventMeasure.event_id == event_id)
            .order_by(EventMeasure.id)
        ).mappings()
    ]
    event["provenance"] = _provenance(session, event_id)
    return event


def _provenance(session: Session, event_id: int) -> dict[str, Any] | None:
    """The dataset row an imported event came from, with the dataset's licence and citation."""
    row = (
        session.execute(
            select(
                Dataset.name.label("dataset"),
                EventProvenance.dataset_version.label("version"),
                EventProvenance.external_id,
                Dataset.licence,
                Dataset.citation,
                Dataset.url,
                EventProvenance.original,
                EventProvenance.imported_at,
            )
            .join(Dataset, Dataset.id == EventProvenance.dataset_id)
            .where(EventProvenance.event_id == event_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    provenance = dict(row)
    # Stored as {"row": the row's own values, "flags": oddities kept as given}.
    stored = provenance.pop("original") or {}
    provenance["original"] = stored.get("row", {})
    provenance["flags"] = stored.get("flags", [])
    return provenance


def _sources(session: Session, event_id: int) -> list[dict[str, Any]]:
    sources = (
        session.execute(
            select(
                EventSource.id.label("source_id"),
                Article.id.label("article_id"),
                Article.title,
                Article.url,
                Article.published_date,
                Outlet.id.label("outlet_id"),
                Outlet.name.label("outlet_name"),
            )
            .join(Article, Article.id == EventSource.article_id)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(EventSource.event_id == event_id)
            .order_by(Article.published_date.nulls_last(), Article.id)
        )
        .mappings()
        .all()
    )
    speaks_for = aliased(Actor)
    quotes_by_source: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for q in session.execute(
        select(
            EventSourceQuote.event_source_id,
            Quote.id,
            Quote.text,
            Quote.start_offset,
            Quote.end_offset,
            Quote.speaker_name,
            Quote.speaker_role,
            speaks_for.id.label("speaks_for_id"),
            speaks_for.name.label("speaks_for_name"),
        )
        .join(Quote, Quote.id == EventSourceQuote.quote_id)
        .outerjoin(speaks_for, speaks_for.id == Quote.speaks_for_actor_id)
        .join(EventSource, EventSource.id == EventSourceQuote.event_source_id)
        .where(EventSource.event_id == event_id)
        .order_by(Quote.start_offset)
    ).mappings():
        quotes_by_source[q["event_source_id"]].append(quote_brief(q))
    return [
        {
            "article_id": s["article_id"],
            "title": s["title"],
            "url": s["url"],
            "published_date": s["published_date"],
            "outlet": {"id": s["outlet_id"], "name": s["outlet_name"]},
            "quotes": quotes_by_source.get(s["source_id"], []),
        }
        for s in sources
    ]


def quote_brief(q: Any) -> dict[str, Any]:
    """A quote row (with speaks_for_id / speaks_for_name) in its API shape."""
    return {
        "id": q["id"],
        "text": q["text"],
        "start": q["start_offset"],
        "end": q["end_offset"],
        "speaker": {
            "name": q["speaker_name"],
            "role": q["speaker_role"],
            "speaks_for": (
                {"id": q["speaks_for_id"], "name": q["speaks_for_name"]}
                if q["speaks_for_id"] is not None
                else None
            ),
        },
    }


# -- edits -------------------------------------------------------------------------------------


def event_for_edit(session: Session, event_id: int) -> dict[str, Any] | None:
    """The fields an edit is checked against, with the version its ETag names."""
    row = (
        session.execute(
            select(
                Event.id,
                Event.version,
                Event.status,
                Event.event_type,
                Event.sub_event_type,
                Event.date_start,
                Event.date_end,
                Event.external_id,
                Event.retraction_reason,
                Event.retracted_at,
            ).where(Event.id == event_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def sub_event_types(session: Session, event_type: str) -> set[str] | None:
    """The sub-types of an event type; None when the type is unknown."""
    if session.execute(select(EventTypeRow.name).where(EventTypeRow.name == event_type)).first():
        return set(
            session.scalars(select(SubEventType.name).where(SubEventType.event_type == event_type))
        )
    return None


def event_by_external_id(session: Session, external_id: str) -> int | None:
    return session.execute(select(Event.id).where(Event.external_id == external_id)).scalar()


def event_exists(session: Session, event_id: int) -> bool:
    return session.execute(select(Event.id).where(Event.id == event_id)).first() is not None


def lock_events(session: Session, event_ids: list[int]) -> None:
    """Row locks on events (PostgreSQL; SQLite's writers already hold the database lock), so
    checks on their evidence hold until this transaction ends."""
    if event_ids:
        session.execute(
            select(Event.id).where(Event.id.in_(sorted(event_ids))).with_for_update()
        ).all()


def events_citing_article(session: Session, article_id: int) -> list[int]:
    return sorted(
        session.scalars(select(EventSource.event_id).where(EventSource.article_id == article_id))
    )


def events_citing_quote(session: Session, quote_id: int) -> list[int]:
    return sorted(
        session.scalars(
            select(EventSource.event_id)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSourceQuote.quote_id == quote_id)
            .distinct()
        )
    )


def active_events_only_sourced_by(session: Session, article_id: int) -> list[int]:
    """Active events whose every source is this article."""
    source = aliased(EventSource)
    other = (
        select(source.id)
        .where(source.event_id == Event.id, source.article_id != article_id)
        .exists()
    )
    stmt = (
        select(Event.id)
        .join(EventSource, EventSource.event_id == Event.id)
        .where(EventSource.article_id == article_id, Event.status == "active", ~other)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt))


def active_events_only_quoting(session: Session, quote_id: int) -> list[int]:
    """Active events citing this quote and no other."""
    cited = (
        select(EventSource.event_id)
        .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
        .where(EventSourceQuote.quote_id == quote_id)
    )
    source, cites = aliased(EventSource), aliased(EventSourceQuote)
    other = (
        select(cites.quote_id)
        .join(source, source.id == cites.event_source_id)
        .where(source.event_id == Event.id, cites.quote_id != quote_id)
        .exists()
    )
    stmt = (
        select(Event.id)
        .where(Event.id.in_(cited), Event.status == "active", ~other)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt))


# -- history -----------------------------------------------------------------------------------


def _revision(row: Any) -> dict[str, Any]:
    revision = dict(row)
    revision["changes"] = {
        field: {"before": before, "after": after}
        for field, (before, after) in (revision["changes"] or {}).items()
    }
    return revision


def list_revisions(
    session: Session, event_id: int, query: PageQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """The event's revisions, oldest first (newest last)."""
    stmt = select(
        EventRevision.id,
        EventRevision.event_id,
        EventRevision.action,
        EventRevision.api_key_id,
        EventRevision.changed_at,
        EventRevision.changes,
    ).where(EventRevision.event_id == event_id)
    return fetch_page(session, stmt, query, columns=(EventRevision.id,), row=_revision)


def count_revisions(session: Session, event_id: int) -> int:
    stmt = select(func.count()).select_from(EventRevision).where(EventRevision.event_id == event_id)
    return int(session.execute(stmt).scalar_one())
