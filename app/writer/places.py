"""Places: the gazetteer with its closure table (every ancestor of every place), aliases,
edits that move a subtree, deletion and merges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, true, update
from sqlalchemy.orm import Session, aliased

from app import derived
from app.core.normalize import normalize_name, normalized
from app.db.base import utcnow
from app.db.bulk import chunks, insert_returning_ids, insert_rows, rowcount
from app.models import Event, Place, PlaceAlias, PlaceAncestor
from app.writer.revisions import audit, record_revisions
from app.writer.versions import (
    bump,
    changes_json,
    compare_and_set,
    delete_versioned,
    edit,
    guard_survivor,
    insert_aliases,
    lock_for_merge,
    unique_aliases,
)


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


def create_places(session: Session, places: Sequence[NewPlace]) -> list[int]:
    """Insert places whose parents already exist, with their closure rows and aliases.

    Set-based, a few statements whatever the number of places (bulk imports create them by
    the thousand): the rows in one executemany, each place's own closure row in another, and
    the rows linking it to its parent's ancestors in one INSERT ... SELECT over the closure
    table.
    """
    if not places:
        return []
    now = utcnow()
    parent_depths: dict[int, int] = {}
    for chunk in chunks(p.parent_id for p in places if p.parent_id is not None):
        parent_depths.update(
            (pid, depth)
            for pid, depth in session.execute(
                select(Place.id, Place.depth).where(Place.id.in_(chunk))
            )
        )
    ids = insert_returning_ids(
        session,
        Place,
        [
            {
                "name": place.name,
                "name_norm": normalized(place.name),
                "kind": place.kind,
                "country": place.country,
                "parent_id": place.parent_id,
                "depth": 0 if place.parent_id is None else parent_depths[place.parent_id] + 1,
                "latitude": place.latitude,
                "longitude": place.longitude,
                "geonames_id": place.geonames_id,
                "created_at": now,
                "updated_at": now,
            }
            for place in places
        ],
    )
    # Closure: each place itself, then every ancestor of its parent one level further out.
    insert_rows(
        session, PlaceAncestor, [{"ancestor_id": i, "place_id": i, "depth": 0} for i in ids]
    )
    children = [i for i, place in zip(ids, places, strict=True) if place.parent_id is not None]
    for chunk in chunks(children):
        session.execute(
            insert(PlaceAncestor).from_select(
                ["ancestor_id", "place_id", "depth"],
                select(PlaceAncestor.ancestor_id, Place.id, PlaceAncestor.depth + 1)
                .join(Place, Place.parent_id == PlaceAncestor.place_id)
                .where(Place.id.in_(chunk)),
            )
        )
    located = [i for i, place in zip(ids, places, strict=True) if place.latitude is not None]
    if located:
        derived.places_located(session, located)
    alias_rows = [
        {"place_id": place_id, "name": name, "name_norm": norm}
        for place_id, place in zip(ids, places, strict=True)
        for norm, name in unique_aliases([place.name, *place.aliases]).items()
    ]
    if alias_rows:
        insert_rows(session, PlaceAlias, alias_rows)
    return ids


def create_place(session: Session, place: NewPlace, *, api_key_id: int | None) -> int:
    (place_id,) = create_places(session, [place])
    audit(
        session,
        "place.create",
        api_key_id=api_key_id,
        entity="place",
        entity_id=place_id,
        detail={
            "name": place.name,
            "kind": place.kind,
            "country": place.country,
            "parent_id": place.parent_id,
            "latitude": place.latitude,
            "longitude": place.longitude,
            "geonames_id": place.geonames_id,
            "aliases": list(place.aliases),
        },
    )
    return place_id


def _insert_place_aliases(
    session: Session, place_id: int, names: Sequence[str], existing: Iterable[str]
) -> dict[str, str]:
    return insert_aliases(session, PlaceAlias, place_id, names, existing)


def add_place_aliases(
    session: Session, place_id: int, names: Sequence[str], existing: Sequence[str]
) -> list[str]:
    """Add the names not yet known for an existing place; it gets a new version if any is."""
    new = _insert_place_aliases(session, place_id, names, existing)
    if new:
        bump(session, Place, [place_id])
    return list(new.values())


def _reparent_closure(session: Session, place_id: int, new_parent_id: int | None) -> None:
    """Rewrite the closure rows of ``place_id``'s subtree for its new parent.

    Links from the old ancestors into the subtree go; every ancestor of the new parent (itself
    included) is linked to every member of the subtree. Links inside the subtree stay. The
    descendants' ``depth`` follows, and they get a new version (their ancestry changed); the
    place's own row is the caller's.
    """
    # Events inside the subtree may change province (their rollups follow).
    derived.events_changed(session, derived.events_in_places(session, [place_id], subtree=True))
    subtree = select(PlaceAncestor.place_id).where(PlaceAncestor.ancestor_id == place_id)
    session.execute(
        delete(PlaceAncestor)
        .where(PlaceAncestor.place_id.in_(subtree), PlaceAncestor.ancestor_id.not_in(subtree))
        .execution_options(synchronize_session=False)
    )
    old_depth = session.execute(select(Place.depth).where(Place.id == place_id)).scalar_one()
    new_depth = 0
    if new_parent_id is not None:
        up, down = aliased(PlaceAncestor), aliased(PlaceAncestor)
        session.execute(
            insert(PlaceAncestor).from_select(
                ["ancestor_id", "place_id", "depth"],
                # Every (ancestor of the new parent) x (member of the subtree): a deliberate
                # cross join.
                select(up.ancestor_id, down.place_id, up.depth + down.depth + 1)
                .select_from(up)
                .join(down, true())
                .where(up.place_id == new_parent_id, down.ancestor_id == place_id),
            )
        )
        new_depth = (
            session.execute(select(Place.depth).where(Place.id == new_parent_id)).scalar_one() + 1
        )
    descendants = select(PlaceAncestor.place_id).where(
        PlaceAncestor.ancestor_id == place_id, PlaceAncestor.depth > 0
    )
    session.execute(
        update(Place)
        .where(Place.id.in_(descendants))
        .values(
            depth=Place.depth + (new_depth - old_depth),
            version=Place.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Place)
        .where(Place.id == place_id)
        .values(depth=new_depth)
        .execution_options(synchronize_session=False)
    )


def update_place(
    session: Session,
    place_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit a place. A new parent moves its whole subtree (closure rows and depths rewritten);
    the caller has refused cycles. A new primary name is also an alias; the old one stays."""
    values = dict(values)
    if "name" in values:
        values["name_norm"] = normalize_name(values["name"])
    version, changes = edit(session, Place, place_id, expected_version, values)
    if changes.keys() & {"parent_id", "latitude", "longitude"}:
        # Centroids: the places containing it, before and after a move.
        old_parent = changes["parent_id"][0] if "parent_id" in changes else None
        derived.places_moved(session, [place_id, *([old_parent] if old_parent else [])])
    if "parent_id" in changes:
        _reparent_closure(session, place_id, changes["parent_id"][1])
    if changes.keys() & {"country", "kind"}:
        # Events inside list this country; a place that becomes (or stops being) an admin1
        # changes the province of every event inside it.
        derived.events_changed(session, derived.events_in_places(session, [place_id], subtree=True))
    elif changes.keys() & {"name", "latitude", "longitude"}:
        # Events list their place's name and coordinates.
        derived.events_changed(
            session, derived.events_in_places(session, [place_id], subtree=False)
        )
    if "name" in changes:
        existing = session.scalars(
            select(PlaceAlias.name_norm).where(PlaceAlias.place_id == place_id)
        )
        _insert_place_aliases(session, place_id, [values["name"]], existing)
    if changes:
        audit(
            session,
            "place.update",
            api_key_id=api_key_id,
            entity="place",
            entity_id=place_id,
            detail={"changes": changes_json(changes), "version": version},
        )
    return version


