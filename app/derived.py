"""Derived state the writer keeps in step, written in the same transaction as the data.

The writer marks what it changes (``events_changed``, ``reindex``); any other write of data
marks the session dirty by itself (a listener on the session's statements). Just before the
transaction commits, ``finish`` runs (a ``before_commit`` listener, so no caller can skip it):

1. it advances ``data_version`` — taking that row's lock, held until the commit, so writers
   pass this point one at a time and versions are handed out in commit order;
2. it reconciles the monthly rollups of the changed events (old contribution out, new in);
3. it rewrites their full-text documents;
4. it appends one ``event_change`` row per changed event under the new version.

Because step 1 serialises the rest, two writers never race on a rollup row, and a reader
that sees version v sees every change numbered below v: the change feed cannot skip one.
Nothing here is called for reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, delete, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.db.base import utcnow
from app.models import (
    DataVersion,
    Event,
    EventChange,
    EventRollup,
    EventRollupMember,
    EventSource,
    EventSourceQuote,
    Place,
    PlaceAncestor,
)
from app.models.derived import NO_ADMIN1, NO_COUNTRY, NO_SUB_EVENT_TYPE
from app.search import repository as search

STATE = "conflictdb_derived"
# Writes to these tables are bookkeeping, not data: they leave the data version alone.
# (The derived tables themselves are written only here, by ``finish``.)
NOT_DATA = frozenset(
    {
        "api_key",
        "idempotency_key",
        "audit_log",
        "data_version",
        "event_change",
        "event_rollup",
        "event_rollup_member",
    }
)
_CHUNK = 500
_ORDER = {"created": 0, "retracted": 1, "updated": 2}


@dataclass
class _State:
    dirty: bool = False
    # event id -> feed action; 'created' sticks, then 'retracted' beats 'updated'
    events: dict[int, str] = field(default_factory=dict)
    reindex: set[int] = field(default_factory=set)


def _state(session: Session) -> _State:
    state = session.info.get(STATE)
    if state is None:
        state = session.info[STATE] = _State()
    return state


def events_changed(session: Session, event_ids: Iterable[int], action: str = "updated") -> None:
    """Events created, updated or retracted in this transaction (their rollups, search
    documents and change-feed entries follow at commit)."""
    state = _state(session)
    state.dirty = True
    for event_id in event_ids:
        current = state.events.get(event_id)
        if current is None or _ORDER[action] < _ORDER[current]:
            state.events[event_id] = action
    state.reindex.update(state.events)


def reindex(session: Session, event_ids: Iterable[int]) -> None:
    """Events whose search text changed though they did not (an article's title edited)."""
    state = _state(session)
    state.dirty = True
    state.reindex.update(event_ids)


def mark_dirty(session: Session) -> None:
    _state(session).dirty = True


def events_citing_articles(session: Session, article_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(article_ids))
    return sorted(
        set(session.scalars(select(EventSource.event_id).where(EventSource.article_id.in_(ids))))
    )


def events_citing_quote(session: Session, quote_id: int) -> list[int]:
    return sorted(
        set(
            session.scalars(
                select(EventSource.event_id)
                .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
                .where(EventSourceQuote.quote_id == quote_id)
            )
        )
    )


def events_in_places(session: Session, place_ids: Iterable[int], *, subtree: bool) -> list[int]:
    """Events at these places (and, with ``subtree``, anywhere inside them)."""
    ids = sorted(set(place_ids))
    if subtree:
        inside = select(PlaceAncestor.place_id).where(PlaceAncestor.ancestor_id.in_(ids))
        return list(session.scalars(select(Event.id).where(Event.place_id.in_(inside))))
    return list(session.scalars(select(Event.id).where(Event.place_id.in_(ids))))


# -- listeners -----------------------------------------------------------------------------------


@event.listens_for(Session, "do_orm_execute")
def _note_data_writes(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    target = getattr(state.statement, "table", None)
    if getattr(target, "name", None) not in NOT_DATA:
        mark_dirty(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    state = session.info.pop(STATE, None)
    if state is not None and state.dirty:
        finish(session, state)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended (committed after ``finish``, or rolled back): forget
    # its marks. A savepoint rolled back keeps them; ``finish`` then finds what is left.
    if transaction.parent is None:
        session.info.pop(STATE, None)


# -- the commit step -----------------------------------------------------------------------------


def finish(session: Session, state: _State) -> int:
    """Advance the data version and bring the derived state of the marked events up to date."""
    now = utcnow()
    version = session.execute(
        update(DataVersion)
        .where(DataVersion.id == 1)
        .values(version=DataVersion.version + 1, changed_at=now)
        .returning(DataVersion.version)
    ).scalar_one()
    summaries: dict[int, str | None] = {}
    if state.events:
        from app import writer  # the writer imports this module; its batch insert is needed here

        ids = sorted(state.events)
        # One read of the events serves their statuses, contributions and summaries.
        rows = _events(session, ids)
        statuses = {r.id: r.status for r in rows}
        summaries = {r.id: r.summary for r in rows}
        _reconcile_rollups(
            session,
            ids,
            {i for i, action in state.events.items() if action == "created"},
            [r for r in rows if r.status == "active"],
        )
        writer.insert_rows(
            session,
            EventChange,
            [
                {
                    "version": version,
                    "event_id": event_id,
                    "action": _action(state.events[event_id], statuses[event_id]),
                    "changed_at": now,
                }
                for event_id in ids
                if event_id in statuses  # created, then rolled back to a savepoint
            ],
        )
    if state.reindex:
        ids = sorted(state.reindex)
        # Events created in this transaction have no document to drop yet.
        stale = [i for i in ids if state.events.get(i) != "created"]
        search.replace(session, stale, search.documents(session, ids, summaries=summaries))
    return int(version)


def _action(marked: str, status: str) -> str:
    if marked == "created":
        return "created"
    return "retracted" if status == "retracted" else "updated"


# What ``finish`` reads of each changed event: status, rollup contribution, summary.
_EVENT_COLUMNS = (
    Event.id,
    Event.status,
    Event.date_start,
    Event.place_id,
    Place.country,
    Event.event_type,
    Event.sub_event_type,
    Event.fatalities_best,
    Event.fatalities_low,
    Event.fatalities_high,
    Event.summary,
)


def _events(session: Session, ids: list[int]) -> list[Any]:
    """The events among ``ids`` that exist, whatever their status, with their place's country."""
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows += session.execute(
            select(*_EVENT_COLUMNS)
            .outerjoin(Place, Place.id == Event.place_id)
            .where(Event.id.in_(chunk))
        ).all()
    return rows


def read_version(engine: Engine) -> int:
    """The data version, read on its own: one statement, no transaction around it (a BEGIN,
    SELECT and COMMIT cost three round trips to PostgreSQL; this costs one). Versions are
    handed out in commit order, so any committed value is a consistent one."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return int(
            conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one()
        )


def current_version(session: Session) -> int:
    """The data version readers see: it changes with every committed write of data."""
    return int(session.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one())


# -- rollups -------------------------------------------------------------------------------------

RollupKey = tuple[date, str, int, str, str]
METRICS = ("events", "fatalities_best", "fatalities_low", "fatalities_high")


def _admin1_of(session: Session, place_ids: set[int]) -> dict[int, int]:
    """Each place's nearest ancestor of kind 'admin1' (itself if it is one)."""
    found: dict[int, tuple[int, int]] = {}
    for chunk in _chunks(sorted(place_ids)):
        for place_id, ancestor_id, depth in session.execute(
            select(PlaceAncestor.place_id, PlaceAncestor.ancestor_id, PlaceAncestor.depth)
            .join(Place, Place.id == PlaceAncestor.ancestor_id)
            .where(PlaceAncestor.place_id.in_(chunk), Place.kind == "admin1")
        ):
            if place_id not in found or depth < found[place_id][1]:
                found[place_id] = (ancestor_id, depth)
    return {place_id: ancestor for place_id, (ancestor, _) in found.items()}


def contributions(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What each active event among ``ids`` adds to the rollups, as member rows."""
    return _members(session, [r for r in _events(session, ids) if r.status == "active"])


def _members(session: Session, rows: list[Any]) -> dict[int, dict[str, Any]]:
    """The member rows of active events read by ``_events``."""
    admin1 = _admin1_of(session, {r.place_id for r in rows if r.place_id is not None})
    return {
        r.id: {
            "event_id": r.id,
            "month": r.date_start.replace(day=1),
            "country": r.country or NO_COUNTRY,
            "admin1_id": admin1.get(r.place_id, NO_ADMIN1) if r.place_id else NO_ADMIN1,
            "event_type": r.event_type,
            "sub_event_type": r.sub_event_type or NO_SUB_EVENT_TYPE,
            "fatalities_best": r.fatalities_best or 0,
            "fatalities_low": r.fatalities_low or 0,
            "fatalities_high": r.fatalities_high or 0,
        }
        for r in rows
    }


def _key(member: dict[str, Any]) -> RollupKey:
    return (
        member["month"],
        member["country"],
        member["admin1_id"],
        member["event_type"],
        member["sub_event_type"],
    )


def _reconcile_rollups(
    session: Session, ids: list[int], created: set[int], active: list[Any]
) -> None:
    """Take the events' last applied contributions out of the rollups and put the new ones in
    (``active``: the active events among ``ids``, as ``_events`` reads them).

    Events created in this transaction have no contribution yet: bulk imports skip the look-up.
    """
    old: dict[int, dict[str, Any]] = {}
    member_columns = list(EventRollupMember.__table__.c)
    existing_ids = [i for i in ids if i not in created]
    for chunk in _chunks(existing_ids):
        for row in session.execute(
            select(*member_columns).where(EventRollupMember.event_id.in_(chunk))
        ).mappings():
            old[row["event_id"]] = dict(row)
    new = _members(session, active)
    delta: dict[RollupKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sign, members in ((-1, old), (1, new)):
        for m in members.values():
            d = delta[_key(m)]
            d[0] += sign
            d[1] += sign * m["fatalities_best"]
            d[2] += sign * m["fatalities_low"]
            d[3] += sign * m["fatalities_high"]
    changed = {k: d for k, d in delta.items() if any(d)}
    if changed:
        _apply(session, changed)
    rewrite = [i for i in ids if old.get(i) != new.get(i)]
    gone = [i for i in rewrite if i in old]
    for chunk in _chunks(gone):
        session.execute(delete(EventRollupMember).where(EventRollupMember.event_id.in_(chunk)))
    rows = [new[i] for i in rewrite if i in new]
    if rows:
        from app import writer  # the writer imports this module; its batch insert is needed here

        writer.insert_rows(session, EventRollupMember, rows)


_KEY_NAMES = ("month", "country", "admin1_id", "event_type", "sub_event_type")
_UPSERT_SET = f"ON CONFLICT ({', '.join(_KEY_NAMES)}) DO UPDATE SET " + ", ".join(
    f"{m} = event_rollup.{m} + excluded.{m}" for m in METRICS
)
_UPSERT_SQLITE = (
    f"INSERT INTO event_rollup ({', '.join(_KEY_NAMES + METRICS)}) "
    f"VALUES ({', '.join('?' * len(_KEY_NAMES + METRICS))}) {_UPSERT_SET}"
)
_UPSERT_POSTGRESQL = (
    f"INSERT INTO event_rollup ({', '.join(_KEY_NAMES + METRICS)}) "
    "SELECT * FROM unnest(%s::date[], %s::varchar[], %s::integer[], %s::varchar[], "
    f"%s::varchar[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) {_UPSERT_SET}"
)


def _apply(session: Session, changed: dict[RollupKey, list[int]]) -> None:
    """Add the deltas to the rollup rows in one upsert; drop rows whose count reaches 0."""
    table = cast(Table, EventRollup.__table__)
    rows = [(*key, *d) for key, d in sorted(changed.items())]
    # Straight to the driver, the SQL written out (bulk imports change thousands of rollup
    # rows per transaction): one executemany on SQLite, one statement on PostgreSQL.
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        month = table.c.month.type._cached_bind_processor(connection.dialect)
        if month is not None:
            rows = [(month(row[0]), *row[1:]) for row in rows]
        connection.exec_driver_sql(_UPSERT_SQLITE, rows)
    else:
        connection.exec_driver_sql(
            _UPSERT_POSTGRESQL, tuple(list(c) for c in zip(*rows, strict=True))
        )
    shrunk = [key for key, d in sorted(changed.items()) if d[0] < 0]
    if shrunk:
        session.execute(
            delete(table).where(
                *(table.c[n] == bindparam(f"k_{n}") for n in _KEY_NAMES), table.c.events == 0
            ),
            [{f"k_{n}": v for n, v in zip(_KEY_NAMES, key, strict=True)} for key in shrunk],
        )


def rebuild(session: Session) -> None:
    """Derive everything from the events already stored: rollups, search documents, and one
    'created' change per event. For a database that predates this state (the migration)."""
    session.execute(delete(EventRollup))
    session.execute(delete(EventRollupMember))
    ids = list(session.scalars(select(Event.id).order_by(Event.id)))
    state = _State(dirty=True, events=dict.fromkeys(ids, "created"), reindex=set(ids))
    finish(session, state)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]
