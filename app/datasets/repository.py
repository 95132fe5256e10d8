"""SQL the dataset loader needs to find what already exists (writes go through app.writer).

Every lookup takes a whole batch's keys and answers in a few statements (``IN`` lists in
chunks), so a batch of thousands of rows costs a handful of round trips, not thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, Final, TypedDict, TypeVar, cast

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session

from app.db import bulk
from app.models import (
    Actor,
    ActorAffiliation,
    ActorAlias,
    ActorExternalId,
    ActorKind,
    Article,
    Dataset,
    DatePrecision,
    DimensionCode,
    DimensionScheme,
    Event,
    EventProvenance,
    EventRole,
    EventType,
    Outlet,
    Place,
    PlaceAlias,
    PlaceAncestor,
    PlaceKind,
    SubEventType,
)

# Keys per IN (...) list: few round trips per batch, well under SQLite's parameter limit.
_CHUNK = 1000
# (outlet_id, hash) pairs take two parameters each.
_PAIR_CHUNK = 500

T = TypeVar("T")


def _chunks(values: Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    ordered = list(dict.fromkeys(values))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


class DatasetRow(TypedDict):
    id: int
    licence: str | None
    citation: str | None
    url: str | None


def dataset(session: Session, name: str) -> DatasetRow | None:
    row = (
        session.execute(
            select(Dataset.id, Dataset.licence, Dataset.citation, Dataset.url).where(
                Dataset.name == name
            )
        )
        .mappings()
        .first()
    )
    return cast(DatasetRow, dict(row)) if row else None


class Provenance(TypedDict):
    external_id: str
    event_id: int
    content_sha256: str
    imported_version: int
    # The event's, read second.
    version: int
    status: str


def provenance(
    session: Session, dataset_id: int, external_ids: Iterable[str]
) -> dict[str, Provenance]:
    """The imported row behind each event of the dataset with one of these ids, with the
    event's current version and status: what a re-import compares against.

    Two indexed lookups rather than one join: while a table grows during an import its
    statistics lag, and PostgreSQL then hash-joins the whole event table for each batch.
    """
    out: dict[str, Provenance] = {}
    for chunk in _chunks(external_ids):
        for row in session.execute(
            select(
                EventProvenance.external_id,
                EventProvenance.event_id,
                EventProvenance.content_sha256,
                EventProvenance.imported_version,
            ).where(
                EventProvenance.dataset_id == dataset_id, EventProvenance.external_id.in_(chunk)
            )
        ).mappings():
            # version and status are filled in below (every event_id is an event's).
            out[row["external_id"]] = cast(Provenance, dict(row))
    by_event = {row["event_id"]: row for row in out.values()}
    for event_ids in _chunks(by_event):
        for event_id, version, status in session.execute(
            select(Event.id, Event.version, Event.status).where(Event.id.in_(event_ids))
        ):
            imported = by_event[event_id]
            imported["version"] = version
            imported["status"] = status
    return out


def events_by_external_id(session: Session, external_ids: Iterable[str]) -> dict[str, int]:
    """Events holding these ``event.external_id`` values (whatever made them)."""
    out: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        for external_id, event_id in session.execute(
            select(Event.external_id, Event.id).where(Event.external_id.in_(chunk))
        ):
            if external_id is not None:
                out[external_id] = event_id
    return out


class ImportedEvent(TypedDict):
    external_id: str
    event_id: int
    imported_version: int
    version: int


def active_imported_events(session: Session, dataset_id: int) -> Iterator[ImportedEvent]:
    """Every active event imported from the dataset (external id, event id, versions),
    streamed: a dataset has hundreds of thousands."""
    stmt = (
        select(
            EventProvenance.external_id,
            EventProvenance.event_id,
            EventProvenance.imported_version,
            Event.version,
        )
        .join(Event, Event.id == EventProvenance.event_id)
        .where(EventProvenance.dataset_id == dataset_id, Event.status == "active")
        .order_by(EventProvenance.event_id)
        .execution_options(yield_per=5000)
    )
    for row in session.execute(stmt).mappings():
        yield cast(ImportedEvent, dict(row))


# -- places ------------------------------------------------------------------------------------


class TopLevelPlace(TypedDict):
    id: int
    country: str  # one of those asked for
    kind: str
    name_norm: str
    located: bool  # it has coordinates


def top_level_places(session: Session, countries: Iterable[str]) -> list[TopLevelPlace]:
    """Live places without a parent in these countries: where a country's place is found."""
    out: list[dict[str, Any]] = []
    for chunk in _chunks(countries):
        out += [
            dict(r)
            for r in session.execute(
                select(
                    Place.id,
                    Place.country,
                    Place.kind,
                    Place.name_norm,
                    Place.latitude.is_not(None).label("located"),
                )
                .where(
                    Place.parent_id.is_(None),
                    Place.merged_into_id.is_(None),
                    Place.country.in_(chunk),
                )
                .order_by(Place.id)
            ).mappings()
        ]
    return cast(list[TopLevelPlace], out)


