"""SQL the report pipeline needs to find what already exists (writes go through app.writer)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    ActorKind,
    Article,
    Event,
    EventType,
    Outlet,
    OutletKind,
    PlaceKind,
    Report,
    SubEventType,
)


class Vocabulary(TypedDict):
    """The seeded vocabularies a report's values must come from."""

    event_types: dict[str, set[str]]  # each event type with its sub-types
    actor_kinds: set[str]
    place_kinds: set[str]
    outlet_kinds: set[str]


def vocabulary(session: Session) -> Vocabulary:
    subs: dict[str, set[str]] = {}
    for sub, event_type in session.execute(select(SubEventType.name, SubEventType.event_type)):
        subs.setdefault(event_type, set()).add(sub)
    return {
        "event_types": {
            name: subs.get(name, set()) for name in session.scalars(select(EventType.name))
        },
        "actor_kinds": set(session.scalars(select(ActorKind.name))),
        "place_kinds": set(session.scalars(select(PlaceKind.name))),
        "outlet_kinds": set(session.scalars(select(OutletKind.name))),
    }


def outlet_exists(session: Session, outlet_id: int) -> bool:
    return session.execute(select(Outlet.id).where(Outlet.id == outlet_id)).scalar() is not None


def outlet_by_norm(session: Session, name_norm: str) -> int | None:
    return session.execute(select(Outlet.id).where(Outlet.name_norm == name_norm)).scalar()


def article_by_url(session: Session, url_norm: str) -> int | None:
    return session.execute(select(Article.id).where(Article.url_norm == url_norm)).scalar()


def article_by_content(session: Session, outlet_id: int, content_sha256: str) -> int | None:
    return session.execute(
        select(Article.id).where(
            Article.outlet_id == outlet_id,
            Article.content_sha256 == content_sha256,
            Article.url_norm.is_(None),
        )
    ).scalar()


class StoredReport(NamedTuple):
    payload_sha256: str
    response: dict[str, Any]


def report_for_article(session: Session, article_id: int) -> StoredReport | None:
    row = session.execute(
        select(Report.payload_sha256, Report.response).where(Report.article_id == article_id)
    ).first()
    return StoredReport(row.payload_sha256, row.response) if row else None


def event_by_id(session: Session, event_id: int) -> int | None:
    return session.execute(select(Event.id).where(Event.id == event_id)).scalar()


def event_by_external_id(session: Session, external_id: str) -> int | None:
    return session.execute(select(Event.id).where(Event.external_id == external_id)).scalar()
