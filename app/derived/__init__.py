"""Derived state, kept in step with the data in the same transaction as the writes it derives from.

- ``marks``: what a write transaction changed, noted by the writer as it goes;
- ``hooks``: the commit step that turns the marks into derived state, registered on every
  write session where write sessions are made (``app.writer.transaction``);
- ``version``: the data version, advanced by every committed write of data;
- ``rollups``: monthly aggregates for ``/v1/stats``;
- ``search``: the full-text index of events, and how to query it;
- the change feed: one ``event_change`` row per changed event and version (``hooks.finish``).

Nothing here is called for reads except ``version`` and ``search.matching_event_ids``.
"""

from app.derived.marks import (
    NOT_DATA,
    events_changed,
    events_citing_articles,
    events_citing_quote,
    events_in_places,
    forget_texts,
    interaction_known,
    mark_dirty,
    places_located,
    places_moved,
    reindex,
    search_texts_known,
    texts_written,
)
from app.derived.version import at_one_version, current_version, read_version

__all__ = [
    "NOT_DATA",
    "at_one_version",
    "current_version",
    "events_changed",
    "events_citing_articles",
    "events_citing_quote",
    "events_in_places",
    "forget_texts",
    "interaction_known",
    "mark_dirty",
    "places_located",
    "places_moved",
    "read_version",
    "reindex",
    "search_texts_known",
    "texts_written",
]
