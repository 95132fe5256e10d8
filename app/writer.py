"""The one writer: every write of conflict data goes through here, inserts in batches.

Ingestion, bulk importers, edits and the benchmark loader all call these functions inside a
transaction they own (``write_session``), so derived state — the place closure table, row
versions (ETags), event revisions, the audit log; search index, rollups and change log as
they arrive — is written in the same transaction as the rows it derives from and can never
be skipped.

Edits change a record only if its ``version`` is still the one the caller read
(``UPDATE ... WHERE id = :id AND version = :expected``, then the row count is checked), so of
two clients holding the same ETag exactly one wins. Every change to a record bumps its
``version`` and ``updated_at``; every change to an event, its actors or its evidence writes an
event revision; every edit appends to the audit log. Checks that need words for the client
(404, 409, 422) are the services' job; the writer trusts its arguments, except for the
version and merge guards, which only a statement can make atomic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from app import derived
from app.core.errors import MergedRecord, PreconditionFailed
from app.core.normalize import normalize_name, normalize_url, sha256_text, url_domain
from app.db import dialect as db_dialect
from app.db.base import utcnow
from app.db.session import write_session
from app.models import (
    Actor,
    ActorAffiliation,
    ActorAlias,
    ActorExternalId,
    Article,
    AuditEntry,
    Dataset,
    Event,
    EventActor,
    EventMeasure,
    EventProvenance,
    EventRevision,
    EventSource,
    EventSourceQuote,
    Outlet,
    Place,
    PlaceAlias,
    PlaceAncestor,
    Quote,
    Report,
)


@dataclass
class NewOutlet:
    name: str
    url: str | None = None
    country: str | None = None
    language: str | None = None
    kind: str | None = None


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


@dataclass
class NewArticle:
    outlet_id: int
    url: str | None = None
    title: str | None = None
    published_date: date | None = None
    dateline: str | None = None
    byline: str | None = None
    language: str | None = None
    body: str | None = None
    # An article with neither URL nor body (a dataset's citation: outlet, date, headline) is
    # identified by a hash the caller makes of what it has. It goes in content_sha256, so the
    # partial unique index (outlet_id, content_sha256) WHERE url_norm IS NULL that dedupes
    # articles by body dedupes these as well. Ignored when there is a body.
    identity_sha256: str | None = None


@dataclass
class NewQuote:
    article_id: int
    text: str
    start: int
    end: int
    speaker_name: str | None = None
    speaker_role: str | None = None
    speaks_for_actor_id: int | None = None


@dataclass
class NewEventActor:
    actor_id: int
    role: str
    side: str | None = None


@dataclass
class NewMeasure:
    kind: str
    value: float | None = None
    qualifier: str | None = None
    quote_id: int | None = None


@dataclass
class NewSource:
    """Evidence: ``article_id`` reports the event, through these quotes of it."""

    article_id: int
    quote_ids: Sequence[int] = ()


@dataclass
class NewEvent:
    event_type: str
    date_start: date
    date_end: date
    date_precision: str
    sub_event_type: str | None = None
    external_id: str | None = None
    place_id: int | None = None
    geo_precision: int | None = None
    summary: str | None = None
    fatalities_low: int | None = None
    fatalities_best: int | None = None
    fatalities_high: int | None = None
    actors: Sequence[NewEventActor] = ()
    measures: Sequence[NewMeasure] = ()
    sources: Sequence[NewSource] = field(default_factory=list)


# -- helpers -----------------------------------------------------------------------------------

# normalize_name, remembered: bulk imports name the same places, actors and outlets
# thousands of times, and their resolvers normalise with this same cache.
normalized = lru_cache(maxsize=1 << 17)(normalize_name)
_normalize = normalized

# Ids per IN (...) list: well under SQLite's bound-parameter limit.
_CHUNK = 500


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i : i + _CHUNK]


# Set in a session's ``info`` by bulk loaders (``bulk_session``): its inserts of many rows
# then go straight to the driver (see ``_driver_insert``). Other writes keep going through
# SQLAlchemy's statements, which tools and tests hook (events, sessions that commit per
# statement), and which are fast enough for a report's dozen rows.
BULK = "conflictdb_bulk"


@contextmanager
def bulk_session(engine: Engine, *, connection: Connection | None = None) -> Iterator[Session]:
    """A write transaction (``write_session``) whose inserts of many rows go straight to the
    driver: for loaders of whole datasets (imports, the benchmarks' data)."""
    with write_session(engine, connection=connection) as session:
        session.info[BULK] = True
        yield session


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into the model's table, in one batch."""
    if not rows:
        return
    if session.info.get(BULK):
        _driver_insert(session, model.__table__, rows)
    else:
        # Core, not the ORM's bulk insert: no per-row ORM bookkeeping; same rows, defaults.
        session.execute(insert(model.__table__), rows)


def _reserve_ids(session: Session, model: Any, count: int) -> list[int]:
    """``count`` new primary keys for the model's table, taken before its rows are inserted.

    An INSERT ... RETURNING of many rows is slow on both databases: SQLite does not promise
    RETURNING's order, so SQLAlchemy sends one INSERT per row (and splices the results at a
    quadratic cost); on PostgreSQL it renders one huge statement the driver then re-parses.
    Taking the ids first lets the rows go in as a plain batch.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        # Writes hold SQLite's write lock from BEGIN IMMEDIATE (app.db.dialect): nobody else
        # can take ids meanwhile, and a new rowid is max(rowid) + 1 anyway.
        start = session.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(start + 1, start + 1 + count))
    sequence = func.pg_get_serial_sequence(table.name, "id")
    return list(
        session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
    )


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their new ids, in the order given."""
    if not rows:
        return []
    ids = _reserve_ids(session, model, len(rows))
    insert_rows(session, model, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def _driver_insert(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows through the driver: executemany on SQLite, COPY on PostgreSQL.

    Values are converted by SQLAlchemy's own bind processors (dates, UTC timestamps, JSON),
    so what is stored is exactly what ``insert()`` would store; only SQLAlchemy's per-row
    statement machinery is skipped, which costs more than the insert itself when a load
    writes hundreds of thousands of rows. Column defaults the rows leave out are applied
    here (once per batch); driver errors are raised as SQLAlchemy's (IntegrityError ...).
    """
    if table.name not in derived.NOT_DATA:
        derived.mark_dirty(session)
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in rows[0] or default is None or column.primary_key:
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    names = [*given, *defaults]
    extra = tuple(defaults.values())
    values_of = itemgetter(*given) if len(given) > 1 else (lambda row: (row[given[0]],))
    processors = [
        (index, process)
        for index, name in enumerate(names)
        if (process := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    data: list[Any]
    if not processors:
        data = [values_of(row) + extra for row in rows]
    else:
        data = [[*values_of(row), *extra] for row in rows]
        # Convert only the columns that need it (dates, timestamps, JSON), each distinct
        # value once: a batch's rows share their timestamps and many of their dates.
        for index, process in processors:
            done: dict[Any, Any] = {}
            for values in data:
                value = values[index]
                try:
                    values[index] = done[value]
                except KeyError:
                    values[index] = done[value] = process(value)
                except TypeError:  # unhashable (JSON documents): converted each time
                    values[index] = process(value)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if dialect.name == "sqlite":
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})"
    else:
        sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    with db_dialect.driver_errors(connection, sql) as raw:
        cursor = raw.cursor()
        try:
            if dialect.name == "sqlite":
                cursor.executemany(sql, data)
            else:
                with cursor.copy(sql) as copy:
                    for values in data:
                        copy.write_row(values)
        finally:
            cursor.close()


def _unique_aliases(names: Sequence[str]) -> dict[str, str]:
    """normalised form -> first spelling given, skipping names that normalise to nothing."""
    out: dict[str, str] = {}
    for name in names:
        norm = _normalize(name)
        if norm and norm not in out:
            out[norm] = name
    return out


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def bump(session: Session, model: Any, ids: Iterable[int]) -> None:
    """A new version (and ``updated_at``) for records whose representation changed."""
    ids = list(ids)
    if model is Event:
        derived.events_changed(session, ids)
    now = utcnow()
    for chunk in _chunks(ids):
        session.execute(
            update(model)
            .where(model.id.in_(chunk))
            .values(version=model.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def compare_and_set(
    session: Session,
    model: Any,
    record_id: int,
    expected_version: int,
    values: Mapping[str, Any] | None = None,
) -> int:
    """Write ``values`` only if the record is still at ``expected_version``; the new version.

    One statement, so two writers holding the same version cannot both pass: on PostgreSQL the
    second waits for the first's row lock, then re-reads the row and no longer matches.
    """
    result = session.execute(
        update(model)
        .where(model.id == record_id, model.version == expected_version)
        .values(**dict(values or {}), version=model.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise PreconditionFailed(
            "The record has changed since the ETag in If-Match was read; GET it again, "
            "re-apply your change and retry with the new ETag."
        )
    if model is Event:
        derived.events_changed(session, [record_id])
    return expected_version + 1


def _edit(
    session: Session,
    model: Any,
    record_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    touched: bool = False,
) -> tuple[int, dict[str, tuple[Any, Any]]]:
    """Compare-and-set the fields of ``values`` that differ; (new version, {field: (before, after)}).

    Nothing is written when nothing differs, unless ``touched`` (a related row changed).
    """
    columns = [getattr(model, name) for name in values]
    row = (
        session.execute(select(model.version, *columns).where(model.id == record_id))
        .mappings()
        .first()
    )
    if row is None or row["version"] != expected_version:
        compare_and_set(session, model, record_id, expected_version)  # raises the 412
    assert row is not None
    changes = {k: (row[k], v) for k, v in values.items() if row[k] != v}
    if not changes and not touched:
        return expected_version, {}
    version = compare_and_set(
        session, model, record_id, expected_version, {k: after for k, (_, after) in changes.items()}
    )
    return version, changes


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _changes_json(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {k: [_jsonable(before), _jsonable(after)] for k, (before, after) in changes.items()}


# -- outlets -----------------------------------------------------------------------------------


def _outlet_row(o: NewOutlet) -> dict[str, Any]:
    return {
        "name": o.name,
        "name_norm": _normalize(o.name),
        "url": o.url,
        "domain": url_domain(o.url) if o.url else None,
        "country": o.country,
        "language": o.language,
        "kind": o.kind,
    }


def create_outlets(session: Session, outlets: Sequence[NewOutlet]) -> list[int]:
    now = utcnow()
    rows = [{**_outlet_row(o), "created_at": now, "updated_at": now} for o in outlets]
    return _insert_returning_ids(session, Outlet, rows)


def create_outlet(session: Session, outlet: NewOutlet, *, api_key_id: int | None) -> int:
    (outlet_id,) = create_outlets(session, [outlet])
    audit(
        session,
        "outlet.create",
        api_key_id=api_key_id,
        entity="outlet",
        entity_id=outlet_id,
        detail={k: v for k, v in _outlet_row(outlet).items() if k != "name_norm"},
    )
    return outlet_id


def update_outlet(
    session: Session,
    outlet_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an outlet's fields; its normalised name and domain follow its name and URL."""
    values = dict(values)
    if "name" in values:
        values["name_norm"] = normalize_name(values["name"])
    if "url" in values:
        values["domain"] = url_domain(values["url"]) if values["url"] else None
    version, changes = _edit(session, Outlet, outlet_id, expected_version, values)
    if changes:
        audit(
            session,
            "outlet.update",
            api_key_id=api_key_id,
            entity="outlet",
            entity_id=outlet_id,
            detail={"changes": _changes_json(changes), "version": version},
        )
    return version


def delete_outlet(
    session: Session, outlet_id: int, expected_version: int, *, api_key_id: int | None
) -> None:
    """Delete an outlet no article refers to (the caller has checked; the foreign key agrees)."""
    _delete_versioned(session, Outlet, outlet_id, expected_version)
    audit(session, "outlet.delete", api_key_id=api_key_id, entity="outlet", entity_id=outlet_id)


def _delete_versioned(session: Session, model: Any, record_id: int, expected_version: int) -> None:
    result = session.execute(
        delete(model)
        .where(model.id == record_id, model.version == expected_version)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise PreconditionFailed(
            "The record has changed since it was read; GET it again and retry."
        )


# -- actors ------------------------------------------------------------------------------------


def create_actors(session: Session, actors: Sequence[NewActor]) -> list[int]:
    now = utcnow()
    ids = _insert_returning_ids(
        session,
        Actor,
        [
            {
                "name": a.name,
                "name_norm": _normalize(a.name),
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
        for norm, name in _unique_aliases([actor.name, *actor.aliases]).items()
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


def _insert_aliases(
    session: Session,
    model: type[ActorAlias] | type[PlaceAlias],
    owner_id: int,
    names: Sequence[str],
    existing: Iterable[str],
) -> dict[str, str]:
    """Insert the names (normalised form -> spelling) not among ``existing`` normalised forms."""
    owner = "actor_id" if model is ActorAlias else "place_id"
    known = set(existing)
    new = {n: name for n, name in _unique_aliases(names).items() if n not in known}
    if new:
        session.execute(
            insert(model),
            [{owner: owner_id, "name": name, "name_norm": n} for n, name in new.items()],
        )
    return new


def _insert_actor_aliases(
    session: Session, actor_id: int, names: Sequence[str], existing: Iterable[str]
) -> dict[str, str]:
    return _insert_aliases(session, ActorAlias, actor_id, names, existing)


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
    to_add = {n: name for n, name in _unique_aliases(names).items() if n not in remaining}
    version, changes = _edit(
        session,
        Actor,
        actor_id,
        expected_version,
        values,
        touched=bool(to_add or to_remove),
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
                "changes": _changes_json(changes),
                "aliases_added": list(to_add.values()),
                "aliases_removed": to_remove,
                "version": version,
            },
        )
    return version


def add_actor_alias(session: Session, actor_id: int, name: str, *, api_key_id: int | None) -> int:
    """One more name for an actor (the caller has checked it is new to it); the alias id."""
    (alias_id,) = _insert_returning_ids(
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
    (affiliation_id,) = _insert_returning_ids(
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
            "since": _jsonable(tie.since),
            "until": _jsonable(tie.until),
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
    _delete_versioned(session, Actor, actor_id, expected_version)
    audit(session, "actor.delete", api_key_id=api_key_id, entity="actor", entity_id=actor_id)


def _lock_for_merge(session: Session, model: Any, loser_id: int) -> None:
    """FOR UPDATE on the loser (PostgreSQL; SQLite's writers are serial already).

    A transaction inserting a row that refers to the loser holds a KEY SHARE lock on it until
    it commits; FOR UPDATE waits for it, so the rows it wrote are there to be moved.
    """
    session.execute(select(model.id).where(model.id == loser_id).with_for_update()).all()


def _guard_survivor(session: Session, model: Any, survivor_id: int, kind: str) -> None:
    """Bump the survivor only if it is not merged itself: a row lock, then the check.

    A concurrent merge of the survivor into a third record either waits for this one or makes
    this statement match nothing, so references never move to a merged record.
    """
    result = session.execute(
        update(model)
        .where(model.id == survivor_id, model.merged_into_id.is_(None))
        .values(version=model.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise MergedRecord(f"The {kind} {survivor_id} has just been merged into another; retry.")


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
    _lock_for_merge(session, Actor, loser_id)
    compare_and_set(session, Actor, loser_id, expected_version, {"merged_into_id": survivor_id})
    _guard_survivor(session, Actor, survivor_id, "actor")

    # Events: where both took part, the survivor's row stays (event_actor's key is the pair).
    event_ids = list(
        session.scalars(select(EventActor.event_id).where(EventActor.actor_id == loser_id))
    )
    before = _event_actors(session, event_ids)
    shared = select(EventActor.event_id).where(EventActor.actor_id == survivor_id)
    session.execute(
        delete(EventActor).where(EventActor.actor_id == loser_id, EventActor.event_id.in_(shared))
    )
    session.execute(
        update(EventActor).where(EventActor.actor_id == loser_id).values(actor_id=survivor_id)
    )
    after = _event_actors(session, event_ids)
    bump(session, Event, event_ids)
    record_revisions(
        session,
        [(eid, "actor_merge", {"actors": (before[eid], after[eid])}) for eid in sorted(event_ids)],
        api_key_id,
    )

    # Aliases: the survivor keeps its own spelling of a name both have.
    survivor_norms = select(ActorAlias.name_norm).where(ActorAlias.actor_id == survivor_id)
    dropped_aliases = _rowcount(
        session.execute(
            delete(ActorAlias).where(
                ActorAlias.actor_id == loser_id, ActorAlias.name_norm.in_(survivor_norms)
            )
        )
    )
    moved_aliases = _rowcount(
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
    for chunk in _chunks(quote_ids):
        session.execute(
            update(Quote)
            .where(Quote.id.in_(chunk))
            .values(speaks_for_actor_id=survivor_id, version=Quote.version + 1, updated_at=utcnow())
        )

    # Records merged into the loser earlier now point straight at the survivor: every merged
    # id is one step from a live record, which is what the read filters assume.
    earlier = list(session.scalars(select(Actor.id).where(Actor.merged_into_id == loser_id)))
    for chunk in _chunks(earlier):
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


# -- places ------------------------------------------------------------------------------------


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
    for chunk in _chunks(p.parent_id for p in places if p.parent_id is not None):
        parent_depths.update(
            (pid, depth)
            for pid, depth in session.execute(
                select(Place.id, Place.depth).where(Place.id.in_(chunk))
            )
        )
    ids = _insert_returning_ids(
        session,
        Place,
        [
            {
                "name": place.name,
                "name_norm": _normalize(place.name),
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
    for chunk in _chunks(children):
        session.execute(
            insert(PlaceAncestor).from_select(
                ["ancestor_id", "place_id", "depth"],
                select(PlaceAncestor.ancestor_id, Place.id, PlaceAncestor.depth + 1)
                .join(Place, Place.parent_id == PlaceAncestor.place_id)
                .where(Place.id.in_(chunk)),
            )
        )
    alias_rows = [
        {"place_id": place_id, "name": name, "name_norm": norm}
        for place_id, place in zip(ids, places, strict=True)
        for norm, name in _unique_aliases([place.name, *place.aliases]).items()
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
    return _insert_aliases(session, PlaceAlias, place_id, names, existing)


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
    version, changes = _edit(session, Place, place_id, expected_version, values)
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
            detail={"changes": _changes_json(changes), "version": version},
        )
    return version


def delete_place(
    session: Session, place_id: int, expected_version: int, *, api_key_id: int | None
) -> None:
    """Delete a place nothing refers to (the caller has checked); aliases and closure rows go."""
    _delete_versioned(session, Place, place_id, expected_version)
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
    _lock_for_merge(session, Place, loser_id)
    loser = session.execute(select(Place.geonames_id).where(Place.id == loser_id)).one()
    compare_and_set(
        session,
        Place,
        loser_id,
        expected_version,
        {"merged_into_id": survivor_id, "geonames_id": None},
    )
    _guard_survivor(session, Place, survivor_id, "place")

    event_ids = list(session.scalars(select(Event.id).where(Event.place_id == loser_id)))
    for chunk in _chunks(event_ids):
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
    dropped_aliases = _rowcount(
        session.execute(
            delete(PlaceAlias).where(
                PlaceAlias.place_id == loser_id, PlaceAlias.name_norm.in_(survivor_norms)
            )
        )
    )
    moved_aliases = _rowcount(
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
        geonames_moved = loser.geonames_id if _rowcount(result) else None

    earlier = list(session.scalars(select(Place.id).where(Place.merged_into_id == loser_id)))
    for chunk in _chunks(earlier):
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


# -- articles and quotes -----------------------------------------------------------------------


def _article_row(article: NewArticle, now: Any) -> dict[str, Any]:
    # No body: the caller's identity hash, if any (see NewArticle.identity_sha256).
    identity = sha256_text(article.body) if article.body else article.identity_sha256
    return {
        "outlet_id": article.outlet_id,
        "url": article.url,
        "url_norm": normalize_url(article.url) if article.url else None,
        "title": article.title,
        "published_date": article.published_date,
        "dateline": article.dateline,
        "byline": article.byline,
        "language": article.language,
        "body": article.body,
        "content_sha256": identity,
        "created_at": now,
        "updated_at": now,
    }


def create_article(session: Session, article: NewArticle) -> int:
    (article_id,) = create_articles(session, [article])
    return article_id


def create_articles(session: Session, articles: Sequence[NewArticle]) -> list[int]:
    """Insert articles in one executemany; their ids in the order given."""
    now = utcnow()
    return _insert_returning_ids(session, Article, [_article_row(a, now) for a in articles])


def update_article(
    session: Session,
    article_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an article; its normalised URL and content hash follow its URL and body."""
    values = dict(values)
    if "url" in values:
        values["url_norm"] = normalize_url(values["url"]) if values["url"] else None
    if "body" in values:
        values["content_sha256"] = sha256_text(values["body"]) if values["body"] else None
    version, changes = _edit(session, Article, article_id, expected_version, values)
    if "title" in changes:
        derived.reindex(session, derived.events_citing_articles(session, [article_id]))
    if changes:
        # The audit log keeps the body's hash, not the text.
        logged = {k: v for k, v in changes.items() if k != "body"}
        audit(
            session,
            "article.update",
            api_key_id=api_key_id,
            entity="article",
            entity_id=article_id,
            detail={"changes": _changes_json(logged), "version": version},
        )
    return version


def delete_article(
    session: Session, article_id: int, expected_version: int, *, api_key_id: int | None
) -> list[int]:
    """Delete an article with its quotes and its place among events' sources; the events it
    was a source for get a revision. The caller has checked none is left without a source.
    Returns those events' ids."""
    event_ids = list(
        session.scalars(select(EventSource.event_id).where(EventSource.article_id == article_id))
    )
    before = _event_evidence(session, event_ids)
    quote_ids = list(session.scalars(select(Quote.id).where(Quote.article_id == article_id)))
    measured = list(
        session.scalars(
            select(EventMeasure.event_id).where(EventMeasure.quote_id.in_(quote_ids)).distinct()
        )
    )
    # Dependent rows go by their foreign keys' ON DELETE (sources, quotes, the report; a
    # measure keeps its figure and loses its quote), in this one statement.
    _delete_versioned(session, Article, article_id, expected_version)
    after = _event_evidence(session, event_ids)
    bump(session, Event, set(event_ids) | set(measured))
    record_revisions(
        session,
        [
            (eid, "remove_source", _evidence_changes(before[eid], after[eid]))
            for eid in sorted(event_ids)
        ],
        api_key_id,
    )
    audit(
        session,
        "article.delete",
        api_key_id=api_key_id,
        entity="article",
        entity_id=article_id,
        detail={"events": sorted(event_ids), "quotes": sorted(quote_ids)},
    )
    return event_ids


def create_quotes(session: Session, quotes: Sequence[NewQuote]) -> list[int]:
    now = utcnow()
    return _insert_returning_ids(
        session,
        Quote,
        [
            {
                "article_id": q.article_id,
                "text": q.text,
                "start_offset": q.start,
                "end_offset": q.end,
                "speaker_name": q.speaker_name,
                "speaker_role": q.speaker_role,
                "speaks_for_actor_id": q.speaks_for_actor_id,
                "created_at": now,
                "updated_at": now,
            }
            for q in quotes
        ],
    )


def update_quote(
    session: Session,
    quote_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    version, changes = _edit(session, Quote, quote_id, expected_version, values)
    if "text" in changes:
        derived.reindex(session, derived.events_citing_quote(session, quote_id))
    if changes:
        audit(
            session,
            "quote.update",
            api_key_id=api_key_id,
            entity="quote",
            entity_id=quote_id,
            detail={"changes": _changes_json(changes), "version": version},
        )
    return version


def delete_quote(
    session: Session, quote_id: int, expected_version: int, *, api_key_id: int | None
) -> list[int]:
    """Delete a quote; the events citing it get a revision. Returns their ids."""
    event_ids = list(
        session.scalars(
            select(EventSource.event_id)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSourceQuote.quote_id == quote_id)
        )
    )
    measured = list(
        session.scalars(select(EventMeasure.event_id).where(EventMeasure.quote_id == quote_id))
    )
    before = _event_evidence(session, event_ids)
    _delete_versioned(session, Quote, quote_id, expected_version)
    after = _event_evidence(session, event_ids)
    bump(session, Event, set(event_ids) | set(measured))
    record_revisions(
        session,
        [
            (eid, "remove_quote", _evidence_changes(before[eid], after[eid]))
            for eid in sorted(set(event_ids))
        ],
        api_key_id,
    )
    audit(
        session,
        "quote.delete",
        api_key_id=api_key_id,
        entity="quote",
        entity_id=quote_id,
        detail={"events": sorted(set(event_ids))},
    )
    return event_ids


# -- events ------------------------------------------------------------------------------------

# The event fields a revision records (the before/after of each one that changed).
REVISED_FIELDS = (
    "external_id",
    "event_type",
    "sub_event_type",
    "date_start",
    "date_end",
    "date_precision",
    "place_id",
    "geo_precision",
    "summary",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "status",
    "retraction_reason",
)


def record_revisions(
    session: Session,
    changes: Sequence[tuple[int, str, dict[str, tuple[Any, Any]]]],
    api_key_id: int | None,
) -> None:
    """One revision per (event id, action, {field: (before, after)}), in the caller's transaction.

    The events' rollups, search documents and change-feed entries follow at commit.
    """
    if not changes:
        return
    for event_id, action, _ in changes:
        derived.events_changed(
            session,
            [event_id],
            {"create": "created", "retract": "retracted"}.get(action, "updated"),
        )
    now = utcnow()
    insert_rows(
        session,
        EventRevision,
        [
            {
                "event_id": event_id,
                "api_key_id": api_key_id,
                "action": action,
                "changes": _changes_json(diff),
                "changed_at": now,
            }
            for event_id, action, diff in changes
        ],
    )


def audit(
    session: Session,
    action: str,
    *,
    api_key_id: int | None,
    entity: str | None = None,
    entity_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log, in the caller's transaction."""
    session.execute(
        insert(AuditEntry).values(
            at=utcnow(),
            api_key_id=api_key_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
        )
    )


def _event_actors(session: Session, event_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's actors as a revision records them: [{actor_id, side, role}] by actor id."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks(event_ids):
        for row in session.execute(
            select(EventActor.event_id, EventActor.actor_id, EventActor.side, EventActor.role)
            .where(EventActor.event_id.in_(chunk))
            .order_by(EventActor.event_id, EventActor.actor_id)
        ):
            out[row.event_id].append({"actor_id": row.actor_id, "side": row.side, "role": row.role})
    return out


def _event_evidence(session: Session, event_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
    """Each event's sources (article ids) and cited quotes (quote ids), sorted."""
    out: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"sources": [], "quotes": []})
    for chunk in _chunks(event_ids):
        for event_id, article_id in session.execute(
            select(EventSource.event_id, EventSource.article_id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, EventSource.article_id)
        ):
            out[event_id]["sources"].append(article_id)
        for event_id, quote_id in session.execute(
            select(EventSource.event_id, EventSourceQuote.quote_id)
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSource.event_id.in_(chunk))
            .order_by(EventSource.event_id, EventSourceQuote.quote_id)
        ):
            out[event_id]["quotes"].append(quote_id)
    return out


def _evidence_changes(
    before: Mapping[str, list[int]], after: Mapping[str, list[int]]
) -> dict[str, tuple[Any, Any]]:
    return {k: (before[k], after[k]) for k in ("sources", "quotes") if before[k] != after[k]}


def create_events(
    session: Session, events: Sequence[NewEvent], *, api_key_id: int | None = None
) -> list[int]:
    """The batch API: events with their actors, measures and sources, a few statements per batch.

    Each new event gets a 'create' revision carrying its initial fields, actors and evidence.
    """
    now = utcnow()
    ids = _insert_returning_ids(
        session,
        Event,
        [
            {
                "external_id": e.external_id,
                "event_type": e.event_type,
                "sub_event_type": e.sub_event_type,
                "date_start": e.date_start,
                "date_end": e.date_end,
                "date_precision": e.date_precision,
                "place_id": e.place_id,
                "geo_precision": e.geo_precision,
                "summary": e.summary,
                "fatalities_low": e.fatalities_low,
                "fatalities_best": e.fatalities_best,
                "fatalities_high": e.fatalities_high,
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            for e in events
        ],
    )
    actor_rows = [
        {"event_id": eid, "actor_id": a.actor_id, "side": a.side, "role": a.role}
        for eid, e in zip(ids, events, strict=True)
        for a in e.actors
    ]
    if actor_rows:
        insert_rows(session, EventActor, actor_rows)
    measure_rows = [
        {
            "event_id": eid,
            "kind": m.kind,
            "value": m.value,
            "qualifier": m.qualifier,
            "quote_id": m.quote_id,
        }
        for eid, e in zip(ids, events, strict=True)
        for m in e.measures
    ]
    if measure_rows:
        insert_rows(session, EventMeasure, measure_rows)
    _insert_sources(
        session, [(eid, s) for eid, e in zip(ids, events, strict=True) for s in e.sources]
    )
    # The 'create' revisions are built straight in their stored form ([before, after] per
    # field): bulk imports create events by the hundred thousand.
    revisions = []
    for eid, e in zip(ids, events, strict=True):
        diff: dict[str, list[Any]] = {}
        for f in REVISED_FIELDS:
            value = "active" if f == "status" else getattr(e, f, None)
            if value is not None:
                diff[f] = [None, value.isoformat() if isinstance(value, date) else value]
        if e.actors:
            diff["actors"] = [
                None,
                [
                    {"actor_id": a.actor_id, "side": a.side, "role": a.role}
                    for a in sorted(e.actors, key=lambda a: a.actor_id)
                ],
            ]
        if e.sources:
            diff["sources"] = [None, sorted({s.article_id for s in e.sources})]
            quotes = sorted({q for s in e.sources for q in s.quote_ids})
            if quotes:
                diff["quotes"] = [None, quotes]
        revisions.append(
            {
                "event_id": eid,
                "api_key_id": api_key_id,
                "action": "create",
                "changes": diff,
                "changed_at": now,
            }
        )
    insert_rows(session, EventRevision, revisions)
    derived.events_changed(session, ids, "created")
    return ids


def _insert_sources(session: Session, sources: Sequence[tuple[int, NewSource]]) -> None:
    if not sources:
        return
    if not any(s.quote_ids for _, s in sources):
        # No quotes to link (imported citations): the rows' ids are not needed.
        insert_rows(
            session,
            EventSource,
            [{"event_id": event_id, "article_id": s.article_id} for event_id, s in sources],
        )
        return
    source_ids = _insert_returning_ids(
        session,
        EventSource,
        [{"event_id": event_id, "article_id": s.article_id} for event_id, s in sources],
    )
    quote_rows = [
        {"event_source_id": sid, "quote_id": qid}
        for sid, (_, s) in zip(source_ids, sources, strict=True)
        for qid in dict.fromkeys(s.quote_ids)
    ]
    if quote_rows:
        insert_rows(session, EventSourceQuote, quote_rows)


def add_sources(
    session: Session, sources: Sequence[tuple[int, NewSource]], *, api_key_id: int | None = None
) -> None:
    """Attach evidence (an article and its supporting quotes) to existing events.

    Each event gets a new version and an 'add_source' revision with its sources before/after.
    """
    if not sources:
        return
    event_ids = {event_id for event_id, _ in sources}
    before = _event_evidence(session, event_ids)
    _insert_sources(session, sources)
    after = _event_evidence(session, event_ids)
    bump(session, Event, event_ids)
    record_revisions(
        session,
        [
            (eid, "add_source", _evidence_changes(before[eid], after[eid]))
            for eid in sorted(event_ids)
        ],
        api_key_id,
    )


def update_event(
    session: Session,
    event_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an event's fields: a revision with the before/after of each one that changed."""
    version, changes = _edit(session, Event, event_id, expected_version, values)
    if changes:
        record_revisions(session, [(event_id, "update", changes)], api_key_id)
        audit(
            session,
            "event.update",
            api_key_id=api_key_id,
            entity="event",
            entity_id=event_id,
            detail={"changes": _changes_json(changes), "version": version},
        )
    return version


def retract_event(
    session: Session, event_id: int, expected_version: int, reason: str, *, api_key_id: int | None
) -> int:
    """Retract an event: kept, with its reason, and left out of lists from now on."""
    version, changes = _edit(
        session,
        Event,
        event_id,
        expected_version,
        {"status": "retracted", "retraction_reason": reason, "retracted_at": utcnow()},
    )
    # The timestamp is the revision's own changed_at; the revision records what a reader sees.
    changes.pop("retracted_at", None)
    record_revisions(session, [(event_id, "retract", changes)], api_key_id)
    audit(
        session,
        "event.retract",
        api_key_id=api_key_id,
        entity="event",
        entity_id=event_id,
        detail={"reason": reason, "version": version},
    )
    return version


def record_report(
    session: Session, article_id: int, payload_sha256: str, response: dict[str, Any]
) -> None:
    session.execute(
        insert(Report).values(
            article_id=article_id,
            payload_sha256=payload_sha256,
            response=response,
            created_at=utcnow(),
        )
    )


# -- imported datasets -------------------------------------------------------------------------


@dataclass
class NewProvenance:
    """The imported row behind an event (see ``EventProvenance``)."""

    dataset_id: int
    external_id: str
    dataset_version: str | None
    content_sha256: str
    # For a new event, also the engine's JSON text of it, as an orjson.Fragment (stored as
    # it is: bulk imports encode it in their parsing process).
    original: dict[str, Any] | orjson.Fragment


@dataclass
class ImportedEventUpdate:
    """A changed dataset row applied to the event imported from it.

    ``expected_version`` is the version the last import left (``imported_version``): the
    update applies only if nobody has changed the event since. ``actors`` and ``article_ids``
    replace the event's actors and sources (an event still at its imported version has only
    what imports gave it). ``values`` may include status fields, to bring back an event a
    previous import retracted as absent.
    """

    event_id: int
    expected_version: int
    values: Mapping[str, Any]
    actors: Sequence[NewEventActor]
    article_ids: Sequence[int]
    provenance: NewProvenance


def create_dataset(
    session: Session, name: str, licence: str | None, citation: str | None, url: str | None
) -> int:
    (dataset_id,) = _insert_returning_ids(
        session, Dataset, [{"name": name, "licence": licence, "citation": citation, "url": url}]
    )
    return dataset_id


def update_dataset(session: Session, dataset_id: int, values: Mapping[str, Any]) -> None:
    """A dataset's licence, citation or URL as its importer now states them."""
    session.execute(update(Dataset).where(Dataset.id == dataset_id).values(**values))


def add_actor_external_ids(session: Session, rows: Sequence[tuple[int, int, str]]) -> None:
    """(actor_id, dataset_id, external_id): the actor's id in that dataset, for re-imports."""
    if rows:
        insert_rows(
            session,
            ActorExternalId,
            [{"actor_id": a, "dataset_id": d, "external_id": x} for a, d, x in rows],
        )


def fill_place_coordinates(
    session: Session, coordinates: Mapping[int, tuple[float, float]]
) -> None:
    """Give places without coordinates the ones a dataset row gives; a place that has some
    keeps them. The places that change get a new version."""
    if not coordinates:
        return
    now = utcnow()
    filled = []
    for place_id, (latitude, longitude) in sorted(coordinates.items()):
        result = session.execute(
            update(Place)
            .where(Place.id == place_id, Place.latitude.is_(None))
            .values(
                latitude=latitude, longitude=longitude, version=Place.version + 1, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result):
            filled.append(place_id)
    if filled:
        # Events list their place's coordinates.
        derived.events_changed(session, derived.events_in_places(session, filled, subtree=False))


def _provenance_row(p: NewProvenance, event_id: int, version: int, now: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "dataset_id": p.dataset_id,
        "external_id": p.external_id,
        "dataset_version": p.dataset_version,
        "content_sha256": p.content_sha256,
        "imported_version": version,
        "original": p.original,
        "imported_at": now,
    }


def import_events(
    session: Session,
    events: Sequence[NewEvent],
    provenance: Sequence[NewProvenance],
    *,
    api_key_id: int | None,
) -> list[int]:
    """Create events from dataset rows (``create_events``) with the row behind each one."""
    ids = create_events(session, events, api_key_id=api_key_id)
    now = utcnow()
    # create_events leaves every new event at version 1: the version the import hands over.
    insert_rows(
        session,
        EventProvenance,
        [_provenance_row(p, eid, 1, now) for eid, p in zip(ids, provenance, strict=True)],
    )
    return ids


def _original_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """The provenance's original values and flags that changed, one revision field each
    (``original.<column>``, ``flags``), so a revision stays small and says what moved."""
    changes: dict[str, tuple[Any, Any]] = {}
    row_before, row_after = before.get("row", {}), after.get("row", {})
    for key in sorted(set(row_before) | set(row_after)):
        if row_before.get(key) != row_after.get(key):
            changes[f"original.{key}"] = (row_before.get(key), row_after.get(key))
    if before.get("flags", []) != after.get("flags", []):
        changes["flags"] = (before.get("flags", []), after.get("flags", []))
    return changes


def update_imported_events(
    session: Session, updates: Sequence[ImportedEventUpdate], *, api_key_id: int | None
) -> dict[int, int]:
    """Apply changed dataset rows to their events: {event_id: new version} for those applied.

    Each event changes only if still at ``expected_version`` (as in ``compare_and_set``); one
    that has moved on is left out of the result, untouched, for the caller to report as a
    conflict. The events are read locked (PostgreSQL's FOR UPDATE; a SQLite writer holds the
    database's write lock already), so the versions read decide which updates apply, and the
    updates then go in as one batch per statement. Each applied update records an
    'import_update' revision with the before/after of every field, actor, source and original
    value that changed, and the provenance row takes the new content and version.
    """
    if not updates:
        return {}
    ids = [u.event_id for u in updates]
    current: dict[int, Mapping[str, Any]] = {}
    originals: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in session.execute(
            select(Event.id, Event.version, *(getattr(Event, f) for f in REVISED_FIELDS))
            .where(Event.id.in_(chunk))
            .with_for_update()
        ).mappings():
            current[row["id"]] = dict(row)
        for event_id, original in session.execute(
            select(EventProvenance.event_id, EventProvenance.original).where(
                EventProvenance.event_id.in_(chunk)
            )
        ):
            originals[event_id] = original
    # Edited since the last import (or gone): left alone, for the caller to report.
    updates = [
        u
        for u in updates
        if u.event_id in current and current[u.event_id]["version"] == u.expected_version
    ]
    if not updates:
        return {}
    ids = [u.event_id for u in updates]
    actors_before = _event_actors(session, ids)
    evidence_before = _event_evidence(session, ids)
    now = utcnow()
    applied: dict[int, int] = {}
    revisions: list[tuple[int, str, dict[str, tuple[Any, Any]]]] = []
    # The rows of each statement, by the columns they set (an event brought back from a
    # retraction sets its status too).
    event_rows: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    provenance_rows: list[dict[str, Any]] = []
    actors_replaced: list[int] = []
    actor_rows: list[dict[str, Any]] = []
    new_sources: list[tuple[int, NewSource]] = []
    for u in updates:
        before = current[u.event_id]
        changes = {
            k: (before[k], v) for k, v in u.values.items() if k != "retracted_at" and before[k] != v
        }
        event_rows[tuple(sorted(u.values))].append(
            {**u.values, "b_id": u.event_id, "b_version": u.expected_version}
        )
        version = applied[u.event_id] = u.expected_version + 1

        actors_after = [
            {"actor_id": a.actor_id, "side": a.side, "role": a.role}
            for a in sorted(u.actors, key=lambda a: a.actor_id)
        ]
        if actors_after != actors_before[u.event_id]:
            changes["actors"] = (actors_before[u.event_id], actors_after)
            actors_replaced.append(u.event_id)
            actor_rows += (
                {"event_id": u.event_id, "actor_id": a.actor_id, "side": a.side, "role": a.role}
                for a in u.actors
            )
        sources_before = evidence_before[u.event_id]["sources"]
        sources_after = sorted(set(u.article_ids))
        if sources_after != sources_before:
            changes["sources"] = (sources_before, sources_after)
            gone = sorted(set(sources_before) - set(sources_after))
            if gone:
                session.execute(
                    delete(EventSource).where(
                        EventSource.event_id == u.event_id, EventSource.article_id.in_(gone)
                    )
                )
            new_sources += (
                (u.event_id, NewSource(article_id))
                for article_id in sources_after
                if article_id not in set(sources_before)
            )
        changes.update(
            _original_changes(
                originals.get(u.event_id) or {}, cast(dict[str, Any], u.provenance.original)
            )
        )
        provenance_rows.append(
            {
                "b_id": u.event_id,
                "dataset_version": u.provenance.dataset_version,
                "content_sha256": u.provenance.content_sha256,
                "original": u.provenance.original,
                "imported_version": version,
                "imported_at": now,
            }
        )
        revisions.append((u.event_id, "import_update", changes))
    events = cast(Table, Event.__table__)
    for columns, rows in event_rows.items():
        _update_all(
            session,
            update(events)
            .where(events.c.id == bindparam("b_id"), events.c.version == bindparam("b_version"))
            .values(
                {
                    **{name: bindparam(name) for name in columns},
                    "version": events.c.version + 1,
                    "updated_at": now,
                }
            ),
            rows,
        )
    provenance = cast(Table, EventProvenance.__table__)
    _update_all(
        session,
        update(provenance)
        .where(provenance.c.event_id == bindparam("b_id"))
        .values({name: bindparam(name) for name in _PROVENANCE_UPDATED}),
        provenance_rows,
    )
    for chunk in _chunks(actors_replaced):
        session.execute(delete(EventActor).where(EventActor.event_id.in_(chunk)))
    insert_rows(session, EventActor, actor_rows)
    _insert_sources(session, new_sources)
    record_revisions(session, revisions, api_key_id)
    return applied


_PROVENANCE_UPDATED = (
    "dataset_version",
    "content_sha256",
    "original",
    "imported_version",
    "imported_at",
)


def _update_all(session: Session, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One UPDATE for many rows (executemany), each row expected to match exactly one."""
    if not rows:
        return
    result = session.execute(statement, rows)
    if _rowcount(result) != len(rows):
        # The rows were read locked in this transaction: this is a bug, not a race.
        raise RuntimeError(f"{len(rows)} rows to update, {_rowcount(result)} updated")


def retract_imported_events(
    session: Session,
    events: Sequence[tuple[int, int]],
    reason: str,
    *,
    api_key_id: int | None,
) -> dict[int, int]:
    """Retract (never delete) imported events their dataset no longer has.

    ``events`` are (event id, expected version); an event that has moved on since (or is no
    longer active) is left alone and out of the result ({event_id: new version}). As in
    ``update_imported_events``, the events are read locked and the retractions go as one
    batch. Each retraction records a 'retract' revision, and the provenance's
    ``imported_version`` follows, so the import that retracted an event may bring it back if
    a later release has the row again.
    """
    now = utcnow()
    expected = dict(events)
    applied: dict[int, int] = {}
    for chunk in _chunks(expected):
        for event_id, version, status in session.execute(
            select(Event.id, Event.version, Event.status)
            .where(Event.id.in_(chunk))
            .with_for_update()
        ):
            if version == expected[event_id] and status == "active":
                applied[event_id] = version + 1
    table = cast(Table, Event.__table__)
    _update_all(
        session,
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(
            status="retracted",
            retraction_reason=reason,
            retracted_at=now,
            version=table.c.version + 1,
            updated_at=now,
        ),
        [{"b_id": event_id, "b_version": expected[event_id]} for event_id in applied],
    )
    provenance = cast(Table, EventProvenance.__table__)
    _update_all(
        session,
        update(provenance)
        .where(provenance.c.event_id == bindparam("b_id"))
        .values(imported_version=bindparam("b_imported")),
        [{"b_id": event_id, "b_imported": version} for event_id, version in applied.items()],
    )
    record_revisions(
        session,
        [
            (
                event_id,
                "retract",
                {"status": ("active", "retracted"), "retraction_reason": (None, reason)},
            )
            for event_id in applied
        ],
        api_key_id,
    )
    return applied
