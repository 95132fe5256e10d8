"""SQL the report pipeline needs to find what already exists (writes go through app.writer)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict

from sqlalchemy import bindparam, select
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


# The look-ups of every report: built once, values bound at execution, and run as Core
# statements on the session's connection (the ORM's execution adds nothing to a select of
# columns, and costs about as much as the database's answer).
_OUTLET_EXISTS = select(Outlet.id).where(Outlet.id == bindparam("id"))
_OUTLET_BY_NORM = select(Outlet.id).where(Outlet.name_norm == bindparam("norm"))
_ARTICLE_BY_URL = select(Article.id).where(Article.url_norm == bindparam("url_norm"))
_ARTICLE_BY_CONTENT = select(Article.id).where(
    Article.outlet_id == bindparam("outlet_id"),
    Article.content_sha256 == bindparam("sha"),
    Article.url_norm.is_(None),
)
_REPORT_FOR_ARTICLE = select(Report.payload_sha256, Report.response).where(
    Report.article_id == bindparam("article_id")
)
_EVENT_BY_ID = select(Event.id).where(Event.id == bindparam("id"))
_EVENT_BY_EXTERNAL_ID = select(Event.id).where(Event.external_id == bindparam("external_id"))


def outlet_exists(session: Session, outlet_id: int) -> bool:
    return session.connection().execute(_OUTLET_EXISTS, {"id": outlet_id}).scalar() is not None


def outlet_by_norm(session: Session, name_norm: str) -> int | None:
    return session.connection().execute(_OUTLET_BY_NORM, {"norm": name_norm}).scalar()


def article_by_url(session: Session, url_norm: str) -> int | None:
    return session.connection().execute(_ARTICLE_BY_URL, {"url_norm": url_norm}).scalar()


def article_by_content(session: Session, outlet_id: int, content_sha256: str) -> int | None:
    return (
        session.connection()
        .execute(_ARTICLE_BY_CONTENT, {"outlet_id": outlet_id, "sha": content_sha256})
        .scalar()
    )


class StoredReport(NamedTuple):
    payload_sha256: str
    response: dict[str, Any]


def report_for_article(session: Session, article_id: int) -> StoredReport | None:
    row = session.connection().execute(_REPORT_FOR_ARTICLE, {"article_id": article_id}).first()
    return StoredReport(row.payload_sha256, row.response) if row else None


def event_by_id(session: Session, event_id: int) -> int | None:
    return session.connection().execute(_EVENT_BY_ID, {"id": event_id}).scalar()


def event_by_external_id(session: Session, external_id: str) -> int | None:
    return (
        session.connection().execute(_EVENT_BY_EXTERNAL_ID, {"external_id": external_id}).scalar()
    )
