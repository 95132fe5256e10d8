"""Rules for creating, editing, moving, merging and deleting places (writes via ``app.writer``).

Names are normalised and matched as ingestion matches them, so a place created here is the one
a later report naming it finds. A place's slot (its name under its parent, or at the top of its
country) is unique; a move rewrites the closure rows of the whole subtree and refuses cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.core import etag
from app.core.edits import id_list, invalid
from app.core.errors import Conflict, MergedRecord, NameTaken, NotFound, StillReferenced
from app.core.normalize import normalize_name
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyRequest
from app.places import repository
from app.places.schemas import PlaceCreate, PlaceDetail, PlaceUpdate
from app.writer.transaction import write_transaction

KIND = "place"


def tag(place: Mapping[str, Any]) -> str:
    """The ETag of a place row: an edit's (``PlaceForEdit``) or the detail's."""
    return etag.make(KIND, place["id"], place["version"])


def location(place_id: int) -> str:
    return f"/v1/places/{place_id}"


def _detail_json(session: Session, place_id: int) -> dict[str, Any]:
    place = repository.get_place(session, place_id)
    assert place is not None
    return PlaceDetail.model_validate(place).model_dump(mode="json")


def _live(session: Session, place_id: int, if_match: str | None) -> repository.PlaceForEdit:
    """The place to edit: 404 when missing, 409 when merged, 412 when If-Match is stale."""
    current = repository.place_for_edit(session, place_id)
    if current is None:
        raise NotFound(f"No place with id {place_id}.")
    if current["merged_into_id"] is not None:
        raise MergedRecord(
            f"Place {place_id} was merged into place {current['merged_into_id']}; edit that one.",
            merged_into=current["merged_into_id"],
        )
    etag.check(if_match, tag(current))
    return current


def _live_reference(session: Session, field: str, place_id: int) -> None:
    """A place the body refers to must exist and not be merged (422 otherwise)."""
    state = repository.merge_state(session, place_id)
    if state is None:
        raise invalid(field, f"no place with id {place_id}", "unknown_place")
    if state["merged_into_id"] is not None:
        raise invalid(
            field,
            f"place {place_id} was merged into place {state['merged_into_id']}; use that id",
            "merged_place",
        )


def _check_kind(session: Session, kind: str) -> None:
    if not repository.place_kind_exists(session, kind):
        raise invalid(
            "kind", f"unknown place kind {kind!r} (see GET /v1/vocabulary)", "unknown_kind"
        )


def _name_norm(field: str, name: str) -> str:
    norm = normalize_name(name)
    if not norm:
        raise invalid(field, f"{name!r} has no letters to match on", "empty_name")
    return norm


def _check_slot(
    session: Session,
    name_norm: str,
    *,
    parent_id: int | None,
    country: str | None,
    place_id: int | None = None,
) -> None:
    holder = repository.holder_of_name(session, name_norm, parent_id=parent_id, country=country)
    if holder is None or holder["id"] == place_id:
        return
    where = f"under place {parent_id}" if parent_id is not None else f"at the top of {country}"
    merged = (
        f" (merged into place {holder['merged_into_id']}, it keeps its name as a redirect)"
        if holder["merged_into_id"] is not None
        else ""
    )
    raise NameTaken(
        f"Place {holder['id']} ({holder['name']!r}) already has this name {where}{merged}.",
        place_id=holder["id"],
    )


def _check_geonames(session: Session, geonames_id: int, place_id: int | None = None) -> None:
    holder = repository.place_by_geonames(session, geonames_id)
    if holder is not None and holder != place_id:
        raise Conflict(f"Place {holder} already has GeoNames id {geonames_id}.", place_id=holder)


# -- create ------------------------------------------------------------------------------------


def create_place(
    engine: Engine, body: PlaceCreate, api_key_id: int | None, idem: IdempotencyRequest | None
) -> Outcome:
    """POST /v1/places: 201 with the new place (stored with an Idempotency-Key when given)."""

    def work(session: Session) -> Outcome:
        norm = _name_norm("name", body.name)
        for i, alias in enumerate(body.aliases):
            _name_norm(f"aliases.{i}", alias)
        _check_kind(session, body.kind)
        country = body.country
        if body.parent_id is not None:
            _live_reference(session, "parent_id", body.parent_id)
            if country is None:
                parent = repository.place_for_edit(session, body.parent_id)
                country = parent["country"] if parent else None
        # Taken when a report naming it in this scope would match an existing place (the
        # same rule ingestion resolves names by), or when its slot is held.
        for name in [body.name, *body.aliases]:
            found = repository.place_candidates(
                session,
                normalize_name(name),
                within=body.parent_id,
                country=country if body.parent_id is None else None,
                kind=None,
            )
            if found:
                names = ", ".join(f"{c['id']} ({c['name']!r})" for c in found[:5])
                raise NameTaken(
                    f"The name {name!r} already matches place {names} in this scope; edit or "
                    "alias that place instead, or refer to it by id.",
                    place_ids=[c["id"] for c in found],
                )
        _check_slot(session, norm, parent_id=body.parent_id, country=country)
        if body.geonames_id is not None:
            _check_geonames(session, body.geonames_id)
        place_id = writer.create_place(
            session,
            writer.NewPlace(
                name=body.name,
                kind=body.kind,
                country=country,
                parent_id=body.parent_id,
                latitude=body.latitude,
                longitude=body.longitude,
                geonames_id=body.geonames_id,
                aliases=body.aliases,
            ),
            api_key_id=api_key_id,
        )
        return Outcome(201, _detail_json(session, place_id))

    return idempotency.run(engine, idem, work)


# -- edit --------------------------------------------------------------------------------------


def update_place(
    engine: Engine, place_id: int, patch: PlaceUpdate, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """PATCH /v1/places/{id}; returns the place as committed."""
    etag.require(if_match)
    values = patch.given()

    def work(session: Session) -> Outcome:
        current = _live(session, place_id, if_match)
        norm = _name_norm("name", values["name"]) if "name" in values else current["name_norm"]
        if "kind" in values:
            _check_kind(session, values["kind"])
        latitude = values.get("latitude", current["latitude"])
        longitude = values.get("longitude", current["longitude"])
        if (latitude is None) != (longitude is None):
            field = "latitude" if "latitude" in values else "longitude"
            raise invalid(field, "latitude and longitude come together", "coordinates")
        if values.get("geonames_id") is not None:
            _check_geonames(session, values["geonames_id"], place_id)
        parent_id = values.get("parent_id", current["parent_id"])
        if "parent_id" in values and parent_id is not None and parent_id != current["parent_id"]:
            _live_reference(session, "parent_id", parent_id)
            if repository.is_inside(session, parent_id, place_id):
                raise invalid(
                    "parent_id",
                    f"place {parent_id} is inside place {place_id} (or is it): moving a place "
                    "into itself would make a cycle",
                    "cycle",
                )
        country = values.get("country", current["country"])
        moved = parent_id != current["parent_id"]
        renamed = norm != current["name_norm"]
        if moved or renamed or (parent_id is None and country != current["country"]):
            _check_slot(session, norm, parent_id=parent_id, country=country, place_id=place_id)
        writer.update_place(session, place_id, current["version"], values, api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    with read_session(engine) as session:
        place = repository.get_place(session, place_id)
    assert place is not None
    return place


# -- delete ------------------------------------------------------------------------------------


def delete_place(
    engine: Engine, place_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    def work(session: Session) -> Outcome:
        current = _live(session, place_id, if_match)
        refs = repository.references(session, place_id)
        if any(refs.values()):
            parts = []
            if refs["events"]:
                parts.append(f"events {id_list(refs['events'])} are at it")
            if refs["children"]:
                parts.append(f"places {id_list(refs['children'])} are inside it")
            if refs["merged"]:
                parts.append(f"places {id_list(refs['merged'])} were merged into it")
            raise StillReferenced(
                f"Place {place_id} is still referenced: {'; '.join(parts)}. Move or merge them "
                "first (or merge this place into another).",
                references=refs,
            )
        writer.delete_place(session, place_id, current["version"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": KIND, "id": place_id}


# -- merge -------------------------------------------------------------------------------------


def merge_place(
    engine: Engine,
    place_id: int,
    into: int,
    if_match: str | None,
    api_key_id: int | None,
    idem: IdempotencyRequest | None,
) -> Outcome:
    """POST /v1/places/{id}/merge: 200 with the surviving place."""

    def work(session: Session) -> Outcome:
        loser = _live(session, place_id, if_match)
        if into == place_id:
            raise invalid("into", "a place cannot be merged into itself", "merge_into_self")
        survivor = repository.place_for_edit(session, into)
        if survivor is None:
            raise invalid("into", f"no place with id {into}", "unknown_place")
        if survivor["merged_into_id"] is not None:
            raise MergedRecord(
                f"Place {into} was itself merged into place {survivor['merged_into_id']}; "
                "merge into that one.",
                merged_into=survivor["merged_into_id"],
            )
        if repository.is_inside(session, into, place_id):
            raise invalid(
                "into",
                f"place {into} is inside place {place_id}: its children would move under "
                "their own descendant",
                "cycle",
            )
        moving = repository.children_by_name(session, place_id, live_only=True)
        staying = repository.children_by_name(session, into, live_only=False)
        clashes = sorted(set(moving) & set(staying))
        if clashes:
            pairs = "; ".join(
                f"{moving[n]['id']} ({moving[n]['name']!r}) and {staying[n]['id']}" for n in clashes
            )
            raise NameTaken(
                f"Places inside both have the same names: {pairs}. Merge those first.",
                place_ids=[moving[n]["id"] for n in clashes],
            )
        writer.merge_places(session, place_id, into, loser["version"], api_key_id=api_key_id)
        return Outcome(200, _detail_json(session, into))

    return idempotency.run(engine, idem, work)
