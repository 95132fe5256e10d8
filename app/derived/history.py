"""Reproducible reads (issue 12): the history kept at commit, and reads at an earlier version.

At commit (``app.derived.hooks.finish``, after every other derived column is up to date) the
rows of each changed event in ``event``, ``event_actor``, ``event_dimension``,
``event_source`` and ``claim`` get a new version in their ``_history`` tables (the open rows
closed at this version, the current ones copied as valid from it), and the ``place`` and
``place_ancestor`` rows of the places those events sit in, with their ancestors and the places
the transaction moved or located, get one when they differ from their open history. A row of
``version_history`` records when the version was taken.

A read at version ``v`` (``shadow``) runs the ordinary queries with a CTE named after each
versioned table in front (``WITH event AS (SELECT ... FROM event_history WHERE valid at v)``):
SQL resolves a table name to a CTE of that name first, so every filter, join and subquery
reads the rows as they were, and the default read path is not touched at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Executable,
    Insert,
    Integer,
    Result,
    Select,
    Update,
    bindparam,
    event,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CTE

from app.db.bulk import chunks
from app.models import Event, PlaceAncestor, VersionHistory
from app.models.history import EVENT_KEYED, PLACE_KEYED, UNCOMPARED, VERSIONED, Versioned

# -- at commit ---------------------------------------------------------------------------------


def record(
    session: Session,
    version: int,
    now: datetime,
    event_ids: Iterable[int],
    place_ids: Iterable[int],
    created: AbstractSet[int] = frozenset(),
) -> None:
    """The history of ``version``: the changed events' rows, and the places they (and
    ``place_ids``: places moved or located) depend on, where those changed. Events in
    ``created`` are new in this transaction: they have no open rows to close.

    Every commit that writes data runs this: its statements are built once (``_STATEMENTS``,
    the keys and the version bound) and run as Core on the session's connection."""
    conn = session.connection()
    conn.execute(_VERSION_ROW, {"version": version, "changed_at": now})
    events = sorted(set(event_ids))
    places = set(place_ids)
    for chunk in chunks(events):
        new = all(i in created for i in chunk)
        for versioned in EVENT_KEYED:
            _new_version(conn, versioned, chunk, version, close=not new)
        places.update(conn.scalars(_EVENT_PLACES, {_KEYS: chunk}))
    if not places:
        return
    # The places' ancestors too: a detail shows the chain, and centroids move up it.
    wanted: set[int] = set()
    for chunk in chunks(sorted(places)):
        wanted.update(conn.scalars(_ANCESTORS, {_KEYS: chunk}))
    wanted.update(places)
    for chunk in chunks(sorted(wanted)):
        for versioned in PLACE_KEYED:
            changed = _changed_keys(conn, versioned, chunk)
            if changed:
                _new_version(conn, versioned, changed, version)


# The statements' parameters: the groups' keys (a list) and the version.
_KEYS = "history_keys"
_VERSION = "history_version"


@dataclass(frozen=True)
class _Statements:
    """What ``record`` runs on one versioned table, built once."""

    close: Update  # the open rows of the groups end at the version
    copy: Insert  # the live rows of the groups, valid from the version
    added: Select[Any]  # groups with a live row unlike any open one (compare only)
    gone: Select[Any]  # groups with an open row unlike any live one (compare only)


def _statements_of(versioned: Versioned) -> _Statements:
    history, live, key = versioned.history, versioned.live, versioned.key
    keys: BindParameter[list[int]] = bindparam(_KEYS, expanding=True)
    names = [c.name for c in live.columns]
    compared = [c.name for c in live.columns if c.name not in UNCOMPARED]
    same = [history.c[n].is_not_distinct_from(live.c[n]) for n in compared]
    open_ = history.c.valid_to.is_(None)
    return _Statements(
        close=update(history)
        .where(history.c[key].in_(keys), open_)
        .values(valid_to=bindparam(_VERSION, type_=Integer)),
        copy=insert(history).from_select(
            [*names, "valid_from"],
            select(*(live.c[n] for n in names), bindparam(_VERSION, type_=Integer)).where(
                live.c[key].in_(keys)
            ),
        ),
        added=select(live.c[key]).where(
            live.c[key].in_(keys),
            ~exists().where(history.c[key] == live.c[key], open_, *same),
        ),
        gone=select(history.c[key]).where(
            history.c[key].in_(keys),
            open_,
            ~exists().where(live.c[key] == history.c[key], *same),
        ),
    )


