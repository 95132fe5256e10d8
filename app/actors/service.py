"""Rules for creating, editing, merging and deleting actors, their aliases and affiliations.

Names are normalised and matched as ingestion matches them (any alias, within the country and
kind), so an actor created here is the one a later report naming it finds, and a name that a
report would already resolve to another actor is refused. Writes go through ``app.writer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.actors import repository
from app.actors.schemas import (
    ActorAliasRead,
    ActorCreate,
    ActorDetail,
    ActorUpdate,
    AffiliationCreate,
    AffiliationRead,
)
from app.core import etag
from app.core.edits import id_list, invalid
from app.core.errors import Conflict, MergedRecord, NameTaken, NotFound, StillReferenced
from app.core.normalize import normalize_name
from app.core.outcomes import Outcome
from app.db.session import read_session
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyRequest
from app.writer.transaction import write_transaction

KIND = "actor"


def tag(actor: Mapping[str, Any]) -> str:
    """The ETag of an actor row: an edit's (``ActorForEdit``) or the detail's."""
    return etag.make(KIND, actor["id"], actor["version"])


def location(actor_id: int) -> str:
    return f"/v1/actors/{actor_id}"


def _detail_json(session: Session, actor_id: int) -> dict[str, Any]:
    actor = repository.get_actor(session, actor_id)
    assert actor is not None
    return ActorDetail.model_validate(actor).model_dump(mode="json")


def _live(session: Session, actor_id: int, if_match: str | None) -> repository.ActorForEdit:
    """The actor to edit: 404 when missing, 409 when merged, 412 when If-Match is stale."""
    current = repository.actor_for_edit(session, actor_id)
    if current is None:
        raise NotFound(f"No actor with id {actor_id}.")
    if current["merged_into_id"] is not None:
        raise MergedRecord(
            f"Actor {actor_id} was merged into actor {current['merged_into_id']}; edit that one.",
            merged_into=current["merged_into_id"],
        )
    etag.check(if_match, tag(current))
    return current


def _check_kind(session: Session, kind: str) -> None:
    if not repository.actor_kind_exists(session, kind):
        raise invalid(
            "kind", f"unknown actor kind {kind!r} (see GET /v1/vocabulary)", "unknown_kind"
        )


def _name_norm(field: str, name: str) -> str:
    norm = normalize_name(name)
    if not norm:
        raise invalid(field, f"{name!r} has no letters to match on", "empty_name")
    return norm


def _check_names_free(
    session: Session,
    names: Iterable[str],
    *,
    country: str | None,
    kind: str,
    actor_id: int | None = None,
) -> None:
    """409 when a report naming one of these would already match another actor in the scope."""
    for name in names:
        found = [
            c
            for c in repository.actor_candidates(session, normalize_name(name), country, kind)
            if c["id"] != actor_id
        ]
        if found:
            listed = ", ".join(f"{c['id']} ({c['name']!r})" for c in found[:5])
            raise NameTaken(
                f"The name {name!r} already matches actor {listed} (same kind and country); "
                "edit or alias that actor instead, or merge the two.",
                actor_ids=[c["id"] for c in found],
            )


# -- create ------------------------------------------------------------------------------------


def create_actor(
    engine: Engine, body: ActorCreate, api_key_id: int | None, idem: IdempotencyRequest | None
) -> Outcome:
    """POST /v1/actors: 201 with the new actor (stored with an Idempotency-Key when given)."""

    def work(session: Session) -> Outcome:
        _name_norm("name", body.name)
        for i, alias in enumerate(body.aliases):
            _name_norm(f"aliases.{i}", alias)
        _check_kind(session, body.kind)
        _check_names_free(session, [body.name, *body.aliases], country=body.country, kind=body.kind)
        actor_id = writer.create_actor(
            session,
            writer.NewActor(
                name=body.name, kind=body.kind, country=body.country, aliases=body.aliases
            ),
            api_key_id=api_key_id,
        )
        return Outcome(201, _detail_json(session, actor_id))

    return idempotency.run(engine, idem, work)


# -- edit --------------------------------------------------------------------------------------


def update_actor(
    engine: Engine, actor_id: int, patch: ActorUpdate, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    """PATCH /v1/actors/{id}; returns the actor as committed."""
    etag.require(if_match)
    given = patch.given()
    add = list(given.pop("add_aliases", None) or [])
    remove = list(given.pop("remove_aliases", None) or [])
    values = given

    def work(session: Session) -> Outcome:
        current = _live(session, actor_id, if_match)
        norm = _name_norm("name", values["name"]) if "name" in values else current["name_norm"]
        if "kind" in values:
            _check_kind(session, values["kind"])
        add_norms = [_name_norm(f"add_aliases.{i}", name) for i, name in enumerate(add)]
        remove_norms = [_name_norm(f"remove_aliases.{i}", name) for i, name in enumerate(remove)]
        known = {a["name_norm"] for a in repository.alias_rows(session, actor_id)}
        for i, (name, n) in enumerate(zip(remove, remove_norms, strict=True)):
            if n not in known:
                raise invalid(
                    f"remove_aliases.{i}", f"{name!r} is not a name of this actor", "not_an_alias"
                )
            if n == norm:
                raise invalid(
                    f"remove_aliases.{i}",
                    f"{name!r} is the actor's primary name; rename the actor first",
                    "primary_name",
                )
            if n in add_norms:
                raise invalid(
                    f"remove_aliases.{i}", f"{name!r} is both added and removed", "alias_conflict"
                )
        country = values.get("country", current["country"])
        kind = values.get("kind", current["kind"])
        new_names = [values["name"]] if norm != current["name_norm"] else []
        new_names += [name for name, n in zip(add, add_norms, strict=True) if n not in known]
        if country != current["country"] or kind != current["kind"]:
            # In a new scope every name the actor keeps must be free there too.
            kept = [a["name"] for a in repository.alias_rows(session, actor_id)]
            new_names += [name for name in kept if normalize_name(name) not in remove_norms]
        _check_names_free(session, new_names, country=country, kind=kind, actor_id=actor_id)
        writer.update_actor(
            session,
            actor_id,
            current["version"],
            values,
            add_aliases=add,
            remove_alias_norms=remove_norms,
            api_key_id=api_key_id,
        )
        return Outcome(200, None)

    write_transaction(engine, work)
    with read_session(engine) as session:
        actor = repository.get_actor(session, actor_id)
    assert actor is not None
    return actor


# -- aliases -----------------------------------------------------------------------------------


def add_alias(
    engine: Engine,
    actor_id: int,
    name: str,
    if_match: str | None,
    api_key_id: int | None,
    idem: IdempotencyRequest | None,
) -> Outcome:
    def work(session: Session) -> Outcome:
        current = _live(session, actor_id, if_match)
        norm = _name_norm("name", name)
        for alias in repository.alias_rows(session, actor_id):
            if alias["name_norm"] == norm:
                raise NameTaken(
                    f"Actor {actor_id} already has the name {alias['name']!r} (alias "
                    f"{alias['id']}), which {name!r} matches.",
                    alias_id=alias["id"],
                )
        _check_names_free(
            session, [name], country=current["country"], kind=current["kind"], actor_id=actor_id
        )
        alias_id = writer.add_actor_alias(session, actor_id, name, api_key_id=api_key_id)
        body = ActorAliasRead(id=alias_id, actor_id=actor_id, name=name, primary=False)
        return Outcome(201, body.model_dump(mode="json"))

    return idempotency.run(engine, idem, work)


def remove_alias(
    engine: Engine, actor_id: int, alias_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    def work(session: Session) -> Outcome:
        current = _live(session, actor_id, if_match)
        alias = next(
            (a for a in repository.alias_rows(session, actor_id) if a["id"] == alias_id), None
        )
        if alias is None:
            raise NotFound(f"Actor {actor_id} has no alias with id {alias_id}.")
        if alias["name_norm"] == current["name_norm"]:
            raise Conflict(
                f"Alias {alias_id} ({alias['name']!r}) is the actor's primary name; rename the "
                "actor first."
            )
        writer.remove_actor_alias(session, actor_id, alias_id, alias["name"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": "actor_alias", "id": alias_id}


# -- affiliations ------------------------------------------------------------------------------


def add_affiliation(
    engine: Engine,
    actor_id: int,
    body: AffiliationCreate,
    if_match: str | None,
    api_key_id: int | None,
    idem: IdempotencyRequest | None,
) -> Outcome:
    def work(session: Session) -> Outcome:
        _live(session, actor_id, if_match)
        if body.actor_id == actor_id:
            raise invalid(
                "actor_id", "an actor cannot be affiliated with itself", "self_affiliation"
            )
        related = repository.merge_state(session, body.actor_id)
        if related is None:
            raise invalid("actor_id", f"no actor with id {body.actor_id}", "unknown_actor")
        if related["merged_into_id"] is not None:
            raise invalid(
                "actor_id",
                f"actor {body.actor_id} was merged into actor {related['merged_into_id']}; use "
                "that id",
                "merged_actor",
            )
        existing = repository.affiliation_between(session, actor_id, body.actor_id, body.relation)
        if existing is not None:
            raise Conflict(
                f"Actor {actor_id} is already {body.relation} actor {body.actor_id} "
                f"(affiliation {existing}).",
                affiliation_id=existing,
            )
        affiliation_id = writer.add_affiliation(
            session,
            writer.NewAffiliation(actor_id, body.actor_id, body.relation, body.since, body.until),
            api_key_id=api_key_id,
        )
        tie = repository.affiliation(session, actor_id, affiliation_id)
        return Outcome(201, AffiliationRead.model_validate(tie).model_dump(mode="json"))

    return idempotency.run(engine, idem, work)


def remove_affiliation(
    engine: Engine,
    actor_id: int,
    affiliation_id: int,
    if_match: str | None,
    api_key_id: int | None,
) -> dict[str, Any]:
    def work(session: Session) -> Outcome:
        _live(session, actor_id, if_match)
        tie = repository.affiliation_row(session, affiliation_id)
        if tie is None or actor_id not in (tie["actor_id"], tie["related_actor_id"]):
            raise NotFound(f"Actor {actor_id} has no affiliation with id {affiliation_id}.")
        writer.remove_affiliation(
            session, affiliation_id, api_key_id=api_key_id, via_actor_id=actor_id
        )
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": "actor_affiliation", "id": affiliation_id}


# -- delete and merge --------------------------------------------------------------------------


def delete_actor(
    engine: Engine, actor_id: int, if_match: str | None, api_key_id: int | None
) -> dict[str, Any]:
    def work(session: Session) -> Outcome:
        current = _live(session, actor_id, if_match)
        refs = repository.references(session, actor_id)
        if any(refs.values()):
            parts = []
            if refs["events"]:
                parts.append(f"it takes part in events {id_list(refs['events'])}")
            if refs["quotes"]:
                parts.append(f"quotes {id_list(refs['quotes'])} speak for it")
            if refs["affiliations"]:
                parts.append(f"it has affiliations {id_list(refs['affiliations'])}")
            if refs["merged"]:
                parts.append(f"actors {id_list(refs['merged'])} were merged into it")
            raise StillReferenced(
                f"Actor {actor_id} is still referenced: {'; '.join(parts)}. Merge it into "
                "another actor instead, or remove those references first.",
                references=refs,
            )
        writer.delete_actor(session, actor_id, current["version"], api_key_id=api_key_id)
        return Outcome(200, None)

    write_transaction(engine, work)
    return {"kind": KIND, "id": actor_id}


def merge_actor(
    engine: Engine,
    actor_id: int,
    into: int,
    if_match: str | None,
    api_key_id: int | None,
    idem: IdempotencyRequest | None,
) -> Outcome:
    """POST /v1/actors/{id}/merge: 200 with the surviving actor."""

    def work(session: Session) -> Outcome:
        loser = _live(session, actor_id, if_match)
        if into == actor_id:
            raise invalid("into", "an actor cannot be merged into itself", "merge_into_self")
        survivor = repository.merge_state(session, into)
        if survivor is None:
            raise invalid("into", f"no actor with id {into}", "unknown_actor")
        if survivor["merged_into_id"] is not None:
            raise MergedRecord(
                f"Actor {into} was itself merged into actor {survivor['merged_into_id']}; "
                "merge into that one.",
                merged_into=survivor["merged_into_id"],
            )
        writer.merge_actors(session, actor_id, into, loser["version"], api_key_id=api_key_id)
        return Outcome(200, _detail_json(session, into))

    return idempotency.run(engine, idem, work)
