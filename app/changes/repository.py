"""All SQL of the change feed: the ``event_change`` log in commit order, each change with its
event's current list row, and the page's next cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, and_, case, false, or_, select, true
from sqlalchemy.orm import Session

from app import derived
from app.changes.schemas import Position, encode_position
from app.core import freshness
from app.core.errors import ValidationProblem
from app.events import repository as event_repository
from app.events.schemas import EVENT_FIELDS, EventFilter
from app.models import Event, EventChange, Place


def _after(position: Position) -> ColumnElement[bool]:
    version, event_id = position
    if event_id is None:
        return EventChange.version > version
    return or_(
        EventChange.version > version,
        and_(EventChange.version == version, EventChange.event_id > event_id),
    )


def _key(position: Position) -> tuple[int, float]:
    version, event_id = position
    return version, float("inf") if event_id is None else event_id


class Change(TypedDict):
    version: int
    event_id: int
    action: str
    changed_at: datetime
    event: dict[str, Any]  # the list's row (``EVENT_FIELDS``), as GET /v1/events has it
    in_slice: bool  # whether the event is now in the slice of the list's filters (issue 12)


def changes_after(
    session: Session, position: Position | None, limit: int, slice_: EventFilter | None = None
) -> list[Change]:
    """Up to ``limit`` changes after ``position`` in commit order, with their events' rows in
    the list's shape (the list's columns, the place outer-joined as the list does).

    With ``slice_`` (the list's filters, their references read: issue 12), each change says
    whether its event is in the slice now (``in_slice``). A change of an event outside it is
    kept when it may have moved the event out (an edit, a retraction), so a copy of the slice
    deletes it; an event created outside the slice and still outside is left out (if an edit
    had moved it in and out again, that edit's own entry says so)."""
    inside: ColumnElement[bool] = true()
    if slice_ is not None:
        clauses = event_repository.filter_clauses(slice_)
        if clauses:
            inside = and_(*clauses)
    stmt = (
        select(
            EventChange.version,
            EventChange.event_id,
            EventChange.action,
            EventChange.changed_at,
            case((inside, true()), else_=false()).label("in_slice"),
            *(event_repository.COLUMNS[name] for name in EVENT_FIELDS),
        )
        .select_from(EventChange)
        .join(Event, Event.id == EventChange.event_id)
        .outerjoin(Place, Place.id == Event.place_id)
        .order_by(EventChange.version, EventChange.event_id)
        .limit(limit)
    )
    if position is not None:
        stmt = stmt.where(_after(position))
    if slice_ is not None:
        stmt = stmt.where(or_(inside, EventChange.action != "created"))
    out: list[Change] = []
    for row in session.execute(stmt):
        out.append(
            {
                "version": row[0],
                "event_id": row[1],
                "action": row[2],
                "changed_at": row[3],
                "event": dict(zip(EVENT_FIELDS, row[5:], strict=True)),
                "in_slice": bool(row[4]),
            }
        )
    return out


def changes_page(
    session: Session, since: Position | None, limit: int, slice_: EventFilter | None = None
) -> dict[str, Any]:
    """A page of the feed, its next cursor and the current data version.

    The version is read first. Writers hand out versions in commit order (app/derived.py), so
    every change numbered up to that version is already committed and visible to the query
    that follows: a page shorter than ``limit`` has seen all of them, and its cursor can move
    past that version even when no change is left (writes that change no event advance the
    version too), so a caught-up client polls from where it is instead of re-reading. Changes
    committed between the two reads come in the page too; that is safe for the same reason
    (none below them can still be missing).
    """
    version = derived.current_version(session)
    if since is not None and since[0] > version:
        # A replica that has not caught up with the cursor: the primary answers instead.
        freshness.require_version(since[0], version)
        raise ValidationProblem(
            f"since is ahead of the current data version {version}: this is not the database "
            "the cursor was made on (restored or reset?); start again without since.",
            errors=[{"loc": ["query", "since"], "msg": "ahead of the data", "type": "since"}],
        )
    if slice_ is not None:
        slice_ = event_repository.with_live_ids(session, slice_)
    rows = changes_after(session, since, limit + 1, slice_)
    if len(rows) > limit:
        rows = rows[:limit]
        position: Position = (rows[-1]["version"], rows[-1]["event_id"])
    else:
        candidates: list[Position] = [(version, None)]
        if rows:
            candidates.append((rows[-1]["version"], rows[-1]["event_id"]))
        position = max(candidates, key=_key)
    return {"data": rows, "next_cursor": encode_position(position), "data_version": version}
