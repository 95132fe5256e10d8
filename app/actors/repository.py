"""All SQL for reading actors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from app.actors.schemas import ActorFilter
from app.core.normalize import normalize_name
from app.core.pagination import fetch_page
from app.models import Actor, ActorAffiliation, ActorAlias, Event, EventActor

COLUMNS = (Actor.id, Actor.name, Actor.kind, Actor.country, Actor.created_at, Actor.updated_at)


def filter_clauses(f: ActorFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if f.name is not None:
        # actor_alias holds every name, the primary one included.
        named = select(ActorAlias.actor_id).where(ActorAlias.name_norm == normalize_name(f.name))
        clauses.append(Actor.id.in_(named))
    if f.kind is not None:
        clauses.append(Actor.kind == f.kind)
    if f.country is not None:
        clauses.append(Actor.country == f.country)
    return clauses


def list_actors(session: Session, f: ActorFilter) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(*COLUMNS).where(*filter_clauses(f))
    return fetch_page(session, stmt, f, columns=(Actor.id,))


def count_actors(session: Session, f: ActorFilter) -> int:
    stmt = select(func.count()).select_from(Actor).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_actor(session: Session, actor_id: int) -> dict[str, Any] | None:
    event_count = (
        select(func.count())
        .select_from(EventActor)
        .join(Event, Event.id == EventActor.event_id)
        .where(EventActor.actor_id == actor_id, Event.status == "active")
        .scalar_subquery()
    )
    stmt = select(*COLUMNS, Actor.name_norm, event_count.label("event_count")).where(
        Actor.id == actor_id
    )
    row = session.execute(stmt).mappings().first()
    if row is None:
        return None
    actor = dict(row)
    actor["aliases"] = list(
        session.execute(
            select(ActorAlias.name)
            .where(
                ActorAlias.actor_id == actor_id,
                # One alias row per normalised name, so this drops exactly the primary name.
                ActorAlias.name_norm != actor.pop("name_norm"),
            )
            .order_by(ActorAlias.id)
        ).scalars()
    )
    actor["affiliations"] = _ties(session, actor_id, outgoing=True)
    actor["affiliates"] = _ties(session, actor_id, outgoing=False)
    return actor


def _ties(session: Session, actor_id: int, *, outgoing: bool) -> list[dict[str, Any]]:
    """This actor's affiliations (outgoing) or the affiliations pointing at it (incoming)."""
    other = aliased(Actor)
    this_end, other_end = (
        (ActorAffiliation.actor_id, ActorAffiliation.related_actor_id)
        if outgoing
        else (ActorAffiliation.related_actor_id, ActorAffiliation.actor_id)
    )
    stmt = (
        select(
            other.id,
            other.name,
            other.kind,
            ActorAffiliation.relation,
            ActorAffiliation.since_date,
            ActorAffiliation.until_date,
        )
        .join(other, other.id == other_end)
        .where(this_end == actor_id)
        .order_by(ActorAffiliation.id)
    )
    return [
        {
            "actor": {"id": r["id"], "name": r["name"], "kind": r["kind"]},
            "relation": r["relation"],
            "since": r["since_date"],
            "until": r["until_date"],
        }
        for r in session.execute(stmt).mappings()
    ]
