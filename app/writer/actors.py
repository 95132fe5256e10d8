"""Actors: creation, names (aliases), affiliations, edits, deletion and merges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app import derived
from app.core.normalize import normalize_name, normalized
from app.db.base import utcnow
from app.db.bulk import chunks, insert_returning_ids, insert_rows, rowcount
from app.models import Actor, ActorAffiliation, ActorAlias, Event, EventActor, Quote
from app.writer.revisions import audit, event_actors, record_revisions
from app.writer.versions import (
    bump,
    changes_json,
    compare_and_set,
    delete_versioned,
    edit,
    guard_survivor,
    insert_aliases,
    jsonable,
    lock_for_merge,
    unique_aliases,
)


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


def create_actors(session: Session, actors: Sequence[NewActor]) -> list[int]:
    now = utcnow()
    ids = insert_returning_ids(
        session,
        Actor,
        [
            {
                "name": a.name,
                "name_norm": normalized(a.name),
                "kind": a.kind,
                "country": a.country,
                "created_at": now,
                "updated_at": now,
            }
            for a in actors
        ],
    )
    # Every name of every new actor in one executemany (bulk imports create thousands).
    alias_rows = [
        {"actor_id": actor_id, "name": name, "name_norm": norm}
        for actor_id, actor in zip(ids, actors, strict=True)
        for norm, name in unique_aliases([actor.name, *actor.aliases]).items()
    ]
    if alias_rows:
        insert_rows(session, ActorAlias, alias_rows)
    return ids


def create_actor(session: Session, actor: NewActor, *, api_key_id: int | None) -> int:
    (actor_id,) = create_actors(session, [actor])
    audit(
        session,
        "actor.create",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=actor_id,
        detail={
            "name": actor.name,
            "kind": actor.kind,
            "country": actor.country,
            "aliases": list(actor.aliases),
        },
    )
    return actor_id


def _insert_actor_aliases(
    session: Session, actor_id: int, names: Sequence[str], existing: Iterable[str]
) -> dict[str, str]:
    return insert_aliases(session, ActorAlias, actor_id, names, existing)


def add_actor_aliases(
    session: Session, actor_id: int, names: Sequence[str], existing: Sequence[str]
) -> list[str]:
    """Add the names not yet known for an existing actor (``existing``: its normalised names).

    The actor gets a new version when a name is added.
    """
    new = _insert_actor_aliases(session, actor_id, names, existing)
    if new:
        bump(session, Actor, [actor_id])
    return list(new.values())


def add_affiliations(session: Session, affiliations: Sequence[NewAffiliation]) -> None:
    """Insert ties between actors; both ends get a new version (each shows the tie)."""
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
        bump(
            session,
            Actor,
            {a.actor_id for a in affiliations} | {a.related_actor_id for a in affiliations},
        )


def update_actor(
    session: Session,
    actor_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    add_aliases: Sequence[str] = (),
    remove_alias_norms: Sequence[str] = (),
    api_key_id: int | None,
) -> int:
    """Edit an actor's fields and names. A new primary name is also an alias; the old one stays."""
    values = dict(values)
    if "name" in values:
        values["name_norm"] = normalize_name(values["name"])
    existing = set(
        session.scalars(select(ActorAlias.name_norm).where(ActorAlias.actor_id == actor_id))
    )
    to_remove = sorted(set(remove_alias_norms) & existing)
    remaining = existing - set(to_remove)
    names = [*([values["name"]] if "name" in values else []), *add_aliases]
    to_add = {n: name for n, name in unique_aliases(names).items() if n not in remaining}
    version, changes = edit(
        session,
        Actor,
        actor_id,
        expected_version,
        values,
        touched=bool(to_add or to_remove),
    )
    if "kind" in changes:
        # The interaction of its events derives from its kind (app.derived.interaction).
        derived.events_changed(
            session,
            session.scalars(select(EventActor.event_id).where(EventActor.actor_id == actor_id)),
        )
    if to_remove:
        session.execute(
            delete(ActorAlias).where(
                ActorAlias.actor_id == actor_id, ActorAlias.name_norm.in_(to_remove)
            )
        )
    _insert_actor_aliases(session, actor_id, list(to_add.values()), remaining)
    if changes or to_add or to_remove:
        audit(
            session,
            "actor.update",
            api_key_id=api_key_id,
            entity="actor",
            entity_id=actor_id,
            detail={
                "changes": changes_json(changes),
                "aliases_added": list(to_add.values()),
                "aliases_removed": to_remove,
                "version": version,
            },
        )
    return version


