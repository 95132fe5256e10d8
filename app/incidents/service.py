"""Rules of incidents: what may be linked and unlinked, what an event's similar records are, and
the reconciliation of two datasets or outlets. The writes go through ``app.writer``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import writer
from app.core.errors import NotFound, ValidationProblem
from app.core.outcomes import Outcome
from app.idempotency import service as idempotency
from app.incidents import matching, repository
from app.incidents.schemas import IncidentDetail, IncidentLink, SimilarQuery
from app.writer.transaction import write_transaction

KIND = "incident"


def location(incident_id: int) -> str:
    return f"/v1/incidents/{incident_id}"


def _detail_json(session: Session, incident_id: int) -> dict[str, Any]:
    incident = repository.get_incident(session, incident_id)
    assert incident is not None
    return IncidentDetail.model_validate(incident).model_dump(mode="json")


def _refuse(errors: list[dict[str, Any]]) -> ValidationProblem:
    return ValidationProblem(
        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]),
        errors=errors,
    )


def link(
    engine: Engine,
    body: IncidentLink,
    api_key_id: int | None,
    idem: idempotency.IdempotencyRequest | None = None,
) -> Outcome:
    """POST /v1/incidents: 201 with a new incident, or 200 with the one the events joined."""
    errors: list[dict[str, Any]] = []
    first: dict[int, int] = {}
    for i, event_id in enumerate(body.events):
        if event_id in first:
            errors.append(
                {
                    "loc": ["body", "events", i],
                    "msg": f"event {event_id} is listed twice (as events.{first[event_id]}): "
                    "an event cannot be linked to itself",
                    "type": "self_link",
                }
            )
        first.setdefault(event_id, i)
    if errors:
        raise _refuse(errors)

    def work(session: Session) -> Outcome:
        rows = repository.lock_for_link(session, body.events)
        problems = []
        for i, event_id in enumerate(body.events):
            row = rows.get(event_id)
            if row is None:
                problems.append(
                    {
                        "loc": ["body", "events", i],
                        "msg": f"no event with id {event_id}",
                        "type": "unknown_event",
                    }
                )
            elif row["status"] != "active":
                problems.append(
                    {
                        "loc": ["body", "events", i],
                        "msg": f"event {event_id} is retracted: a retracted record is linked to "
                        "nothing",
                        "type": "retracted_event",
                    }
                )
        if problems:
            raise _refuse(problems)
        incidents = {rows[e]["incident_id"] for e in body.events}
        if len(incidents) == 1 and None not in incidents:
            (incident_id,) = incidents
            raise _refuse(
                [
                    {
                        "loc": ["body", "events"],
                        "msg": f"the events are linked as incident {incident_id} already",
                        "type": "already_linked",
                    }
                ]
            )
        incident_id, created = writer.link_events(session, body.events, api_key_id=api_key_id)
        return Outcome(201 if created else 200, _detail_json(session, incident_id))

    return idempotency.run(engine, idem, work)


def unlink(
    engine: Engine, incident_id: int, event_id: int, api_key_id: int | None
) -> dict[str, Any]:
    """DELETE /v1/incidents/{id}/events/{event_id}: the event leaves the incident (and the last
    record with it, when only one would remain)."""

    def work(session: Session) -> Outcome:
        if not repository.lock_incident(session, incident_id):
            raise NotFound(f"No incident with id {incident_id}.")
        if repository.event_incident(session, event_id) != incident_id:
            raise NotFound(f"Event {event_id} is not linked as incident {incident_id}.")
        unlinked = writer.unlink_event(session, incident_id, event_id, api_key_id=api_key_id)
        remaining = repository.get_incident(session, incident_id)
        detail = (
            IncidentDetail.model_validate(remaining).model_dump(mode="json")
            if remaining is not None
            else None
        )
        return Outcome(200, {"unlinked": unlinked, "incident": detail})

    body = write_transaction(engine, work).body
    assert isinstance(body, dict)
    return body


def similar(session: Session, event_id: int, q: SimilarQuery) -> dict[str, Any]:
    """The events that likely describe the same incident as this one, best first."""
    found = repository.record(session, event_id)
    if found is None:
        raise NotFound(f"No event with id {event_id}.")
    record, _ = found
    settings = matching.Settings(km=q.km, days=q.days)
    matches = [
        m
        for m in matching.ranked(
            record, repository.candidates(session, record, q.km, q.days), settings
        )
        if m.score >= q.min_score
    ][: q.limit]
    briefs = repository.briefs(session, [m.b for m in matches])
    return {
        "event_id": event_id,
        "incident_id": record.incident_id,
        "km": q.km,
        "days": q.days,
        "data": [
            {
                **briefs[m.b],
                "score": m.score,
                "km": m.km,
                "days": m.days,
                "reasons": list(m.reasons),
            }
            for m in matches
        ],
    }


# -- reconciling two datasets or outlets -----------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a reconciliation: ``dataset:<name>`` or ``outlet:<id or name>``."""

    kind: str
    ident: int
    label: str


class BadSide(ValueError):
    pass


def side(session: Session, spec: str) -> Side:
    kind, sep, ref = spec.partition(":")
    if not sep or kind not in ("dataset", "outlet") or not ref:
        raise BadSide(f"{spec!r}: name a side as dataset:<name> or outlet:<id or name>")
    ident = (
        repository.dataset_id(session, ref)
        if kind == "dataset"
        else repository.outlet_id(session, ref)
    )
    if ident is None:
        raise BadSide(f"{spec!r}: no such {kind}")
    return Side(kind, ident, spec)


def proposals(
    session: Session,
    a: Side,
    b: Side,
    settings: matching.Settings,
    threshold: float,
) -> tuple[list[matching.Match], int, int]:
    """Proposed links between the active events of two sides, one to one, best first; and how
    many events each side has."""
    side_a = repository.side_records(session, a.kind, a.ident)
    side_b = repository.side_records(session, b.kind, b.ident)
    if a == b:
        raise BadSide("the two sides are the same")
    return matching.pair_up(side_a, side_b, settings, threshold), len(side_a), len(side_b)


def apply_links(
    engine: Engine, matches: list[matching.Match], api_key_id: int | None, batch: int = 500
) -> tuple[int, int]:
    """Link each proposed pair (a batch of pairs a transaction), skipping pairs that are
    linked already or no longer linkable (retracted since). (linked, skipped)."""
    linked = skipped = 0
    for start in range(0, len(matches), batch):
        part = matches[start : start + batch]

        def work(session: Session, part: list[matching.Match] = part) -> Outcome:
            done = skip = 0
            for m in part:
                rows = repository.lock_for_link(session, [m.a, m.b])
                incidents = {r["incident_id"] for r in rows.values()}
                statuses = {r["status"] for r in rows.values()}
                if (
                    len(rows) < 2
                    or statuses != {"active"}
                    or (len(incidents) == 1 and None not in incidents)
                ):
                    skip += 1
                    continue
                writer.link_events(session, [m.a, m.b], api_key_id=api_key_id)
                done += 1
            return Outcome(200, {"linked": done, "skipped": skip})

        body = write_transaction(engine, work).body
        assert isinstance(body, dict)
        linked += body["linked"]
        skipped += body["skipped"]
    return linked, skipped
