"""The one writer: every insert of conflict data goes through here, in batches.

Ingestion, bulk importers, edits and the benchmark loader all call these functions inside a
transaction they own (``write_session``), so derived state — the place closure table today;
search index, rollups, change log and history as they arrive — is written in the same
transaction as the rows it derives from and can never be skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from app.core.normalize import normalize_name, normalize_url, sha256_text, url_domain
from app.db.base import utcnow
from app.models import (
    Actor,
    ActorAffiliation,
    ActorAlias,
    Article,
    AuditEntry,
    Event,
    EventActor,
    EventMeasure,
    EventRevision,
    EventSource,
    EventSourceQuote,
    Outlet,
    Place,
    PlaceAlias,
    PlaceAncestor,
    Quote,
    Report,
)


@dataclass
class NewOutlet:
    name: str
    url: str | None = None
    country: str | None = None
    language: str | None = None
    kind: str | None = None


@dataclass
class NewActor:
    name: str
    kind: str
    country: str | None = None
    aliases: Sequence[str] = ()


@dataclass
class NewAffiliation:
    actor_id: int
    related_actor_id: int
    relation: str
    since: date | None = None
    until: date | None = None


@dataclass
class NewPlace:
    name: str
    kind: str
    country: str | None = None
    parent_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    geonames_id: int | None = None
    aliases: Sequence[str] = ()


@dataclass
class NewArticle:
    outlet_id: int
    url: str | None = None
    title: str | None = None
    published_date: date | None = None
    dateline: str | None = None
    byline: str | None = None
    language: str | None = None
    body: str | None = None


@dataclass
class NewQuote:
    article_id: int
    text: str
    start: int
    end: int
    speaker_name: str | None = None
    speaker_role: str | None = None
    speaks_for_actor_id: int | None = None


@dataclass
class NewEventActor:
    actor_id: int
    role: str
    side: str | None = None


@dataclass
class NewMeasure:
    kind: str
    value: float | None = None
    qualifier: str | None = None
    quote_id: int | None = None


@dataclass
class NewSource:
    """Evidence: ``article_id`` reports the event, through these quotes of it."""

    article_id: int
    quote_ids: Sequence[int] = ()


@dataclass
class NewEvent:
    event_type: str
    date_start: date
    date_end: date
    date_precision: str
    sub_event_type: str | None = None
    external_id: str | None = None
    place_id: int | None = None
    geo_precision: int | None = None
    summary: str | None = None
    fatalities_low: int | None = None
    fatalities_best: int | None = None
    fatalities_high: int | None = None
    actors: Sequence[NewEventActor] = ()
    measures: Sequence[NewMeasure] = ()
    sources: Sequence[NewSource] = field(default_factory=list)


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return [r[0] for r in session.execute(stmt, rows)]


def _unique_aliases(names: Sequence[str]) -> dict[str, str]:
    """normalised form -> first spelling given, skipping names that normalise to nothing."""
    out: dict[str, str] = {}
    for name in names:
        norm = normalize_name(name)
        if norm and norm not in out:
            out[norm] = name
    return out


def create_outlets(session: Session, outlets: Sequence[NewOutlet]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "name": o.name,
            "name_norm": normalize_name(o.name),
            "url": o.url,
            "domain": url_domain(o.url) if o.url else None,
            "country": o.country,
            "language": o.language,
            "kind": o.kind,
            "created_at": now,
            "updated_at": now,
        }
        for o in outlets
    ]
    return _insert_returning_ids(session, Outlet, rows)


def create_actors(session: Session, actors: Sequence[NewActor]) -> list[int]:
    now = utcnow()
    ids = _insert_returning_ids(
        session,
        Actor,
        [
            {
                "name": a.name,
                "name_norm": normalize_name(a.name),
                "kind": a.kind,
                "country": a.country,
                "created_at": now,
                "updated_at": now,
            }
            for a in actors
        ],
    )
    for actor_id, actor in zip(ids, actors, strict=True):
        add_actor_aliases(session, actor_id, [actor.name, *actor.aliases], existing=())
    return ids


def add_actor_aliases(
    session: Session, actor_id: int, names: Sequence[str], existing: Sequence[str]
) -> list[str]:
    """Add the names not yet known for the actor (``existing``: its normalised names)."""
    known = set(existing)
    new = {n: name for n, name in _unique_aliases(names).items() if n not in known}
    if new:
        session.execute(
            insert(ActorAlias),
            [{"actor_id": actor_id, "name": name, "name_norm": n} for n, name in new.items()],
        )
    return list(new.values())


def add_affiliations(session: Session, affiliations: Sequence[NewAffiliation]) -> None:
    if affiliations:
        session.execute(
            insert(ActorAffiliation),
            [
                {
                    "actor_id": a.actor_id,
                    "related_actor_id": a.related_actor_id,
                    "relation": a.relation,
                    "since_date": a.since,
                    "until_date": a.until,
                }
                for a in affiliations
            ],
        )


def create_places(session: Session, places: Sequence[NewPlace]) -> list[int]:
    """Insert places (parents before children) and their closure rows."""
    ids: list[int] = []
    depth_of: dict[int, int] = {}
    now = utcnow()
    for place in places:
        depth = 0
        if place.parent_id is not None:
            depth = depth_of.get(place.parent_id)  # type: ignore[assignment]
            if depth is None:
                depth = session.execute(
                    select(Place.depth).where(Place.id == place.parent_id)
                ).scalar_one()
            depth += 1
        (place_id,) = _insert_returning_ids(
            session,
            Place,
            [
                {
                    "name": place.name,
                    "name_norm": normalize_name(place.name),
                    "kind": place.kind,
                    "country": place.country,
                    "parent_id": place.parent_id,
                    "depth": depth,
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                    "geonames_id": place.geonames_id,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        depth_of[place_id] = depth
        ids.append(place_id)
        # Closure: the place itself, then every ancestor of its parent one level further out.
        session.execute(
            insert(PlaceAncestor).values(ancestor_id=place_id, place_id=place_id, depth=0)
        )
        if place.parent_id is not None:
            session.execute(
                insert(PlaceAncestor).from_select(
                    ["ancestor_id", "place_id", "depth"],
                    select(
                        PlaceAncestor.ancestor_id, literal(place_id), PlaceAncestor.depth + 1
                    ).where(PlaceAncestor.place_id == place.parent_id),
                )
            )
        add_place_aliases(session, place_id, [place.name, *place.aliases], existing=())
    return ids


def add_place_aliases(
    session: Session, place_id: int, names: Sequence[str], existing: Sequence[str]
) -> list[str]:
    known = set(existing)
    new = {n: name for n, name in _unique_aliases(names).items() if n not in known}
    if new:
        session.execute(
            insert(PlaceAlias),
            [{"place_id": place_id, "name": name, "name_norm": n} for n, name in new.items()],
        )
    return list(new.values())


def create_article(session: Session, article: NewArticle) -> int:
    now = utcnow()
    (article_id,) = _insert_returning_ids(
        session,
        Article,
        [
            {
                "outlet_id": article.outlet_id,
                "url": article.url,
                "url_norm": normalize_url(article.url) if article.url else None,
                "title": article.title,
                "published_date": article.published_date,
                "dateline": article.dateline,
                "byline": article.byline,
                "language": article.language,
                "body": article.body,
                "content_sha256": sha256_text(article.body) if article.body else None,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    return article_id


def create_quotes(session: Session, quotes: Sequence[NewQuote]) -> list[int]:
    now = utcnow()
    return _insert_returning_ids(
        session,
        Quote,
        [
            {
                "article_id": q.article_id,
                "text": q.text,
                "start_offset": q.start,
                "end_offset": q.end,
                "speaker_name": q.speaker_name,
                "speaker_role": q.speaker_role,
                "speaks_for_actor_id": q.speaks_for_actor_id,
                "created_at": now,
                "updated_at": now,
            }
            for q in quotes
        ],
    )


# The event fields a revision records (the before/after of each one that changed).
REVISED_FIELDS = (
    "external_id",
    "event_type",
    "sub_event_type",
    "date_start",
    "date_end",
    "date_precision",
    "place_id",
    "geo_precision",
    "summary",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "status",
    "retraction_reason",
)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def record_revisions(
    session: Session,
    changes: Sequence[tuple[int, str, dict[str, tuple[Any, Any]]]],
    api_key_id: int | None,
) -> None:
    """One revision per (event id, action, {field: (before, after)}), in the caller's transaction."""
    if not changes:
        return
    now = utcnow()
    session.execute(
        insert(EventRevision),
        [
            {
                "event_id": event_id,
                "api_key_id": api_key_id,
                "action": action,
                "changes": {
                    k: [_jsonable(before), _jsonable(after)] for k, (before, after) in diff.items()
                },
                "changed_at": now,
            }
            for event_id, action, diff in changes
        ],
    )


