"""Monthly rollups of events per (month, country, province, type, sub-type): what
``/v1/stats`` reads instead of the events when a query allows.

Each active event's contribution is kept as a member row; reconciling a changed event takes
its last contribution out and puts its new one in, whatever changed it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from app.db.bulk import bind_processors, chunks, insert_rows
from app.models import Event, EventRollup, EventRollupMember, Place, PlaceAncestor
from app.models.derived import NO_ADMIN1, NO_COUNTRY, NO_SUB_EVENT_TYPE

# What the commit step reads of each changed event: status, rollup contribution, summary.
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


def events(session: Session, ids: list[int]) -> list[Any]:
    """The events among ``ids`` that exist, whatever their status, with their place's country."""
    rows: list[Any] = []
    for chunk in chunks(ids):
        rows += session.connection().execute(_EVENTS, {"ids": chunk}).all()
    return rows


# Built once (every commit runs them), run as Core on the session's connection.
_EVENTS = (
    select(*_EVENT_COLUMNS)
    .outerjoin(Place, Place.id == Event.place_id)
    .where(Event.id.in_(bindparam("ids", expanding=True)))
)
_ADMIN1 = (
    select(PlaceAncestor.place_id, PlaceAncestor.ancestor_id, PlaceAncestor.depth)
    .join(Place, Place.id == PlaceAncestor.ancestor_id)
    .where(PlaceAncestor.place_id.in_(bindparam("ids", expanding=True)), Place.kind == "admin1")
)


RollupKey = tuple[date, str, int, str, str]
METRICS = ("events", "fatalities_best", "fatalities_low", "fatalities_high")


def _admin1_of(session: Session, place_ids: set[int]) -> dict[int, int]:
    """Each place's nearest ancestor of kind 'admin1' (itself if it is one)."""
    found: dict[int, tuple[int, int]] = {}
    for chunk in chunks(sorted(place_ids)):
        for place_id, ancestor_id, depth in session.connection().execute(_ADMIN1, {"ids": chunk}):
            if place_id not in found or depth < found[place_id][1]:
                found[place_id] = (ancestor_id, depth)
    return {place_id: ancestor for place_id, (ancestor, _) in found.items()}


def contributions(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What each active event among ``ids`` adds to the rollups, as member rows."""
    return _members(session, [r for r in events(session, ids) if r.status == "active"])


def _members(session: Session, rows: list[Any]) -> dict[int, dict[str, Any]]:
    """The member rows of active events read by ``events``."""
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


def reconcile(session: Session, ids: list[int], created: set[int], active: list[Any]) -> None:
    """Take the events' last applied contributions out of the rollups and put the new ones in
    (``active``: the active events among ``ids``, as ``events`` reads them).

    Events created in this transaction have no contribution yet: bulk imports skip the look-up.
    """
    old: dict[int, dict[str, Any]] = {}
    member_columns = list(EventRollupMember.__table__.c)
    existing_ids = [i for i in ids if i not in created]
    for chunk in chunks(existing_ids):
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
    for chunk in chunks(gone):
        session.execute(delete(EventRollupMember).where(EventRollupMember.event_id.in_(chunk)))
    rows = [new[i] for i in rewrite if i in new]
    if rows:
        insert_rows(session, EventRollupMember, rows)


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
        for _, month in bind_processors(table, ["month"], connection.dialect):
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
