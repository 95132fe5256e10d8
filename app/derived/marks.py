"""What a write transaction changed, noted as it goes, for the commit step (``app.derived.hooks``).

The writer marks what it changes (``events_changed``, ``reindex``); any other write of data
marks the session dirty by itself (a listener on the session's statements, ``hooks``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Event, EventSource, EventSourceQuote, PlaceAncestor

STATE = "conflictdb_derived"
# Writes to these tables are bookkeeping, not data: they leave the data version alone.
# (The derived tables themselves are written only here, by ``finish``.)
NOT_DATA = frozenset(
    {
        "api_key",
        "idempotency_key",
        "audit_log",
        "rate_limit_bucket",
        "data_version",
        "event_change",
        "event_rollup",
        "event_rollup_member",
    }
)
_ORDER = {"created": 0, "retracted": 1, "updated": 2}


@dataclass
class State:
    dirty: bool = False
    # event id -> feed action; 'created' sticks, then 'retracted' beats 'updated'
    events: dict[int, str] = field(default_factory=dict)
    reindex: set[int] = field(default_factory=set)


def _state(session: Session) -> State:
    state = session.info.get(STATE)
    if state is None:
        state = session.info[STATE] = State()
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
