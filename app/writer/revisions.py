"""Revisions and audit: what changed, by whom, in the same transaction as the change.

Every change to an event, its actors or its evidence writes an event revision (the
before/after of each field that changed); every edit of any record appends to the audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import chunks, insert_rows
from app.models import AuditEntry, EventActor, EventRevision, EventSource, EventSourceQuote
from app.models.event import RECORDED_FIELDS
from app.writer.versions import changes_json

# The event fields a revision records (the before/after of each one that changed).
REVISED_FIELDS = RECORDED_FIELDS


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
                "changes": changes_json(diff),
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
    # Core on the session's connection (the log is bookkeeping: no derived state follows it).
    session.connection().execute(
        _AUDIT,
        {
            "at": utcnow(),
            "api_key_id": api_key_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": detail,
        },
    )


_AUDIT = insert(AuditEntry)


def event_actors(session: Session, event_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's actors as a revision records them: [{actor_id, side, role}] by actor id."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks(event_ids):
        for row in session.execute(
            select(EventActor.event_id, EventActor.actor_id, EventActor.side, EventActor.role)
            .where(EventActor.event_id.in_(chunk))
            .order_by(EventActor.event_id, EventActor.actor_id)
        ):
            out[row.event_id].append({"actor_id": row.actor_id, "side": row.side, "role": row.role})
    return out


def event_evidence(session: Session, event_ids: Iterable[int]) -> dict[int, dict[str, list[int]]]:
    """Each event's sources (article ids) and cited quotes (quote ids), sorted."""
    out: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"sources": [], "quotes": []})
    for chunk in chunks(event_ids):
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


def evidence_changes(
    before: Mapping[str, list[int]], after: Mapping[str, list[int]]
) -> dict[str, tuple[Any, Any]]:
    return {k: (before[k], after[k]) for k in ("sources", "quotes") if before[k] != after[k]}
