"""All SQL for places: the list and its filters, the detail, and what edits check."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, NamedTuple, TypedDict, cast

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app.core.normalize import normalize_name, normalize_prefix
from app.core.pagination import fetch_page
from app.db import dialect, merged
from app.db.bulk import chunks
from app.derived import history
from app.models import Event, Place, PlaceAlias, PlaceAncestor, PlaceKind
from app.places.schemas import PlaceFilter

LIST_COLUMNS = (
    Place.id,
    Place.name,
    Place.kind,
    Place.country,
    Place.parent_id,
    Place.latitude,
    Place.longitude,
    Place.geonames_id,
)


def resolved_id(place_id: int) -> ColumnElement[int]:
    """The live place an id stands for, as SQL: itself, or the place it was merged into."""
    return merged.resolved_id(Place, place_id)


def place_with_ancestors(session: Session, place_id: int | None) -> dict[str, Any] | None:
    """The place (id, name, kind, country, latitude, longitude) with its ancestors, outermost first."""
    if place_id is None:
        return None
    row = history.run(session, _PLACE, {"place_id": place_id}).mappings().first()
    if row is None:
        return None
    place = dict(row)
    place["ancestors"] = ancestors(session, place_id)
    return place


def ancestors(session: Session, place_id: int) -> list[dict[str, Any]]:
    """Every place containing ``place_id``, from the outermost inward (the place itself excluded)."""
    return [dict(r) for r in history.run(session, _ANCESTORS, {"place_id": place_id}).mappings()]


# An event's detail reads both: built once (``history.run`` runs them).
_PLACE = select(
    Place.id, Place.name, Place.kind, Place.country, Place.latitude, Place.longitude
).where(Place.id == bindparam("place_id"))
_ANCESTORS = (
    select(Place.id, Place.name, Place.kind, Place.country)
    .join(PlaceAncestor, PlaceAncestor.ancestor_id == Place.id)
    .where(PlaceAncestor.place_id == bindparam("place_id"), PlaceAncestor.depth > 0)
    .order_by(PlaceAncestor.depth.desc())
)


def live_id(session: Session, place_id: int) -> int:
    """The live place an id stands for, read now (``app.db.merged.live_id``)."""
    return merged.live_id(session, Place, place_id)


def filter_clauses(f: PlaceFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    # Merged places live on only as redirects to the place they were merged into.
    clauses: list[ColumnElement[bool]] = [Place.merged_into_id.is_(None)]
    if f.name is not None:
        # place_alias holds every name, the primary one included.
        named = select(PlaceAlias.place_id).where(PlaceAlias.name_norm == normalize_name(f.name))
        clauses.append(Place.id.in_(named))
    if f.name_prefix is not None and (key := normalize_prefix(f.name_prefix)):
        # Every name, aliases included: a range on place_alias's name index.
        starting = select(PlaceAlias.place_id).where(dialect.starts_with(PlaceAlias.name_norm, key))
        clauses.append(Place.id.in_(starting))
    if f.kind is not None:
        clauses.append(Place.kind == f.kind)
    if f.country is not None:
        clauses.append(Place.country == f.country)
    if f.parent is not None:
        clauses.append(Place.parent_id == resolved_id(f.parent))
    if f.within is not None:
        inside = select(PlaceAncestor.place_id).where(
            PlaceAncestor.ancestor_id == resolved_id(f.within), PlaceAncestor.depth > 0
        )
        clauses.append(Place.id.in_(inside))
    return clauses


def list_places(session: Session, f: PlaceFilter) -> tuple[list[dict[str, Any]], str | None]:
    stmt = select(*LIST_COLUMNS).where(*filter_clauses(f))
    return fetch_page(session, stmt, f, columns=(Place.id,))


def count_places(session: Session, f: PlaceFilter) -> int:
    stmt = select(func.count()).select_from(Place).where(*filter_clauses(f))
    return int(session.execute(stmt).scalar_one())


def get_place(session: Session, place_id: int) -> dict[str, Any] | None:
    """The place with its aliases, ancestors, direct children and the events at or inside it."""
    inside = select(PlaceAncestor.place_id).where(PlaceAncestor.ancestor_id == place_id)
    event_count = (
        select(func.count())
        .select_from(Event)
        .where(Event.place_id.in_(inside), Event.status == "active")
        .scalar_subquery()
    )
    stmt = select(
        *LIST_COLUMNS,
        Place.name_norm,
        Place.version,
        Place.merged_into_id,
        Place.created_at,
        Place.updated_at,
        event_count.label("event_count"),
    ).where(Place.id == place_id)
    row = session.execute(stmt).mappings().first()
    if row is None:
        return None
    place = dict(row)
    place["aliases"] = list(
        session.execute(
            select(PlaceAlias.name)
            .where(
                PlaceAlias.place_id == place_id,
                # One alias row per normalised name, so this drops exactly the primary name.
                PlaceAlias.name_norm != place.pop("name_norm"),
            )
            .order_by(PlaceAlias.id)
        ).scalars()
    )
    place["ancestors"] = ancestors(session, place_id)
    place["children"] = [
        dict(r)
        for r in session.execute(
            select(Place.id, Place.name, Place.kind)
            .where(Place.parent_id == place_id, Place.merged_into_id.is_(None))
            .order_by(Place.name, Place.id)
        ).mappings()
    ]
    return place


# -- edits -------------------------------------------------------------------------------------

EDIT_COLUMNS = (
    Place.id,
    Place.version,
    Place.merged_into_id,
    Place.name,
    Place.name_norm,
    Place.kind,
    Place.country,
    Place.parent_id,
    Place.latitude,
    Place.longitude,
    Place.geonames_id,
)


class PlaceForEdit(TypedDict):
    """A row of ``EDIT_COLUMNS``."""

    id: int
    version: int
    merged_into_id: int | None
    name: str
    name_norm: str
    kind: str
    country: str | None
    parent_id: int | None
    latitude: float | None
    longitude: float | None
    geonames_id: int | None


def place_for_edit(session: Session, place_id: int) -> PlaceForEdit | None:
    """The fields an edit is checked against, with the version its ETag names."""
    row = session.execute(select(*EDIT_COLUMNS).where(Place.id == place_id)).mappings().first()
    return cast(PlaceForEdit, dict(row)) if row else None


class MergeState(TypedDict):
    id: int
    merged_into_id: int | None


def merge_state(session: Session, place_id: int) -> MergeState | None:
    """{id, merged_into_id} of a place, or None when there is no such place."""
    row = (
        session.execute(select(Place.id, Place.merged_into_id).where(Place.id == place_id))
        .mappings()
        .first()
    )
    return cast(MergeState, dict(row)) if row else None


def place_kind_exists(session: Session, kind: str) -> bool:
    return session.execute(select(PlaceKind.name).where(PlaceKind.name == kind)).first() is not None


def is_inside(session: Session, place_id: int, ancestor_id: int) -> bool:
    """Whether ``place_id`` is ``ancestor_id`` or anywhere inside it."""
    stmt = select(PlaceAncestor.place_id).where(
        PlaceAncestor.ancestor_id == ancestor_id, PlaceAncestor.place_id == place_id
    )
    return session.execute(stmt).first() is not None


class NameHolder(TypedDict):
    id: int
    name: str
    merged_into_id: int | None


def holder_of_name(
    session: Session, name_norm: str, *, parent_id: int | None, country: str | None
) -> NameHolder | None:
    """The place holding this name in its slot (under the parent, or at the top of the country),
    merged places included: the unique key counts them too."""
    stmt = select(Place.id, Place.name, Place.merged_into_id).where(Place.name_norm == name_norm)
    if parent_id is not None:
        stmt = stmt.where(Place.parent_id == parent_id)
    else:
        stmt = stmt.where(Place.parent_id.is_(None), Place.country == country)
    row = session.execute(stmt.order_by(Place.id).limit(1)).mappings().first()
    return cast(NameHolder, dict(row)) if row else None


def place_by_geonames(session: Session, geonames_id: int) -> int | None:
    return session.execute(select(Place.id).where(Place.geonames_id == geonames_id)).scalar()


class ChildPlace(TypedDict):
    id: int
    name: str
    name_norm: str
    merged_into_id: int | None


def children_by_name(session: Session, place_id: int, *, live_only: bool) -> dict[str, ChildPlace]:
    """The places directly inside this one, by normalised name."""
    stmt = select(Place.id, Place.name, Place.name_norm, Place.merged_into_id).where(
        Place.parent_id == place_id
    )
    if live_only:
        stmt = stmt.where(Place.merged_into_id.is_(None))
    return {r["name_norm"]: cast(ChildPlace, dict(r)) for r in session.execute(stmt).mappings()}


class PlaceReferences(TypedDict):
    events: list[int]
    children: list[int]
    merged: list[int]


def references(session: Session, place_id: int, limit: int = 10) -> PlaceReferences:
    """What refers to a place, a few ids of each: events, places inside it, places merged into it."""
    return {
        "events": list(
            session.scalars(
                select(Event.id).where(Event.place_id == place_id).order_by(Event.id).limit(limit)
            )
        ),
        "children": list(
            session.scalars(
                select(Place.id).where(Place.parent_id == place_id).order_by(Place.id).limit(limit)
            )
        ),
        "merged": list(
            session.scalars(
                select(Place.id)
                .where(Place.merged_into_id == place_id)
                .order_by(Place.id)
                .limit(limit)
            )
        ),
    }


# -- name resolution (reports and the place endpoints find what exists) --


class LivePlace(NamedTuple):
    id: int
    name: str
    country: str | None


def place_row(session: Session, place_id: int) -> LivePlace | None:
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
    return LivePlace(row["id"], row["name"], row["country"])


class PlaceCandidate(TypedDict):
    id: int
    name: str
    kind: str
    country: str | None
    parent_id: int | None


def place_candidates(
    session: Session, name_norm: str, *, within: int | None, country: str | None, kind: str | None
) -> list[PlaceCandidate]:
    """Live places known by this normalised name: inside ``within`` if given, else in ``country``.

    Merged places are never matched: their names moved to the place they were merged into.
    """
    params = {"norm": name_norm, "within": within, "country": country, "kind": kind}
    stmt = _candidates_stmt(within is not None, country is not None, kind is not None, False)
    return cast(
        list[PlaceCandidate],
        [dict(r) for r in session.connection().execute(stmt, params).mappings()],
    )


def place_candidates_with_names(
    session: Session, name_norm: str, *, within: int | None, country: str | None, kind: str | None
) -> list[tuple[PlaceCandidate, set[str]]]:
    """``place_candidates``, each with all its normalised names, in one statement."""
    params = {"norm": name_norm, "within": within, "country": country, "kind": kind}
    stmt = _candidates_stmt(within is not None, country is not None, kind is not None, True)
    found: dict[int, tuple[PlaceCandidate, set[str]]] = {}
    for r in session.connection().execute(stmt, params):
        if r.id not in found:
            candidate: PlaceCandidate = {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "country": r.country,
                "parent_id": r.parent_id,
            }
            found[r.id] = (candidate, set())
        found[r.id][1].add(r.other_norm)
    return list(found.values())


@functools.cache
def _candidates_stmt(
    within: bool, by_country: bool, by_kind: bool, names: bool
) -> Select[*tuple[Any, ...]]:
    # Built once per shape, values bound at execution (see app.actors.repository).
    stmt: Select[*tuple[Any, ...]] = (
        select(Place.id, Place.name, Place.kind, Place.country, Place.parent_id)
        .join(PlaceAlias, PlaceAlias.place_id == Place.id)
        .where(PlaceAlias.name_norm == bindparam("norm"), Place.merged_into_id.is_(None))
        .order_by(Place.id)
    )
    if names:
        other = aliased(PlaceAlias)
        stmt = stmt.join(other, other.place_id == Place.id).add_columns(
            other.name_norm.label("other_norm")
        )
    else:
        stmt = stmt.distinct()
    if within:
        stmt = stmt.join(PlaceAncestor, PlaceAncestor.place_id == Place.id).where(
            PlaceAncestor.ancestor_id == bindparam("within"), PlaceAncestor.depth > 0
        )
    elif by_country:
        stmt = stmt.where(Place.country == bindparam("country"))
    if by_kind:
        stmt = stmt.where(Place.kind == bindparam("kind"))
    return stmt


def place_alias_norms(session: Session, place_id: int) -> list[str]:
    return list(
        session.scalars(select(PlaceAlias.name_norm).where(PlaceAlias.place_id == place_id))
    )


class AliasMatch(TypedDict):
    id: int
    name: str
    alias: str
    name_norm: str
    kind: str
    country: str | None
    parent_id: int | None
    depth: int
    latitude: float | None
    longitude: float | None


def places_by_alias_norms(session: Session, norms: Collection[str]) -> list[AliasMatch]:
    """Live places known by any of these normalised names (the draft assistant looks every
    phrase of a text up at once), each with the alias that matched."""
    # Two queries, each on one index (the aliases by name, then their places by id): in one
    # join, SQLite walks every place and probes its aliases for every name (0.35 s for the
    # 1,800 phrases of a 1,000-word text over the GED sample's places, against 10 ms).
    aliases: list[Any] = []
    for names in chunks(norms):
        aliases += session.execute(
            select(PlaceAlias.place_id, PlaceAlias.name, PlaceAlias.name_norm).where(
                PlaceAlias.name_norm.in_(names)
            )
        ).all()
    places: dict[int, dict[str, Any]] = {}
    for ids in chunks(a.place_id for a in aliases):
        stmt = select(
            Place.id,
            Place.name,
            Place.kind,
            Place.country,
            Place.parent_id,
            Place.depth,
            Place.latitude,
            Place.longitude,
        ).where(Place.id.in_(ids), Place.merged_into_id.is_(None))
        places.update((r["id"], dict(r)) for r in session.execute(stmt).mappings())
    found = [
        {**places[a.place_id], "alias": a.name, "name_norm": a.name_norm}
        for a in aliases
        if a.place_id in places
    ]
    found.sort(key=lambda r: (r["id"], r["name_norm"]))
    return cast(list[AliasMatch], found)
