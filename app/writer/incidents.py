"""Incidents: events linked as records of one real-world happening.

Linking never merges events: each keeps its own id, evidence, claims and figures, and names
its incident (``event.incident_id``). Linking events of which some already belong to
incidents joins them (two incidents become one: the older survives). Unlinking an event
that leaves an incident with one record dissolves it.

**The lead record** of an incident is its earliest-reported active record: the one with the
earliest ``first_reported_date`` (an undated one after the dated ones), then the lowest id;
retracted records come last. ``count=incidents`` counts an incident once, as its lead: in
the lead's time bucket and groups, under the filters applied to the lead.

Every change of an event's incident is an event revision (``link`` / ``unlink``, with its
``incident_id`` before and after), and the events' versions and the change feed follow. The
caller locks the events first (``app.incidents.repository.lock_for_link``) and checks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.bulk import chunks, insert_returning_ids
from app.models import Event, Incident
from app.writer.revisions import audit, record_revisions
from app.writer.versions import bump


def _members(session: Session, incident_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for chunk in chunks(incident_ids):
        for event_id, incident_id in session.execute(
            select(Event.id, Event.incident_id)
            .where(Event.incident_id.in_(chunk))
            .order_by(Event.id)
        ):
            assert incident_id is not None
            out.setdefault(incident_id, []).append(event_id)
    return out


def link_events(
    session: Session, event_ids: Sequence[int], *, api_key_id: int | None
) -> tuple[int, bool]:
    """Put these events in one incident: a new one, or the oldest of those some of them are
    in already (the others' records join it). (incident id, whether it was created)."""
    current = dict(
        session.execute(
            select(Event.id, Event.incident_id).where(Event.id.in_(sorted(set(event_ids))))
        ).all()
    )
    existing = sorted({i for i in current.values() if i is not None})
    created = not existing
    now = utcnow()
    if created:
        (target,) = insert_returning_ids(
            session,
            Incident,
            [{"lead_event_id": min(event_ids), "created_at": now, "updated_at": now}],
        )
    else:
        target = existing[0]
    absorbed = existing[1:]
    moving = {e: i for e, i in current.items() if i != target}
    for incident_id, members in _members(session, absorbed).items():
        moving.update(dict.fromkeys(members, incident_id))
    for chunk in chunks(moving):
        session.execute(
            update(Event)
            .where(Event.id.in_(chunk))
            .values(incident_id=target)
            .execution_options(synchronize_session=False)
        )
    if absorbed:
        session.execute(delete(Incident).where(Incident.id.in_(absorbed)))
    bump(session, Event, moving)
    record_revisions(
        session,
        [(e, "link", {"incident_id": (before, target)}) for e, before in sorted(moving.items())],
        api_key_id,
    )
    refresh_leads(session, [target], touched=not created)
    audit(
        session,
        "incident.link",
        api_key_id=api_key_id,
        entity="incident",
        entity_id=target,
        detail={"events": sorted(moving), "absorbed": absorbed, "created": created},
    )
    return target, created


def unlink_event(
    session: Session, incident_id: int, event_id: int, *, api_key_id: int | None
) -> list[int]:
    """Take an event out of its incident; an incident left with one record is dissolved.
    Returns the events unlinked."""
    members = _members(session, [incident_id]).get(incident_id, [])
    leaving = [event_id] if len(members) > 2 else members
    for chunk in chunks(leaving):
        session.execute(
            update(Event)
            .where(Event.id.in_(chunk))
            .values(incident_id=None)
            .execution_options(synchronize_session=False)
        )
    bump(session, Event, leaving)
    record_revisions(
        session,
        [(e, "unlink", {"incident_id": (incident_id, None)}) for e in sorted(leaving)],
        api_key_id,
    )
    if len(leaving) == len(members):
        session.execute(delete(Incident).where(Incident.id == incident_id))
    else:
        refresh_leads(session, [incident_id], touched=True)
    audit(
        session,
        "incident.unlink",
        api_key_id=api_key_id,
        entity="incident",
        entity_id=incident_id,
        detail={"events": sorted(leaving), "dissolved": len(leaving) == len(members)},
    )
    return sorted(leaving)


def lead_key(status: str, first_reported: date | None, event_id: int) -> tuple[Any, ...]:
    """The order of an incident's records; its lead is the first (see the module's notes)."""
    return (status != "active", first_reported is None, first_reported or date.min, event_id)


def leads(session: Session, incident_ids: Iterable[int]) -> dict[int, int]:
    """Each incident's lead record by the rule."""
    best: dict[int, tuple[tuple[Any, ...], int]] = {}
    for chunk in chunks(incident_ids):
        for event_id, incident_id, status, first in session.execute(
            select(Event.id, Event.incident_id, Event.status, Event.first_reported_date).where(
                Event.incident_id.in_(chunk)
            )
        ):
            assert incident_id is not None
            key = lead_key(status, first, event_id)
            if incident_id not in best or key < best[incident_id][0]:
                best[incident_id] = (key, event_id)
    return {incident_id: event_id for incident_id, (_, event_id) in best.items()}


def refresh_leads(session: Session, incident_ids: Iterable[int], *, touched: bool = False) -> None:
    """Point each incident at its lead record; ``touched``: a new version even if the lead
    stays (its records changed)."""
    ids = sorted(set(incident_ids))
    if not ids:
        return
    wanted = leads(session, ids)
    now = utcnow()
    for incident_id, lead in session.execute(
        select(Incident.id, Incident.lead_event_id).where(Incident.id.in_(ids))
    ).all():
        new_lead = wanted.get(incident_id, lead)
        if new_lead != lead or touched:
            session.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(lead_event_id=new_lead, version=Incident.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