def audit(
    session: Session,
    action: str,
    *,
    api_key_id: int | None,
    entity: str | None = None,
    entity_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log, in the caller's transaction."""
    session.execute(
        insert(AuditEntry).values(
            at=utcnow(),
            api_key_id=api_key_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
        )
    )


def create_events(
    session: Session, events: Sequence[NewEvent], *, api_key_id: int | None = None
) -> list[int]:
    """The batch API: events with their actors, measures and sources, a few statements per batch.

    Each new event gets a 'create' revision carrying its initial fields.
    """
    now = utcnow()
    ids = _insert_returning_ids(
        session,
        Event,
        [
            {
                "external_id": e.external_id,
                "event_type": e.event_type,
                "sub_event_type": e.sub_event_type,
                "date_start": e.date_start,
                "date_end": e.date_end,
                "date_precision": e.date_precision,
                "place_id": e.place_id,
                "geo_precision": e.geo_precision,
                "summary": e.summary,
                "fatalities_low": e.fatalities_low,
                "fatalities_best": e.fatalities_best,
                "fatalities_high": e.fatalities_high,
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            for e in events
        ],
    )
    actor_rows = [
        {"event_id": eid, "actor_id": a.actor_id, "side": a.side, "role": a.role}
        for eid, e in zip(ids, events, strict=True)
        for a in e.actors
    ]
    if actor_rows:
        session.execute(insert(EventActor), actor_rows)
    measure_rows = [
        {
            "event_id": eid,
            "kind": m.kind,
            "value": m.value,
            "qualifier": m.qualifier,
            "quote_id": m.quote_id,
        }
        for eid, e in zip(ids, events, strict=True)
        for m in e.measures
    ]
    if measure_rows:
        session.execute(insert(EventMeasure), measure_rows)
    add_sources(session, [(eid, s) for eid, e in zip(ids, events, strict=True) for s in e.sources])
    record_revisions(
        session,
        [
            (
                eid,
                "create",
                {
                    f: (None, getattr(e, f, None) if f != "status" else "active")
                    for f in REVISED_FIELDS
                    if (getattr(e, f, None) is not None or f == "status")
                },
            )
            for eid, e in zip(ids, events, strict=True)
        ],
        api_key_id,
    )
    return ids


def add_sources(session: Session, sources: Sequence[tuple[int, NewSource]]) -> None:
    """Attach evidence (an article and its supporting quotes) to existing or new events."""
    if not sources:
        return
    source_ids = _insert_returning_ids(
        session,
        EventSource,
        [{"event_id": event_id, "article_id": s.article_id} for event_id, s in sources],
    )
    quote_rows = [
        {"event_source_id": sid, "quote_id": qid}
        for sid, (_, s) in zip(source_ids, sources, strict=True)
        for qid in dict.fromkeys(s.quote_ids)
    ]
    if quote_rows:
        session.execute(insert(EventSourceQuote), quote_rows)


def record_report(
    session: Session, article_id: int, payload_sha256: str, response: dict[str, Any]
) -> None:
    session.execute(
        insert(Report).values(
            article_id=article_id,
            payload_sha256=payload_sha256,
            response=response,
            created_at=utcnow(),
        )
    )
