"""Events: the batch API that creates them with their actors, measures and sources; evidence
added to existing events; edits and retractions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import insert_returning_ids, insert_rows
from app.derived import interaction
from app.models import (
    Event,
    EventActor,
    EventDimension,
    EventMeasure,
    EventRevision,
    EventSource,
    EventSourceQuote,
)
from app.writer.revisions import (
    REVISED_FIELDS,
    audit,
    event_evidence,
    evidence_changes,
    record_revisions,
)
from app.writer.versions import bump, changes_json, edit


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


# What a new event is given of its recorded fields: all but its status, which starts active.
GIVEN_FIELDS = tuple(f for f in REVISED_FIELDS if f not in ("status", "retraction_reason"))


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
    deaths_a: int | None = None
    deaths_b: int | None = None
    deaths_civilians: int | None = None
    deaths_unknown: int | None = None
    actors: Sequence[NewEventActor] = ()
    measures: Sequence[NewMeasure] = ()
    sources: Sequence[NewSource] = field(default_factory=list)
    # Dataset codes (``dimension_code`` ids): issue 12.
    dimension_ids: Sequence[int] = ()


def create_events(
    session: Session, events: Sequence[NewEvent], *, api_key_id: int | None = None
) -> list[int]:
    """The batch API: events with their actors, measures and sources, a few statements per batch.

    Each new event gets a 'create' revision carrying its initial fields, actors and evidence.
    """
    now = utcnow()
    # The interaction is derived at commit (app.derived.interaction); given here already, so
    # the commit finds nothing to update for a new event.
    kinds = interaction.kinds(session, {a.actor_id for e in events for a in e.actors})
    ids = insert_returning_ids(
        session,
        Event,
        [
            {
                **{name: getattr(e, name) for name in GIVEN_FIELDS},
                "interaction": _interaction(e.actors, kinds),
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
    dimension_rows = [
        {"code_id": code_id, "event_id": eid}
        for eid, e in zip(ids, events, strict=True)
        for code_id in dict.fromkeys(e.dimension_ids)
    ]
    if dimension_rows:
        insert_rows(session, EventDimension, dimension_rows)
    insert_sources(
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
        if e.dimension_ids:
            diff["dimensions"] = [None, sorted(set(e.dimension_ids))]
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
    derived.interaction_known(session, ids)
    return ids


def _interaction(
    actors: Sequence[NewEventActor], kinds: Mapping[int, tuple[str, int | None]]
) -> str | None:
    sides: dict[str, list[tuple[str, int | None, str]]] = {"a": [], "b": []}
    for a in actors:
        kind, inter = kinds[a.actor_id]
        sides["b" if a.side == "b" else "a"].append((kind, inter, a.role))
    return interaction.of_sides(sides["a"], sides["b"])


def insert_sources(session: Session, sources: Sequence[tuple[int, NewSource]]) -> None:
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
    source_ids = insert_returning_ids(
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
    before = event_evidence(session, event_ids)
    insert_sources(session, sources)
    after = event_evidence(session, event_ids)
    bump(session, Event, event_ids)
    record_revisions(
        session,
        [
            (eid, "add_source", evidence_changes(before[eid], after[eid]))
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
    version, changes = edit(session, Event, event_id, expected_version, values)
    if changes:
        record_revisions(session, [(event_id, "update", changes)], api_key_id)
        audit(
            session,
            "event.update",
            api_key_id=api_key_id,
            entity="event",
            entity_id=event_id,
            detail={"changes": changes_json(changes), "version": version},
        )
    return version


def retract_event(
    session: Session, event_id: int, expected_version: int, reason: str, *, api_key_id: int | None
) -> int:
    """Retract an event: kept, with its reason, and left out of lists from now on."""
    version, changes = edit(
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
