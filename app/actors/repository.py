"""All SQL for actors: the list and its filters, the detail, aliases, and what edits check."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, NamedTuple, TypedDict, cast

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app.actors.schemas import ActorFilter
from app.core.normalize import normalize_name, normalize_prefix
from app.core.pagination import PageQuery, fetch_page
from app.db import dialect, merged
from app.db.bulk import chunks
from app.models import (
    Actor,
    ActorAffiliation,
    ActorAlias,
    ActorExternalId,
    ActorKind,
    Dataset,
    Event,
    EventActor,
    EventProvenance,
    Quote,
)

COLUMNS = (Actor.id, Actor.name, Actor.kind, Actor.country, Actor.created_at, Actor.updated_at)


def resolved_id(actor_id: int) -> ColumnElement[int]:
    """The live actor an id stands for, as SQL: itself, or the actor it was merged into."""
    return merged.resolved_id(Actor, actor_id)


def live_id(session: Session, actor_id: int) -> int:
    """The live actor an id stands for, read now (``app.db.merged.live_id``)."""
    return merged.live_id(session, Actor, actor_id)


def filter_clauses(f: ActorFilter) -> list[ColumnElement[bool]]:
    """One parameterised WHERE clause per filter given."""
    # Merged actors live on only as redirects to the actor they were merged into.
    clauses: list[ColumnElement[bool]] = [Actor.merged_into_id.is_(None)]
    if f.name is not None:
        # actor_alias holds every name, the primary one included.
        named = select(ActorAlias.actor_id).where(ActorAlias.name_norm == normalize_name(f.name))
        clauses.append(Actor.id.in_(named))
    if f.name_prefix is not None and (key := normalize_prefix(f.name_prefix)):
        # Every name, aliases included: a range on actor_alias's name index.
        starting = select(ActorAlias.actor_id).where(dialect.starts_with(ActorAlias.name_norm, key))
        clauses.append(Actor.id.in_(starting))
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
    stmt = select(
        *COLUMNS,
        Actor.name_norm,
        Actor.version,
        Actor.merged_into_id,
        event_count.label("event_count"),
    ).where(Actor.id == actor_id)
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
    actor["external_ids"] = external_ids(session, actor_id)
    actor["datasets"] = datasets(session, actor_id)
    return actor


def external_ids(session: Session, actor_id: int) -> list[dict[str, Any]]:
    """The actor's ids in the datasets it was imported from (UCDP's side ids), issue 12."""
    return [
        dict(r)
        for r in session.execute(
            select(Dataset.name.label("dataset"), ActorExternalId.external_id)
            .join(Dataset, Dataset.id == ActorExternalId.dataset_id)
            .where(ActorExternalId.actor_id == actor_id)
            .order_by(Dataset.name, ActorExternalId.external_id)
        ).mappings()
    ]


def datasets(session: Session, actor_id: int) -> list[str]:
    """The datasets whose events name the actor (where it came from; reports are ``reports``)."""
    imported = (
        select(Dataset.name)
        .join(EventProvenance, EventProvenance.dataset_id == Dataset.id)
        .join(EventActor, EventActor.event_id == EventProvenance.event_id)
        .where(EventActor.actor_id == actor_id)
        .distinct()
    )
    names = sorted(set(session.scalars(imported)))
    reported = session.execute(
        select(EventActor.event_id)
        .outerjoin(EventProvenance, EventProvenance.event_id == EventActor.event_id)
        .where(EventActor.actor_id == actor_id, EventProvenance.event_id.is_(None))
        .limit(1)
    ).first()
    return [*names, *(["reports"] if reported is not None else [])]


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
            ActorAffiliation.id.label("affiliation_id"),
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
            "id": r["affiliation_id"],
            "actor": {"id": r["id"], "name": r["name"], "kind": r["kind"]},
            "relation": r["relation"],
            "since": r["since_date"],
            "until": r["until_date"],
        }
        for r in session.execute(stmt).mappings()
    ]


def affiliation(session: Session, actor_id: int, affiliation_id: int) -> dict[str, Any] | None:
    """One tie of the actor's, read from its side (in either direction), or None."""
    for outgoing in (True, False):
        for tie in _ties(session, actor_id, outgoing=outgoing):
            if tie["id"] == affiliation_id:
                return tie
    return None


# -- edits -------------------------------------------------------------------------------------