class PlaceWithin(TypedDict):
    alias_norm: str  # the name it is known by (its own or an alias)
    id: int
    parent_id: int | None
    kind: str
    name_norm: str  # its own name
    located: bool  # it has coordinates
    merged_into_id: int | None  # always None: merged places are left out
    ancestor_id: int  # the place of ``ancestors`` it is inside


def places_named_within(
    session: Session, ancestors: Iterable[int], names: Iterable[str]
) -> list[PlaceWithin]:
    """Live places known by one of these normalised names (or aliases) anywhere inside one of
    these places, as the report pipeline matches a place inside its parent.

    One row per (ancestor, name, place): the caller picks among several candidates. Two
    queries, each on one index (the places by alias, then their ancestors): asking for both
    lists in one join lets SQLite probe every ancestor of the list for every name.
    """
    wanted = set(ancestors)
    named: list[dict[str, Any]] = []
    for chunk in _chunks(names):
        named += [
            dict(r)
            for r in session.execute(
                select(
                    PlaceAlias.name_norm.label("alias_norm"),
                    Place.id,
                    Place.parent_id,
                    Place.kind,
                    Place.name_norm,
                    Place.latitude.is_not(None).label("located"),
                    Place.merged_into_id,
                )
                .join(Place, Place.id == PlaceAlias.place_id)
                .where(PlaceAlias.name_norm.in_(chunk))
            ).mappings()
            # Merged places are left out here, not in SQL: a "merged_into_id IS NULL" there
            # makes SQLite scan every live place through that column's index.
            if r["merged_into_id"] is None
        ]
    inside: dict[int, list[int]] = {}
    for chunk in _chunks(r["id"] for r in named):
        for place_id, ancestor_id in session.execute(
            select(PlaceAncestor.place_id, PlaceAncestor.ancestor_id).where(
                PlaceAncestor.place_id.in_(chunk), PlaceAncestor.depth > 0
            )
        ):
            if ancestor_id in wanted:
                inside.setdefault(place_id, []).append(ancestor_id)
    return cast(
        list[PlaceWithin],
        sorted(
            (
                {**row, "ancestor_id": ancestor_id}
                for row in named
                for ancestor_id in inside.get(row["id"], ())
            ),
            key=lambda r: r["id"],
        ),
    )


