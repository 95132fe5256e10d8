"""Events: the batch API that creates them with their actors, sources and claims (figures and
measures); evidence and claims added to existing events; edits and retractions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import derived
from app.db.base import utcnow
from app.db.bulk import insert_returning_ids, insert_rows
from app.derived import interaction
from app.models import (
    Claim,
    Event,
    EventActor,
    EventDimension,
    EventRevision,
    EventSource,
    EventSourceQuote,
)
from app.models.event import FIGURE_FIELDS
from app.writer import claims as claims_writer
from app.writer import evidence
from app.writer.claims import MEASURE, NewClaim, claim_rows, insert_claims
from app.writer.revisions import (
    REVISED_FIELDS,
    audit,
    event_evidence,
    evidence_changes,
    record_revisions,
)
from app.writer.versions import bump, changes_json, compare_and_set, edit


@dataclass
class NewEventActor:
    actor_id: int
    role: str
    side: str | None = None


@dataclass
class NewMeasure:
    """A quantity the event's source reports ("over 75 barrel bombs"): a measure claim."""

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
    # Who gives the figures and measures (their claims): this dataset (an imported row), else
    # the first source's article (through the quote ``figure_quote_ids`` names for a figure,
    # when the report gives one), else a curator (the key writing).
    dataset_id: int | None = None
    figure_quote_ids: Mapping[str, int] = field(default_factory=dict)


def figure_claims(e: NewEvent) -> list[NewClaim]:
    """The claims of a new event's figures and measures, attributed as ``NewEvent`` says."""
    if e.dataset_id is not None:
        origin, article_id = "dataset", None
    elif e.sources:
        origin, article_id = "source", e.sources[0].article_id
    else:
        origin, article_id = "curator", None
    out = [
        NewClaim(
            field=f,
            value=getattr(e, f),
            origin=origin,
            article_id=article_id,
            dataset_id=e.dataset_id,
            quote_id=e.figure_quote_ids.get(f),
        )
        for f in FIGURE_FIELDS
        if getattr(e, f) is not None
    ]
    out += [
        NewClaim(
            field=MEASURE,
            value=m.value,
            kind=m.kind,
            qualifier=m.qualifier,
            quote_id=m.quote_id,
            origin=origin,
            article_id=article_id,
            dataset_id=e.dataset_id,
        )
        for m in e.measures
    ]
    return out