class ActorForEdit(TypedDict):
    id: int
    version: int
    merged_into_id: int | None
    name: str
    name_norm: str
    kind: str
    country: str | None


def actor_for_edit(session: Session, actor_id: int) -> ActorForEdit | None:
    """The fields an edit is checked against, with the version its ETag names."""
    row = (
        session.execute(
            select(
                Actor.id,
                Actor.version,
                Actor.merged_into_id,
                Actor.name,
                Actor.name_norm,
                Actor.kind,
                Actor.country,
            ).where(Actor.id == actor_id)
        )
        .mappings()
        .first()
    )
    return cast(ActorForEdit, dict(row)) if row else None


class MergeState(TypedDict):
    id: int
    merged_into_id: int | None


def merge_state(session: Session, actor_id: int) -> MergeState | None:
    """{id, merged_into_id} of an actor, or None when there is no such actor."""
    row = (
        session.execute(select(Actor.id, Actor.merged_into_id).where(Actor.id == actor_id))
        .mappings()
        .first()
    )
    return cast(MergeState, dict(row)) if row else None


def actor_kind_exists(session: Session, kind: str) -> bool:
    return session.execute(select(ActorKind.name).where(ActorKind.name == kind)).first() is not None


class AliasRow(TypedDict):
    id: int
    name: str
    name_norm: str


def alias_rows(session: Session, actor_id: int) -> list[AliasRow]:
    stmt = (
        select(ActorAlias.id, ActorAlias.name, ActorAlias.name_norm)
        .where(ActorAlias.actor_id == actor_id)
        .order_by(ActorAlias.id)
    )
    return cast(list[AliasRow], [dict(r) for r in session.execute(stmt).mappings()])


def list_aliases(
    session: Session, actor_id: int, query: PageQuery
) -> tuple[list[dict[str, Any]], str | None]:
    """Every name of the actor, the primary one (``primary``) included, in the order added."""
    stmt = (
        select(
            ActorAlias.id,
            ActorAlias.actor_id,
            ActorAlias.name,
            (ActorAlias.name_norm == Actor.name_norm).label("primary"),
        )
        .join(Actor, Actor.id == ActorAlias.actor_id)
        .where(ActorAlias.actor_id == actor_id)
    )
    return fetch_page(session, stmt, query, columns=(ActorAlias.id,))


class AffiliationRow(TypedDict):
    id: int
    actor_id: int
    related_actor_id: int
    relation: str


def affiliation_row(session: Session, affiliation_id: int) -> AffiliationRow | None:
    row = (
        session.execute(
            select(
                ActorAffiliation.id,
                ActorAffiliation.actor_id,
                ActorAffiliation.related_actor_id,
                ActorAffiliation.relation,
            ).where(ActorAffiliation.id == affiliation_id)
        )
        .mappings()
        .first()
    )
    return cast(AffiliationRow, dict(row)) if row else None


def affiliation_between(
    session: Session, actor_id: int, related_actor_id: int, relation: str
) -> int | None:
    return session.execute(
        select(ActorAffiliation.id).where(
            ActorAffiliation.actor_id == actor_id,
            ActorAffiliation.related_actor_id == related_actor_id,
            ActorAffiliation.relation == relation,
        )
    ).scalar()


class ActorReferences(TypedDict):
    events: list[int]
    quotes: list[int]
    affiliations: list[int]
    merged: list[int]


def references(session: Session, actor_id: int, limit: int = 10) -> ActorReferences:
    """What refers to an actor, a few ids of each: events, quotes spoken for it, affiliations
    (either direction), actors merged into it."""
    return {
        "events": list(
            session.scalars(
                select(EventActor.event_id)
                .where(EventActor.actor_id == actor_id)
                .order_by(EventActor.event_id)
                .limit(limit)
            )
        ),
        "quotes": list(
            session.scalars(
                select(Quote.id)
                .where(Quote.speaks_for_actor_id == actor_id)
                .order_by(Quote.id)
                .limit(limit)
            )
        ),
        "affiliations": list(
            session.scalars(
                select(ActorAffiliation.id)
                .where(
                    (ActorAffiliation.actor_id == actor_id)
                    | (ActorAffiliation.related_actor_id == actor_id)
                )
                .order_by(ActorAffiliation.id)
                .limit(limit)
            )
        ),
        "merged": list(
            session.scalars(
                select(Actor.id)
                .where(Actor.merged_into_id == actor_id)
                .order_by(Actor.id)
                .limit(limit)
            )
        ),
    }


