"""What the writer keeps on each event from its evidence, claims and links, in the transaction
that changes them, so lists can filter and count on plain columns at any size.

- corroboration: how many articles report the event (``source_count``), from how many
  distinct outlets (``outlet_count``), citing how many distinct quotes (``quote_count``), and
  the earliest publication date among those articles (``first_reported_date``);
- ``evidence``: what backs it: ``quotes`` (a quote of one of its articles), else ``dataset``
  (the row of an imported dataset, ``event_provenance``), else ``none`` (older data);
- the headline figures and ``disputed``, from its claims (``app.writer.claims``);
- each incident's lead record (``app.writer.incidents``).

``refresh`` recomputes them from the stored rows for the events a write touched, writes
those that changed (with ``updated_at``; the version is the caller's, who also records the
revision) and reports the headline figures that moved, for the revision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import chunks
from app.models import Article, Event, EventProvenance, EventSource, EventSourceQuote
from app.models.event import FIGURE_FIELDS
from app.writer import claims as claims_writer
from app.writer import incidents as incidents_writer

# The columns ``refresh`` keeps (besides ``incident_id``, which only links change).
CORROBORATION = ("source_count", "outlet_count", "quote_count", "first_reported_date", "evidence")
KEPT = (*CORROBORATION, *FIGURE_FIELDS, "disputed")


def evidence_kind(quotes: int, imported: bool) -> str:
    if quotes:
        return "quotes"
    return "dataset" if imported else "none"


def corroboration(session: Session, event_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each event's corroboration and evidence kind, read from its sources and provenance."""
    ids = sorted(set(event_ids))
    out: dict[int, dict[str, Any]] = {
        i: {
            "source_count": 0,
            "outlet_count": 0,
            "quote_count": 0,
            "first_reported_date": None,
            "evidence": "none",
        }
        for i in ids
    }
    imported: set[int] = set()
    for chunk in chunks(ids):
        for event_id, sources, outlets, first in session.execute(
            select(
                EventSource.event_id,
                func.count(EventSource.id),
                func.count(func.distinct(Article.outlet_id)),
                func.min(Article.published_date),
            )
            .join(Article, Article.id == EventSource.article_id)
            .where(EventSource.event_id.in_(chunk))
            .group_by(EventSource.event_id)
        ):
            row = out[event_id]
            row["source_count"], row["outlet_count"] = sources, outlets
            # SQLite's min() of a date column comes back as ISO text.
            row["first_reported_date"] = (
                date.fromisoformat(first) if isinstance(first, str) else first
            )
        for event_id, quotes in session.execute(
            select(EventSource.event_id, func.count(func.distinct(EventSourceQuote.quote_id)))
            .join(EventSourceQuote, EventSourceQuote.event_source_id == EventSource.id)
            .where(EventSource.event_id.in_(chunk))
            .group_by(EventSource.event_id)
        ):
            out[event_id]["quote_count"] = quotes
        imported.update(
            session.scalars(
                select(EventProvenance.event_id).where(EventProvenance.event_id.in_(chunk))
            )
        )
    for event_id, row in out.items():
        row["evidence"] = evidence_kind(row["quote_count"], event_id in imported)
    return out


def expected(session: Session, event_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """What ``refresh`` would keep on each event: corroboration, headline figures, disputed."""
    ids = sorted(set(event_ids))
    values = corroboration(session, ids)
    for event_id, (figures, disputed) in claims_writer.headlines(session, ids).items():
        values[event_id].update(figures, disputed=disputed)
    return values


def refresh(session: Session, event_ids: Iterable[int]) -> dict[int, dict[str, tuple[Any, Any]]]:
    """Bring the kept columns of these events up to date; {event id: {figure: (before, after)}}
    for the headline figures that changed (what a revision records)."""
    ids = sorted(set(event_ids))
    if not ids:
        return {}
    wanted = expected(session, ids)
    current: dict[int, Mapping[str, Any]] = {}
    incidents: set[int] = set()
    for chunk in chunks(ids):
        for row in session.execute(
            select(Event.id, Event.incident_id, *(getattr(Event, c) for c in KEPT)).where(
                Event.id.in_(chunk)
            )
        ).mappings():
            current[row["id"]] = dict(row)
            if row["incident_id"] is not None:
                incidents.add(row["incident_id"])
    changed_rows: list[dict[str, Any]] = []
    figure_changes: dict[int, dict[str, tuple[Any, Any]]] = defaultdict(dict)
    now = utcnow()
    for event_id in ids:
        before = current.get(event_id)
        if before is None:
            continue
        after = wanted[event_id]
        if any(before[c] != after[c] for c in KEPT):
            changed_rows.append({"b_id": event_id, **after, "updated_at": now})
            for field in FIGURE_FIELDS:
                if before[field] != after[field]:
                    figure_changes[event_id][field] = (before[field], after[field])
    if changed_rows:
        table = cast(Table, Event.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in (*KEPT, "updated_at")}),
            changed_rows,
        )
        derived.events_changed(session, [r["b_id"] for r in changed_rows])
    if incidents:
        incidents_writer.refresh_leads(session, incidents)
    return dict(figure_changes)


def merge_changes(
    changes: dict[str, tuple[Any, Any]], more: Mapping[str, tuple[Any, Any]]
) -> dict[str, tuple[Any, Any]]:
    """Field changes made in two steps as one: the first before, the last after."""
    out = dict(changes)
    for field, (before, after) in more.items():
        first = out[field][0] if field in out else before
        if first == after:
            out.pop(field, None)
        else:
            out[field] = (first, after)
    return out


def new_event_values(
    session: Session,
    sources: Sequence[Sequence[tuple[int, Sequence[int]]]],
    imported: Sequence[bool],
) -> list[dict[str, Any]]:
    """The corroboration of new events, from what is being written: each event's sources
    (article id, its cited quote ids) and whether it is imported. One look-up of the
    articles for the whole batch."""
    article_ids = {article_id for event in sources for article_id, _ in event}
    articles: dict[int, tuple[int, date | None]] = {}
    for chunk in chunks(article_ids):
        for article_id, outlet_id, published in session.connection().execute(
            _ARTICLES, {"ids": chunk}
        ):
            articles[article_id] = (outlet_id, published)
    out = []
    for event, is_imported in zip(sources, imported, strict=True):
        ids = {article_id for article_id, _ in event}
        quotes = {q for _, quote_ids in event for q in quote_ids}
        dates = [d for a in ids if (d := articles[a][1]) is not None]
        out.append(
            {
                "source_count": len(ids),
                "outlet_count": len({articles[a][0] for a in ids}),
                "quote_count": len(quotes),
                "first_reported_date": min(dates) if dates else None,
                "evidence": evidence_kind(len(quotes), is_imported),
            }
        )
    return out


# Built once (every new event needs it), run as Core on the session's connection.
_ARTICLES = select(Article.id, Article.outlet_id, Article.published_date).where(
    Article.id.in_(bindparam("ids", expanding=True))
)


def refresh_incidents_of(session: Session, event_ids: Iterable[int]) -> None:
    """Re-pick the lead record of the incidents these events are in (a status changed)."""
    incidents: set[int] = set()
    for chunk in chunks(event_ids):
        incidents.update(
            i
            for i in session.scalars(select(Event.incident_id).where(Event.id.in_(chunk)))
            if i is not None
        )
    if incidents:
        incidents_writer.refresh_leads(session, incidents)