def create_events(
    session: Session, events: Sequence[NewEvent], *, api_key_id: int | None = None
) -> list[int]:
    """The batch API: events with their actors, sources and claims, a few statements per batch.

    Each new event gets a 'create' revision carrying its initial fields, actors and evidence.
    Its headline figures are its own claims' (one voice: the rule gives them back as given),
    and its corroboration is counted from the sources given, so nothing is read back.
    """
    now = utcnow()
    # The interaction is derived at commit (app.derived.interaction); given here already, so
    # the commit finds nothing to update for a new event.
    kinds = interaction.kinds(session, {a.actor_id for e in events for a in e.actors})
    kept = evidence.new_event_values(
        session,
        [[(s.article_id, s.quote_ids) for s in e.sources] for e in events],
        [e.dataset_id is not None for e in events],
    )
    ids = insert_returning_ids(
        session,
        Event,
        [
            {
                **{name: getattr(e, name) for name in GIVEN_FIELDS},
                "interaction": interaction_of(e.actors, kinds),
                **values,
                "status": "active",
                "disputed": False,
                "incident_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for e, values in zip(events, kept, strict=True)
        ],
    )
    actor_rows = [
        {"event_id": eid, "actor_id": a.actor_id, "side": a.side, "role": a.role}
        for eid, e in zip(ids, events, strict=True)
        for a in e.actors
    ]
    if actor_rows:
        insert_rows(session, EventActor, actor_rows)
    claims = [(eid, c) for eid, e in zip(ids, events, strict=True) for c in figure_claims(e)]
    if claims:
        insert_rows(session, Claim, claim_rows(claims, api_key_id, now))
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
    derived.search_texts_known(
        session,
        (
            (eid, e.summary, [(s.article_id, s.quote_ids) for s in e.sources])
            for eid, e in zip(ids, events, strict=True)
        ),
    )
    return ids


def interaction_of(
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
    session: Session,
    sources: Sequence[tuple[int, NewSource]],
    *,
    claims: Sequence[tuple[int, NewClaim]] = (),
    api_key_id: int | None = None,
) -> None:
    """Attach evidence (an article, its supporting quotes, and the claims it makes: figures
    and measures) to existing events. The claims stand beside the others' and the headline
    figures follow the rule (``app.writer.claims``): a source's figures never overwrite.

    Each event gets a new version and an 'add_source' revision with its sources before/after,
    the claims added and the headline figures that moved.
    """
    if not sources and not claims:
        return
    event_ids = {event_id for event_id, _ in sources} | {event_id for event_id, _ in claims}
    before = event_evidence(session, event_ids)
    insert_sources(session, sources)
    claim_ids = insert_claims(session, claims, api_key_id=api_key_id)
    after = event_evidence(session, event_ids)
    figures = evidence.refresh(session, event_ids)
    bump(session, Event, event_ids)
    added: dict[int, list[dict[str, Any]]] = {}
    for claim_id, (event_id, c) in zip(claim_ids, claims, strict=True):
        added.setdefault(event_id, []).append(_claim_json(claim_id, c))
    revisions = []
    for eid in sorted(event_ids):
        changes: dict[str, tuple[Any, Any]] = {
            **evidence_changes(before[eid], after[eid]),
            **figures.get(eid, {}),
        }
        if eid in added:
            changes["claims"] = (None, added[eid])
        revisions.append((eid, "add_source", changes))
    record_revisions(session, revisions, api_key_id)


def _claim_json(claim_id: int, c: NewClaim) -> dict[str, Any]:
    """A claim as a revision records it."""
    out: dict[str, Any] = {"id": claim_id, "field": c.field, "origin": c.origin}
    for name in ("kind", "value", "qualifier", "article_id", "quote_id", "dataset_id"):
        value = getattr(c, name)
        if value is not None:
            out[name] = value
    return out


def update_event(
    session: Session,
    event_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    *,
    api_key_id: int | None,
) -> int:
    """Edit an event's fields: a revision with the before/after of each one that changed.

    A headline figure given is recorded as a curator's claim (the headline while it stands,
    ``app.writer.claims``), unless the standing curator's claim on it already says so.
    """
    values = dict(values)
    figures = {f: values.pop(f) for f in FIGURE_FIELDS if f in values}
    standing = _curator_figures(session, event_id)
    claims = [
        (event_id, NewClaim(field=f, value=v, origin="curator"))
        for f, v in figures.items()
        if f not in standing or standing[f] != v
    ]
    version, changes = edit(
        session, Event, event_id, expected_version, values, touched=bool(claims)
    )
    if claims:
        claim_ids = insert_claims(session, claims, api_key_id=api_key_id)
        changes = {**changes, **evidence.refresh(session, [event_id]).get(event_id, {})}
        changes["claims"] = (
            None,
            [_claim_json(i, c) for i, (_, c) in zip(claim_ids, claims, strict=True)],
        )
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


def _curator_figures(session: Session, event_id: int) -> dict[str, float | None]:
    """The standing curator's claim on each figure of the event (the latest)."""
    out: dict[str, float | None] = {}
    for field_name, value in session.execute(
        select(Claim.field, Claim.value)
        .where(
            Claim.event_id == event_id,
            Claim.origin == "curator",
            Claim.field != MEASURE,
            Claim.withdrawn_at.is_(None),
        )
        .order_by(Claim.id)
    ):
        out[field_name] = None if value is None else round(value)
    return out


def add_claims(
    session: Session,
    event_id: int,
    expected_version: int,
    claims: Sequence[NewClaim],
    *,
    api_key_id: int | None,
) -> tuple[int, list[int]]:
    """Record claims on an event (a curator's, or a source's found by a curator); its headline
    figures follow. (new version, the claims' ids)."""
    version = compare_and_set(session, Event, event_id, expected_version)
    claim_ids = insert_claims(session, [(event_id, c) for c in claims], api_key_id=api_key_id)
    changes: dict[str, tuple[Any, Any]] = {
        **evidence.refresh(session, [event_id]).get(event_id, {}),
        "claims": (None, [_claim_json(i, c) for i, c in zip(claim_ids, claims, strict=True)]),
    }
    record_revisions(session, [(event_id, "add_claim", changes)], api_key_id)
    audit(
        session,
        "claim.create",
        api_key_id=api_key_id,
        entity="event",
        entity_id=event_id,
        detail={"claims": claim_ids, "version": version},
    )
    return version, claim_ids


def withdraw_claim(
    session: Session,
    event_id: int,
    expected_version: int,
    claim: Mapping[str, Any],
    reason: str,
    *,
    api_key_id: int | None,
) -> int:
    """Withdraw a claim (kept, with its reason); the headline figures follow. New version."""
    version = compare_and_set(session, Event, event_id, expected_version)
    claims_writer.withdraw_claim(session, claim["id"], reason)
    changes: dict[str, tuple[Any, Any]] = {
        **evidence.refresh(session, [event_id]).get(event_id, {}),
        "claims": (claims_writer.claims_json([claim]), None),
    }
    record_revisions(session, [(event_id, "withdraw_claim", changes)], api_key_id)
    audit(
        session,
        "claim.withdraw",
        api_key_id=api_key_id,
        entity="event",
        entity_id=event_id,
        detail={"claim": claim["id"], "reason": reason, "version": version},
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
    # A retracted record no longer leads its incident.
    evidence.refresh_incidents_of(session, [event_id])
    audit(
        session,
        "event.retract",
        api_key_id=api_key_id,
        entity="event",
        entity_id=event_id,
        detail={"reason": reason, "version": version},
    )
    return version