def place_alias_norms(session: Session, place_ids: Iterable[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for chunk in _chunks(place_ids):
        for place_id, norm in session.execute(
            select(PlaceAlias.place_id, PlaceAlias.name_norm).where(PlaceAlias.place_id.in_(chunk))
        ):
            out.setdefault(place_id, set()).add(norm)
    return out


# -- actors ------------------------------------------------------------------------------------


def actors_by_external_id(
    session: Session, dataset_id: int, external_ids: Iterable[str]
) -> dict[str, int]:
    """The live actor behind each of the dataset's actor ids (a merged actor's survivor)."""
    out: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        for external_id, actor_id in session.execute(
            select(ActorExternalId.external_id, func.coalesce(Actor.merged_into_id, Actor.id))
            .join(Actor, Actor.id == ActorExternalId.actor_id)
            .where(ActorExternalId.dataset_id == dataset_id, ActorExternalId.external_id.in_(chunk))
        ):
            out[external_id] = actor_id
    return out


class NamedActor(TypedDict):
    alias_norm: str  # the name it is known by (its own or an alias)
    id: int
    kind: str
    country: str | None
    has_external_id: bool  # it stands for an actor id of this dataset already
    merged_into_id: int | None  # always None: merged actors are left out


def actors_named(session: Session, dataset_id: int, names: Iterable[str]) -> list[NamedActor]:
    """Live actors known by one of these normalised names (or aliases), with their kind,
    country, and whether they already stand for an actor id of this dataset."""
    has_id = exists().where(
        ActorExternalId.actor_id == Actor.id, ActorExternalId.dataset_id == dataset_id
    )
    out: list[dict[str, Any]] = []
    for chunk in _chunks(names):
        out += [
            dict(r)
            for r in session.execute(
                select(
                    ActorAlias.name_norm.label("alias_norm"),
                    Actor.id,
                    Actor.kind,
                    Actor.country,
                    has_id.label("has_external_id"),
                    Actor.merged_into_id,
                )
                .join(Actor, Actor.id == ActorAlias.actor_id)
                .where(ActorAlias.name_norm.in_(chunk))
                .order_by(Actor.id)
            ).mappings()
            if r["merged_into_id"] is None  # in Python: see places_named_within
        ]
    return cast(list[NamedActor], out)


def affiliations(
    session: Session, pairs: Sequence[tuple[int, int]], relation: str
) -> set[tuple[int, int]]:
    """The (actor id, related actor id) pairs among ``pairs`` already tied by ``relation``."""
    out: set[tuple[int, int]] = set()
    for chunk in _chunks(actor for actor, _ in pairs):
        for actor_id, related_id in session.execute(
            select(ActorAffiliation.actor_id, ActorAffiliation.related_actor_id).where(
                ActorAffiliation.actor_id.in_(chunk), ActorAffiliation.relation == relation
            )
        ):
            out.add((actor_id, related_id))
    return out & set(pairs)


# -- outlets and articles ----------------------------------------------------------------------


def outlets_by_norm(session: Session, names: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(names):
        for name_norm, outlet_id in session.execute(
            select(Outlet.name_norm, Outlet.id).where(Outlet.name_norm.in_(chunk))
        ):
            out[name_norm] = outlet_id
    return out


def articles_by_url(session: Session, url_norms: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(url_norms):
        for url_norm, article_id in session.execute(
            select(Article.url_norm, Article.id).where(Article.url_norm.in_(chunk))
        ):
            if url_norm is not None:
                out[url_norm] = article_id
    return out


def articles_by_identity(
    session: Session, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """Articles without URL by (outlet_id, content_sha256): the partial unique index's key.

    Each pair is one lookup in that index. On PostgreSQL the pairs are joined in as a VALUES
    list (one round trip per chunk); on SQLite, which has no round trips to save, one
    prepared statement is run per pair on the driver's connection: a VALUES list of 500
    pairs costs SQLite ~8 ms to compile and materialise, the 500 lookups ~1.5 ms (measured
    on an import's batch, most pairs new). (As ``(outlet_id, content_sha256) IN (...)``,
    SQLite without statistics takes "url_norm IS NULL" on url_norm's unique index for one
    row and scans every article without a URL per batch.) SQLAlchemy cannot render a VALUES
    list SQLite accepts (it names the columns after the alias), and binding thousands of
    parameters through it costs more than the query; so these statements are written out,
    with every value bound.
    """
    connection = session.connection()
    out: dict[tuple[int, str], int] = {}
    if connection.dialect.name == "sqlite":
        with bulk.driver_errors(connection, _IDENTITY_ONE) as raw:
            cursor = raw.cursor()
            try:
                for pair in dict.fromkeys(keys):
                    row = cursor.execute(_IDENTITY_ONE, pair).fetchone()
                    if row is not None:
                        out[pair] = row[0]
            finally:
                cursor.close()
        return out
    for chunk in _chunks(keys, _PAIR_CHUNK):
        sql = _identity_sql(len(chunk), connection.dialect.paramstyle)
        params = tuple(value for pair in chunk for value in pair)
        for outlet_id, found, article_id in connection.exec_driver_sql(sql, params):
            out[(outlet_id, found)] = article_id
    return out


_IDENTITY_ONE: Final = (
    "SELECT id FROM article WHERE outlet_id = ? AND content_sha256 = ? "
    "AND url_norm IS NULL AND content_sha256 IS NOT NULL"
)


@lru_cache(maxsize=8)
def _identity_sql(pairs: int, paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    # SQLite and PostgreSQL both name a VALUES list's columns column1, column2.
    rows = ", ".join([f"({mark}, {mark})"] * pairs)
    return (
        "SELECT article.outlet_id, article.content_sha256, article.id "
        f"FROM (VALUES {rows}) AS wanted "
        "JOIN article ON article.outlet_id = wanted.column1 "
        "AND article.content_sha256 = wanted.column2 "
        "WHERE article.url_norm IS NULL AND article.content_sha256 IS NOT NULL"
    )


class Vocabulary(TypedDict):
    """The seeded vocabularies a record's values must come from."""

    event_types: dict[str, set[str]]  # each event type with its sub-types
    actor_kinds: set[str]
    place_kinds: set[str]
    date_precisions: set[str]
    event_roles: set[str]
    # Issue 12: every scheme, and the codes of the closed ones (an open scheme's codes are
    # whatever the files bring).
    schemes: set[str]
    closed_codes: dict[str, set[str]]


def vocabulary(session: Session) -> Vocabulary:
    """The seeded vocabularies a record's values must come from."""
    subs: dict[str, set[str]] = {name: set() for name in session.scalars(select(EventType.name))}
    for name, event_type in session.execute(select(SubEventType.name, SubEventType.event_type)):
        subs.setdefault(event_type, set()).add(name)
    return {
        "event_types": subs,
        "actor_kinds": set(session.scalars(select(ActorKind.name))),
        "place_kinds": set(session.scalars(select(PlaceKind.name))),
        "date_precisions": set(session.scalars(select(DatePrecision.name))),
        "event_roles": set(session.scalars(select(EventRole.name))),
        "schemes": set(session.scalars(select(DimensionScheme.name))),
        "closed_codes": _closed_codes(session),
    }


def _closed_codes(session: Session) -> dict[str, set[str]]:
    closed = {
        name: set[str]()
        for name in session.scalars(
            select(DimensionScheme.name).where(DimensionScheme.closed.is_(True))
        )
    }
    for scheme, code in session.execute(
        select(DimensionCode.scheme, DimensionCode.code).where(DimensionCode.scheme.in_(closed))
    ):
        closed[scheme].add(code)
    return closed


# -- dimension codes (issue 12) ----------------------------------------------------------------


def dimension_codes(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str | None]]:
    """The id and label of each (scheme, code) that exists."""
    out: dict[tuple[str, str], tuple[int, str | None]] = {}
    by_scheme: dict[str, list[str]] = {}
    for scheme, code in keys:
        by_scheme.setdefault(scheme, []).append(code)
    for scheme, codes in by_scheme.items():
        for chunk in _chunks(codes):
            for code_id, code, label in session.execute(
                select(DimensionCode.id, DimensionCode.code, DimensionCode.label).where(
                    DimensionCode.scheme == scheme, DimensionCode.code.in_(chunk)
                )
            ):
                out[(scheme, code)] = (code_id, label)
    return out


# The tables a dataset import grows, whose statistics the lookups above depend on.
_GROWN = (
    "event",
    "event_provenance",
    "event_actor",
    "event_source",
    "article",
    "outlet",
    "place",
    "place_alias",
    "place_ancestor",
    "actor",
    "actor_alias",
    "actor_external_id",
)


def estimated_rows(session: Session, table: str) -> int:
    """The rows PostgreSQL's planner believes ``table`` has (0 before any ANALYZE; 0 on
    SQLite, which keeps no such estimate)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    estimate = session.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": table}
    ).scalar()
    return max(int(estimate or 0), 0)


def refresh_statistics(session: Session) -> None:
    """Let PostgreSQL's planner see how big the tables have grown (ANALYZE).

    A table filled by an import has no statistics until autovacuum gets to it, and the
    planner then takes it for empty: the provenance lookup, for one, scans every row of the
    dataset for each batch instead of probing its index. SQLite plans these lookups by its
    indexes without statistics (and an ANALYZE there would persist and change every plan),
    so it is left alone.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f"ANALYZE {', '.join(_GROWN)}"))