_STATEMENTS = {v.history.name: _statements_of(v) for v in VERSIONED}
_VERSION_ROW = insert(VersionHistory)
_EVENT_PLACES = select(Event.place_id).where(
    Event.id.in_(bindparam(_KEYS, expanding=True)), Event.place_id.is_not(None)
)
_ANCESTORS = select(PlaceAncestor.ancestor_id).where(
    PlaceAncestor.place_id.in_(bindparam(_KEYS, expanding=True))
)


def _new_version(
    conn: Connection, versioned: Versioned, keys: list[int], version: int, *, close: bool = True
) -> None:
    """Close the open rows of the groups ``keys`` (unless ``close`` is false: groups new in
    this transaction have none), and copy their current rows as valid from ``version`` (a
    group gone from the live table is closed only)."""
    statements = _STATEMENTS[versioned.history.name]
    params = {_KEYS: keys, _VERSION: version}
    if close:
        conn.execute(statements.close, params)
    conn.execute(statements.copy, params)


def _changed_keys(conn: Connection, versioned: Versioned, keys: list[int]) -> list[int]:
    """The groups among ``keys`` whose live rows differ from their open history (a row added,
    gone or changed in a compared column)."""
    statements = _STATEMENTS[versioned.history.name]
    params = {_KEYS: keys}
    added: set[int] = set(conn.scalars(statements.added, params))
    gone: set[int] = set(conn.scalars(statements.gone, params))
    return sorted(added | gone)


# -- reads at a version ------------------------------------------------------------------------

AS_OF = "conflictdb_as_of"


def earliest(session: Session) -> int | None:
    """The earliest version a read can be reproduced at (None: no history yet)."""
    found = session.execute(select(func.min(VersionHistory.version))).scalar()
    return None if found is None else int(found)


def version_at(session: Session, at: datetime) -> int | None:
    """The last version committed at or before ``at`` (None: none was)."""
    found = session.execute(
        select(func.max(VersionHistory.version)).where(VersionHistory.changed_at <= at)
    ).scalar()
    return None if found is None else int(found)


def time_of(session: Session, version: int) -> datetime | None:
    """When ``version`` was committed, if it is in the history."""
    return session.execute(
        select(VersionHistory.changed_at).where(VersionHistory.version == version)
    ).scalar()


def place_merged_into(session: Session, place_id: int, version: int) -> int | None:
    """The place ``place_id`` had been merged into at ``version`` (None: not merged then)."""
    history = PLACE_KEYED[0].history
    return session.execute(
        select(history.c.merged_into_id).where(
            history.c.id == place_id,
            history.c.valid_from <= version,
            or_(history.c.valid_to.is_(None), history.c.valid_to > version),
        )
    ).scalar()


def ctes(version: int) -> list[CTE]:
    """One CTE per versioned table, named after it: its rows valid at ``version``."""
    out: list[CTE] = []
    for versioned in VERSIONED:
        history = versioned.history
        out.append(
            select(*(history.c[c.name] for c in versioned.live.columns))
            .where(
                history.c.valid_from <= version,
                or_(history.c.valid_to.is_(None), history.c.valid_to > version),
            )
            .cte(versioned.live.name)
        )
    return out


def shadow(session: Session, version: int) -> None:
    """From now on, every SELECT of ``session`` reads the versioned tables as at ``version``.

    A listener on this session only: other sessions, and the default read path, pay nothing.
    """
    if AS_OF in session.info:
        raise AssertionError("the session already reads at a version")
    session.info[AS_OF] = ctes(version)
    event.listen(session, "do_orm_execute", _at_version)


def reading_at(session: Session) -> bool:
    return AS_OF in session.info


def run(session: Session, statement: Executable, params: Mapping[str, Any]) -> Result[Any]:
    """A read statement built once (bound parameters) run as ``session`` reads: at its
    version when ``shadow`` set one (the listener rewrites the statement), else as Core on
    its connection, without the ORM's step per statement (the detail's and the lists'
    embedded relations: several statements a request)."""
    if AS_OF in session.info:
        return session.execute(statement, params)
    return session.connection().execute(statement, params)


def _at_version(state: ORMExecuteState) -> None:
    # All of them, used or not: a CTE no part of the statement names costs nothing.
    if isinstance(state.statement, Select | CompoundSelect):
        state.statement = state.statement.add_cte(*state.session.info[AS_OF])