def add_actor_alias(session: Session, actor_id: int, name: str, *, api_key_id: int | None) -> int:
    """One more name for an actor (the caller has checked it is new to it); the alias id."""
    (alias_id,) = insert_returning_ids(
        session,
        ActorAlias,
        [{"actor_id": actor_id, "name": name, "name_norm": normalize_name(name)}],
    )
    bump(session, Actor, [actor_id])
    audit(
        session,
        "actor.alias.add",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=actor_id,
        detail={"alias_id": alias_id, "name": name},
    )
    return alias_id


def remove_actor_alias(
    session: Session, actor_id: int, alias_id: int, name: str, *, api_key_id: int | None
) -> None:
    session.execute(
        delete(ActorAlias).where(ActorAlias.id == alias_id, ActorAlias.actor_id == actor_id)
    )
    bump(session, Actor, [actor_id])
    audit(
        session,
        "actor.alias.remove",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=actor_id,
        detail={"alias_id": alias_id, "name": name},
    )


def add_affiliation(session: Session, tie: NewAffiliation, *, api_key_id: int | None) -> int:
    (affiliation_id,) = insert_returning_ids(
        session,
        ActorAffiliation,
        [
            {
                "actor_id": tie.actor_id,
                "related_actor_id": tie.related_actor_id,
                "relation": tie.relation,
                "since_date": tie.since,
                "until_date": tie.until,
            }
        ],
    )
    bump(session, Actor, [tie.actor_id, tie.related_actor_id])
    audit(
        session,
        "actor.affiliation.add",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=tie.actor_id,
        detail={
            "affiliation_id": affiliation_id,
            "related_actor_id": tie.related_actor_id,
            "relation": tie.relation,
            "since": jsonable(tie.since),
            "until": jsonable(tie.until),
        },
    )
    return affiliation_id


def remove_affiliation(
    session: Session, affiliation_id: int, *, api_key_id: int | None, via_actor_id: int
) -> None:
    row = session.execute(
        select(
            ActorAffiliation.actor_id, ActorAffiliation.related_actor_id, ActorAffiliation.relation
        ).where(ActorAffiliation.id == affiliation_id)
    ).one()
    detail = {
        "affiliation_id": affiliation_id,
        "actor_id": row.actor_id,
        "related_actor_id": row.related_actor_id,
        "relation": row.relation,
    }
    ends = [row.actor_id, row.related_actor_id]
    session.execute(delete(ActorAffiliation).where(ActorAffiliation.id == affiliation_id))
    bump(session, Actor, ends)
    audit(
        session,
        "actor.affiliation.remove",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=via_actor_id,
        detail=detail,
    )


def delete_actor(
    session: Session, actor_id: int, expected_version: int, *, api_key_id: int | None
) -> None:
    """Delete an actor nothing refers to (the caller has checked); its aliases go with it."""
    delete_versioned(session, Actor, actor_id, expected_version)
    audit(session, "actor.delete", api_key_id=api_key_id, entity="actor", entity_id=actor_id)