def delete_place(
    session: Session, place_id: int, expected_version: int, *, api_key_id: int | None
) -> None:
    """Delete a place nothing refers to (the caller has checked); aliases and closure rows go."""
    parent = session.execute(select(Place.parent_id).where(Place.id == place_id)).scalar()
    if parent is not None:
        derived.places_moved(session, [parent])  # its centroid may lose a point
    delete_versioned(session, Place, place_id, expected_version)
    audit(session, "place.delete", api_key_id=api_key_id, entity="place", entity_id=place_id)


def merge_places(
    session: Session,
    loser_id: int,
    survivor_id: int,
    expected_version: int,
    *,
    api_key_id: int | None,
) -> dict[str, Any]:
    """Move every reference to ``loser_id`` onto ``survivor_id`` and mark the loser merged.

    Events move; the loser's children (and their subtrees) are re-parented under the survivor
    with their closure rows rewritten; aliases move (the survivor's spelling wins); the
    GeoNames id moves when the survivor has none. The caller has refused merging into a
    descendant and children whose names collide.
    """
    lock_for_merge(session, Place, loser_id)
    loser = session.execute(select(Place.geonames_id).where(Place.id == loser_id)).one()
    # Centroids: the places containing the loser lose it (and its subtree), the survivor's gain.
    derived.places_moved(session, [loser_id, survivor_id])
    compare_and_set(
        session,
        Place,
        loser_id,
        expected_version,
        {"merged_into_id": survivor_id, "geonames_id": None},
    )
    guard_survivor(session, Place, survivor_id, "place")

    event_ids = list(session.scalars(select(Event.id).where(Event.place_id == loser_id)))
    for chunk in chunks(event_ids):
        session.execute(
            update(Event)
            .where(Event.id.in_(chunk))
            .values(place_id=survivor_id, version=Event.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    record_revisions(
        session,
        [(eid, "place_merge", {"place_id": (loser_id, survivor_id)}) for eid in event_ids],
        api_key_id,
    )

    children = list(
        session.scalars(
            select(Place.id).where(Place.parent_id == loser_id, Place.merged_into_id.is_(None))
        )
    )
    for child in children:
        _reparent_closure(session, child, survivor_id)
        session.execute(
            update(Place)
            .where(Place.id == child)
            .values(parent_id=survivor_id, version=Place.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    survivor_norms = select(PlaceAlias.name_norm).where(PlaceAlias.place_id == survivor_id)
    dropped_aliases = rowcount(
        session.execute(
            delete(PlaceAlias).where(
                PlaceAlias.place_id == loser_id, PlaceAlias.name_norm.in_(survivor_norms)
            )
        )
    )
    moved_aliases = rowcount(
        session.execute(
            update(PlaceAlias).where(PlaceAlias.place_id == loser_id).values(place_id=survivor_id)
        )
    )

    geonames_moved = None
    if loser.geonames_id is not None:
        result = session.execute(
            update(Place)
            .where(Place.id == survivor_id, Place.geonames_id.is_(None))
            .values(geonames_id=loser.geonames_id)
            .execution_options(synchronize_session=False)
        )
        geonames_moved = loser.geonames_id if rowcount(result) else None

    earlier = list(session.scalars(select(Place.id).where(Place.merged_into_id == loser_id)))
    for chunk in chunks(earlier):
        session.execute(update(Place).where(Place.id.in_(chunk)).values(merged_into_id=survivor_id))

    summary = {
        "into": survivor_id,
        "events": sorted(event_ids),
        "children": sorted(children),
        "aliases_moved": moved_aliases,
        "aliases_dropped": dropped_aliases,
        "geonames_id": loser.geonames_id,
        "geonames_id_moved": geonames_moved is not None,
        "earlier_merges": sorted(earlier),
    }
    audit(
        session,
        "place.merge",
        api_key_id=api_key_id,
        entity="place",
        entity_id=loser_id,
        detail=summary,
    )
    return summary
