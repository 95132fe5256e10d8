"""What a write transaction changed, noted as it goes, for the commit step (``app.derived.hooks``).

The writer marks what it changes (``events_changed``, ``reindex``); any other write of data
marks the session dirty by itself (a listener on the session's statements, ``hooks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
        # issue 12: the history as_of reads (app.derived.history)
        "version_history",
        *(f"{name}_history" for name in ("event", "event_actor", "event_dimension")),
        *(f"{name}_history" for name in ("event_source", "claim", "place", "place_ancestor")),
    }
)
_ORDER = {"created": 0, "retracted": 1, "updated": 2}


@dataclass
class State:
    dirty: bool = False
    # event id -> feed action; 'created' sticks, then 'retracted' beats 'updated'
    events: dict[int, str] = field(default_factory=dict)
    reindex: set[int] = field(default_factory=set)
    # Places whose located subtree changed (a point given, a move, a merge): their centroids
    # and those of the places containing them follow at commit (``app.derived.points``);
    # for ``located`` (new places, points given) only those of the places containing them.
    places: set[int] = field(default_factory=set)
    located: set[int] = field(default_factory=set)
    # Events whose interaction the writer set from their actors as it created them, and
    # that nothing changed since: the commit need not derive it again.
    interaction_known: set[int] = field(default_factory=set)
    # The search text of events created in this transaction, given by the writer from what it
    # wrote (their summary, their articles' titles, their quotes), and that nothing changed
    # since: the commit need not read it back.
    search_texts: dict[int, list[str]] = field(default_factory=dict)
    # The titles of articles and the texts of quotes written in this transaction, by id.
    titles: dict[int, str | None] = field(default_factory=dict)
    quotes: dict[int, str] = field(default_factory=dict)


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
    ids = list(event_ids)
    for event_id in ids:
        current = state.events.get(event_id)
        if current is None or _ORDER[action] < _ORDER[current]:
            state.events[event_id] = action
    state.reindex.update(state.events)
    if action != "created":
        if state.interaction_known:
            state.interaction_known.difference_update(ids)
        if state.search_texts:
            for event_id in ids:
                state.search_texts.pop(event_id, None)


def interaction_known(session: Session, event_ids: Iterable[int]) -> None:
    """Events created in this transaction with their interaction already derived."""
    _state(session).interaction_known.update(event_ids)


def reindex(session: Session, event_ids: Iterable[int]) -> None:
    """Events whose search text changed though they did not (an article's title edited)."""
    state = _state(session)
    state.dirty = True
    ids = set(event_ids)
    state.reindex.update(ids)
    for event_id in ids & state.search_texts.keys():
        del state.search_texts[event_id]


def texts_written(
    session: Session,
    *,
    titles: Iterable[tuple[int, str | None]] = (),
    quotes: Iterable[tuple[int, str]] = (),
) -> None:
    """Articles' titles and quotes' texts just written (by id): what the search text of
    events created from them in this transaction is made of (``search_texts_known``)."""
    state = _state(session)
    state.titles.update(titles)
    state.quotes.update(quotes)


def forget_texts(
    session: Session, *, articles: Iterable[int] = (), quotes: Iterable[int] = ()
) -> None:
    """Titles or quotes edited after they were written in this transaction: events created
    from them from now on read their search text back at commit."""
    state = _state(session)
    for article_id in articles:
        state.titles.pop(article_id, None)
    for quote_id in quotes:
        state.quotes.pop(quote_id, None)


def search_texts_known(
    session: Session, events: Iterable[tuple[int, str | None, Sequence[tuple[int, Sequence[int]]]]]
) -> None:
    """Events just created, each as (id, summary, [(article id, quote ids) per source]): the
    ones whose every article and quote was written in this transaction get their search text
    from memory at commit, in the order ``app.derived.search.documents`` reads it (summary,
    titles by article id, quotes by quote id)."""
    state = _state(session)
    if not state.titles:
        return
    for event_id, summary, sources in events:
        articles = sorted(article_id for article_id, _ in sources)
        quote_ids = sorted(q for _, ids in sources for q in dict.fromkeys(ids))
        if not all(a in state.titles for a in articles) or not all(
            q in state.quotes for q in quote_ids
        ):
            continue
        state.search_texts[event_id] = [
            summary or "",
            *(state.titles[a] or "" for a in articles),
            *(state.quotes[q] for q in quote_ids),
        ]


def places_moved(session: Session, place_ids: Iterable[int]) -> None:
    """Places moved or merged in this transaction (for a move, mark the old parent too: once
    the closure is rewritten, it is no longer among the ancestors)."""
    state = _state(session)
    state.dirty = True
    state.places.update(place_ids)


def places_located(session: Session, place_ids: Iterable[int]) -> None:
    """Places created with a point, or given one, in this transaction."""
    state = _state(session)
    state.dirty = True
    state.located.update(place_ids)


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
