"""Each event's ``interaction``: ACLED's actor-pair code derived from the kinds of its two
sides (``app.formats.dimensions.interaction_of``), kept at commit for every event a
transaction changed, whatever changed it (its actors, an actor's kind, a merge)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from app.db.bulk import chunks
from app.formats.dimensions import interaction_of, side_category
from app.models import Actor, ActorKind, Event, EventActor

Side = list[tuple[str, int | None, str]]


def kinds(session: Session, actor_ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """Each actor's kind and ACLED category."""
    out: dict[int, tuple[str, int | None]] = {}
    for chunk in chunks(sorted(set(actor_ids))):
        for actor_id, kind, inter in session.connection().execute(_KINDS, {"ids": chunk}):
            out[actor_id] = (kind, inter)
    return out


# Built once (every new event needs it), run as Core on the session's connection.
_KINDS = (
    select(Actor.id, Actor.kind, ActorKind.acled_inter)
    .join(ActorKind, ActorKind.name == Actor.kind)
    .where(Actor.id.in_(bindparam("ids", expanding=True)))
)


def of_sides(side_a: Side, side_b: Side) -> str | None:
    return interaction_of(side_category(side_a), side_category(side_b))


def compute(session: Session, event_ids: Sequence[int]) -> dict[int, str | None]:
    """The interaction each of these events should have, from its actors as they are now."""
    sides: dict[int, dict[str, Side]] = defaultdict(lambda: {"a": [], "b": []})
    for chunk in chunks(event_ids):
        for event_id, side, role, kind, inter in session.execute(
            select(
                EventActor.event_id,
                EventActor.side,
                EventActor.role,
                Actor.kind,
                ActorKind.acled_inter,
            )
            .join(Actor, Actor.id == EventActor.actor_id)
            .join(ActorKind, ActorKind.name == Actor.kind)
            .where(EventActor.event_id.in_(chunk))
        ):
            sides[event_id]["b" if side == "b" else "a"].append((kind, inter, role))
    return {
        event_id: of_sides(sides[event_id]["a"], sides[event_id]["b"])
        if event_id in sides
        else None
        for event_id in event_ids
    }


def reconcile(session: Session, event_ids: Sequence[int]) -> None:
    """Set the interaction of the events whose stored one is not what their actors give."""
    if not event_ids:
        return
    wanted = compute(session, event_ids)
    stored: dict[int, str | None] = {}
    for chunk in chunks(event_ids):
        for event_id, value in session.execute(
            select(Event.id, Event.interaction).where(Event.id.in_(chunk))
        ):
            stored[event_id] = value
    rows = [
        {"b_id": event_id, "b_interaction": value}
        for event_id, value in wanted.items()
        if event_id in stored and stored[event_id] != value
    ]
    if rows:
        table = cast(Table, Event.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(interaction=bindparam("b_interaction")),
            rows,
        )