# -- name resolution (reports and the actor endpoints find what exists) --


class LiveActor(NamedTuple):
    id: int
    name: str


def live_actor(session: Session, actor_id: int) -> LiveActor | None:
    """The actor (id, name), or its survivor when it was merged (merges keep one step)."""
    row = session.execute(
        select(Actor.id, Actor.name, Actor.merged_into_id).where(Actor.id == actor_id)
    ).first()
    if row is None:
        return None
    if row.merged_into_id is not None:
        return live_actor(session, row.merged_into_id)
    return LiveActor(row.id, row.name)


class ActorCandidate(TypedDict):
    id: int
    name: str
    kind: str
    country: str | None


def actor_candidates(
    session: Session, name_norm: str, country: str | None, kind: str | None
) -> list[ActorCandidate]:
    """Live actors known by this normalised name (or alias), within the country and kind given.

    Merged actors are never matched: their names moved to the actor they were merged into.
    """
    params = {"norm": name_norm, "country": country, "kind": kind}
    stmt = _candidates_stmt(country is not None, kind is not None, names=False)
    return cast(
        list[ActorCandidate],
        [dict(r) for r in session.connection().execute(stmt, params).mappings()],
    )


def actor_candidates_with_names(
    session: Session, name_norm: str, country: str | None, kind: str | None
) -> list[tuple[ActorCandidate, set[str]]]:
    """``actor_candidates``, each with all its normalised names, in one statement (a report
    that matches an actor adds the aliases it gives that the actor lacks)."""
    params = {"norm": name_norm, "country": country, "kind": kind}
    stmt = _candidates_stmt(country is not None, kind is not None, names=True)
    found: dict[int, tuple[ActorCandidate, set[str]]] = {}
    for r in session.connection().execute(stmt, params):
        if r.id not in found:
            found[r.id] = (
                {"id": r.id, "name": r.name, "kind": r.kind, "country": r.country},
                set(),
            )
        found[r.id][1].add(r.other_norm)
    return list(found.values())


@functools.cache
def _candidates_stmt(by_country: bool, by_kind: bool, *, names: bool) -> Select[*tuple[Any, ...]]:
    # Built once per shape, values bound at execution: a report matches several actors, and
    # building the statement cost more than running it.
    stmt: Select[*tuple[Any, ...]] = (
        select(Actor.id, Actor.name, Actor.kind, Actor.country)
        .join(ActorAlias, ActorAlias.actor_id == Actor.id)
        .where(ActorAlias.name_norm == bindparam("norm"), Actor.merged_into_id.is_(None))
        .order_by(Actor.id)
    )
    if names:
        other = aliased(ActorAlias)
        stmt = stmt.join(other, other.actor_id == Actor.id).add_columns(
            other.name_norm.label("other_norm")
        )
    else:
        stmt = stmt.distinct()
    if by_country:
        stmt = stmt.where(Actor.country == bindparam("country"))
    if by_kind:
        stmt = stmt.where(Actor.kind == bindparam("kind"))
    return stmt


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


class ActorAliasMatch(TypedDict):
    id: int
    name: str
    alias: str
    name_norm: str
    kind: str
    country: str | None


def actors_by_alias_norms(session: Session, norms: Collection[str]) -> list[ActorAliasMatch]:
    """Live actors known by any of these normalised names, each with the alias that matched."""
    # Two queries, each on one index (see places_by_alias_norms).
    aliases: list[Any] = []
    for names in chunks(norms):
        aliases += session.execute(
            select(ActorAlias.actor_id, ActorAlias.name, ActorAlias.name_norm).where(
                ActorAlias.name_norm.in_(names)
            )
        ).all()
    actors: dict[int, dict[str, Any]] = {}
    for ids in chunks(a.actor_id for a in aliases):
        stmt = select(Actor.id, Actor.name, Actor.kind, Actor.country).where(
            Actor.id.in_(ids), Actor.merged_into_id.is_(None)
        )
        actors.update((r["id"], dict(r)) for r in session.execute(stmt).mappings())
    found = [
        {**actors[a.actor_id], "alias": a.name, "name_norm": a.name_norm}
        for a in aliases
        if a.actor_id in actors
    ]
    found.sort(key=lambda r: (r["id"], r["name_norm"]))
    return cast(list[ActorAliasMatch], found)
