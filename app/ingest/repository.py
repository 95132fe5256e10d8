"""SQL the report pipeline needs to find what already exists (writes go through app.writer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Actor,
    ActorAffiliation,
    ActorAlias,
    ActorKind,
    Article,
    Event,
    EventType,
    Outlet,
    OutletKind,
    Place,
    PlaceAlias,
    PlaceAncestor,
    PlaceKind,
    Report,
    SubEventType,
)


def vocabulary(session: Session) -> dict[str, Any]:
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


def report_for_article(session: Session, article_id: int) -> tuple[str, dict[str, Any]] | None:
    row = session.execute(
        select(Report.payload_sha256, Report.response).where(Report.article_id == article_id)
    ).first()
    return (row[0], row[1]) if row else None


def live_actor(session: Session, actor_id: int) -> tuple[int, str] | None:
    """(id, name) of the actor, or of its survivor when it was merged (merges keep one step)."""
    row = session.execute(
        select(Actor.id, Actor.name, Actor.merged_into_id).where(Actor.id == actor_id)
    ).first()
    if row is None:
        return None
    if row.merged_into_id is not None:
        return live_actor(session, row.merged_into_id)
    return row.id, row.name


def actor_candidates(
    session: Session, name_norm: str, country: str | None, kind: str | None
) -> list[dict[str, Any]]:
    """Live actors known by this normalised name (or alias), within the country and kind given.

    Merged actors are never matched: their names moved to the actor they were merged into.
    """
    stmt = (
        select(Actor.id, Actor.name, Actor.kind, Actor.country)
        .join(ActorAlias, ActorAlias.actor_id == Actor.id)
        .where(ActorAlias.name_norm == name_norm, Actor.merged_into_id.is_(None))
        .distinct()
        .order_by(Actor.id)
    )
    if country is not None:
        stmt = stmt.where(Actor.country == country)
    if kind is not None:
        stmt = stmt.where(Actor.kind == kind)
    return [dict(r) for r in session.execute(stmt).mappings()]


def actor_alias_norms(session: Session, actor_id: int) -> list[str]:
    return list(
        session.scalars(select(ActorAlias.name_norm).where(ActorAlias.actor_id == actor_id))
    )


def affiliations_of(session: Session, actor_id: int) -> set[tuple[int, str]]:
    return {
        (r[0], r[1])
        for r in session.execute(
            select(ActorAffiliation.related_actor_id, ActorAffiliation.relation).where(
                ActorAffiliation.actor_id == actor_id
            )
        )
    }


def place_row(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place (id, name, country), or its survivor when it was merged."""
    row = (
        session.execute(
            select(Place.id, Place.name, Place.country, Place.merged_into_id).where(
                Place.id == place_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["merged_into_id"] is not None:
        return place_row(session, row["merged_into_id"])
    return {"id": row["id"], "name": row["name"], "country": row["country"]}


def place_candidates(
    session: Session, name_norm: str, *, within: int | None, country: str | None, kind: str | None
) -> list[dict[str, Any]]:
    """Live places known by this normalised name: inside ``within`` if given, else in ``country``.

    Merged places are never matched: their names moved to the place they were merged into.
    """
    stmt = (
        select(Place.id, Place.name, Place.kind, Place.country, Place.parent_id)
        .join(PlaceAlias, PlaceAlias.place_id == Place.id)
        .where(PlaceAlias.name_norm == name_norm, Place.merged_into_id.is_(None))
        .distinct()
        .order_by(Place.id)
    )
    if within is not None:
        stmt = stmt.join(PlaceAncestor, PlaceAncestor.place_id == Place.id).where(
            PlaceAncestor.ancestor_id == within, PlaceAncestor.depth > 0
        )
    elif country is not None:
        stmt = stmt.where(Place.country == country)
    if kind is not None:
        stmt = stmt.where(Place.kind == kind)
    return [dict(r) for r in session.execute(stmt).mappings()]


def place_by_geonames(session: Session, geonames_id: int) -> int | None:
    return session.execute(select(Place.id).where(Place.geonames_id == geonames_id)).scalar()


def place_alias_norms(session: Session, place_id: int) -> list[str]:
    return list(
        session.scalars(select(PlaceAlias.name_norm).where(PlaceAlias.place_id == place_id))
    )


def event_by_id(session: Session, event_id: int) -> int | None:
    return session.execute(select(Event.id).where(Event.id == event_id)).scalar()


def event_by_external_id(session: Session, external_id: str) -> int | None:
    return session.execute(select(Event.id).where(Event.external_id == external_id)).scalar()
