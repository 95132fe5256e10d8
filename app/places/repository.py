"""All SQL for reading places."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.core.normalize import normalize_name
from app.core.pagination import fetch_page
from app.models import Event, Place, PlaceAlias, PlaceAncestor
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


def place_with_ancestors(session: Session, place_id: int | None) -> dict[str, Any] | None:
    """The place (id, name, kind, country, latitude, longitude) with its ancestors, outermost first."""
    if place_id is None:
        return None
    row = (
        session.execute(
            select(
                Place.id, Place.name, Place.kind, Place.country, Place.latitude, Place.longitude
            ).where(Place.id == place_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    place = dict(row)
    place["ancestors"] = ancestors(session, place_id)
    return place


def ancestors(session: Session, place_id: int) -> list[dict[str, Any]]:
    """Every place containing ``place_id``, from the outermost inward (the place itself excluded)."""
    stmt = (
        select(Place.id, Place.name, Place.kind, Place.country)
        .join(PlaceAncestor, PlaceAncestor.ancestor_id == Place.id)
        .where(PlaceAncestor.place_id == place_id, PlaceAncestor.depth > 0)
        .order_by(PlaceAncestor.depth.desc())
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def filter_clauses(f: PlaceFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    clauses: list[ColumnElement[bool]] = []
    if f.name is not None:
        # place_alias holds every name, the primary one included.
        named = select(PlaceAlias.place_id).where(PlaceAlias.name_norm == normalize_name(f.name))
        clauses.append(Place.id.in_(named))
    if f.kind is not None:
        clauses.append(Place.kind == f.kind)
    if f.country is not None:
        clauses.append(Place.country == f.country)
    if f.parent is not None:
        clauses.append(Place.parent_id == f.parent)
    if f.within is not None:
        inside = select(PlaceAncestor.place_id).where(
            PlaceAncestor.ancestor_id == f.within, PlaceAncestor.depth > 0
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
            .where(Place.parent_id == place_id)
            .order_by(Place.name, Place.id)
        ).mappings()
    ]
    return place