def merge_actors(
    session: Session,
    loser_id: int,
    survivor_id: int,
    expected_version: int,
    *,
    api_key_id: int | None,
) -> dict[str, Any]:
    """Move every reference to ``loser_id`` onto ``survivor_id`` and mark the loser merged.

    The loser's row stays (with ``merged_into_id``), so its id keeps resolving. Returns what
    moved, as written to the audit log.
    """
    # The loser first: its version guards against a concurrent edit, its row lock against a
    # concurrent merge; then the survivor must still be unmerged.
    lock_for_merge(session, Actor, loser_id)
    compare_and_set(session, Actor, loser_id, expected_version, {"merged_into_id": survivor_id})
    guard_survivor(session, Actor, survivor_id, "actor")

    # Events: where both took part, the survivor's row stays (event_actor's key is the pair).
    event_ids = list(
        session.scalars(select(EventActor.event_id).where(EventActor.actor_id == loser_id))
    )
    before = event_actors(session, event_ids)
    shared = select(EventActor.event_id).where(EventActor.actor_id == survivor_id)
    session.execute(
        delete(EventActor).where(EventActor.actor_id == loser_id, EventActor.event_id.in_(shared))
    )
    session.execute(
        update(EventActor).where(EventActor.actor_id == loser_id).values(actor_id=survivor_id)
    )
    after = event_actors(session, event_ids)
    bump(session, Event, event_ids)
    record_revisions(
        session,
        [(eid, "actor_merge", {"actors": (before[eid], after[eid])}) for eid in sorted(event_ids)],
        api_key_id,
    )

    # Aliases: the survivor keeps its own spelling of a name both have.
    survivor_norms = select(ActorAlias.name_norm).where(ActorAlias.actor_id == survivor_id)
    dropped_aliases = rowcount(
        session.execute(
            delete(ActorAlias).where(
                ActorAlias.actor_id == loser_id, ActorAlias.name_norm.in_(survivor_norms)
            )
        )
    )
    moved_aliases = rowcount(
        session.execute(
            update(ActorAlias).where(ActorAlias.actor_id == loser_id).values(actor_id=survivor_id)
        )
    )

    # Affiliations, both directions: drop those that would tie the survivor to itself or
    # repeat one it has.
    ties = session.execute(
        select(
            ActorAffiliation.id,
            ActorAffiliation.actor_id,
            ActorAffiliation.related_actor_id,
            ActorAffiliation.relation,
        ).where(
            (ActorAffiliation.actor_id.in_([loser_id, survivor_id]))
            | (ActorAffiliation.related_actor_id.in_([loser_id, survivor_id]))
        )
    ).all()
    keys = {
        (t.actor_id, t.related_actor_id, t.relation)
        for t in ties
        if loser_id not in (t.actor_id, t.related_actor_id)
    }
    drop: list[int] = []
    move: list[tuple[int, int, int]] = []
    others: set[int] = set()
    for t in ties:
        if loser_id not in (t.actor_id, t.related_actor_id):
            continue
        a = survivor_id if t.actor_id == loser_id else t.actor_id
        r = survivor_id if t.related_actor_id == loser_id else t.related_actor_id
        others.update({a, r} - {survivor_id})
        if a == r or (a, r, t.relation) in keys:
            drop.append(t.id)
        else:
            keys.add((a, r, t.relation))
            move.append((t.id, a, r))
    if drop:
        session.execute(delete(ActorAffiliation).where(ActorAffiliation.id.in_(drop)))
    for tie_id, a, r in move:
        session.execute(
            update(ActorAffiliation)
            .where(ActorAffiliation.id == tie_id)
            .values(actor_id=a, related_actor_id=r)
        )
    bump(session, Actor, others)

    # Quotes spoken for the loser now speak for the survivor.
    quote_ids = list(session.scalars(select(Quote.id).where(Quote.speaks_for_actor_id == loser_id)))
    for chunk in chunks(quote_ids):
        session.execute(
            update(Quote)
            .where(Quote.id.in_(chunk))
            .values(speaks_for_actor_id=survivor_id, version=Quote.version + 1, updated_at=utcnow())
        )

    # Records merged into the loser earlier now point straight at the survivor: every merged
    # id is one step from a live record, which is what the read filters assume.
    earlier = list(session.scalars(select(Actor.id).where(Actor.merged_into_id == loser_id)))
    for chunk in chunks(earlier):
        session.execute(update(Actor).where(Actor.id.in_(chunk)).values(merged_into_id=survivor_id))

    summary = {
        "into": survivor_id,
        "events": sorted(event_ids),
        "aliases_moved": moved_aliases,
        "aliases_dropped": dropped_aliases,
        "affiliations_moved": len(move),
        "affiliations_dropped": len(drop),
        "quotes": sorted(quote_ids),
        "earlier_merges": sorted(earlier),
    }
    audit(
        session,
        "actor.merge",
        api_key_id=api_key_id,
        entity="actor",
        entity_id=loser_id,
        detail=summary,
    )
    return summary
