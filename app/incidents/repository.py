"""All SQL of incidents: the locks and checks of linking, incidents and their records, the
records matching reads (``app.incidents.matching``), and the candidates near an event."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.core.pagination import PageQuery, fetch_page
from app.db.bulk import chunks
from app.incidents.matching import EARTH_RADIUS_KM, Record, compatible_types
from app.models import (
    Actor,
    Article,
    Dataset,
    Event,
    EventActor,
    EventProvenance,
    EventSource,
    Incident,
    Outlet,
    Place,
)

# -- linking ----------------------------------------------------------------------------------


def lock_for_link(session: Session, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Lock the events (PostgreSQL's FOR UPDATE, in id order; a SQLite writer holds the
    database already), then the other records of the incidents they are in, and read them:
    {id: {status, incident_id}} for those that exist.

    Two curators linking the same events then run one after the other: the second reads the
    incident the first made (READ COMMITTED re-reads a locked row once its lock is granted).
    """
    ids = sorted(set(event_ids))
    session.execute(select(Event.id).where(Event.id.in_(ids)).order_by(Event.id).with_for_update())
    rows = {
        r["id"]: dict(r)
        for r in session.execute(
            select(Event.id, Event.status, Event.incident_id).where(Event.id.in_(ids))
        ).mappings()
    }
    incidents = sorted({r["incident_id"] for r in rows.values() if r["incident_id"] is not None})
    if incidents:
        session.execute(
            select(Event.id)
            .where(Event.incident_id.in_(incidents))
            .order_by(Event.id)
            .with_for_update()
        ).all()
        session.execute(
            select(Incident.id)
            .where(Incident.id.in_(incidents))
            .order_by(Incident.id)
            .with_for_update()
        ).all()
    return rows


def event_incident(session: Session, event_id: int) -> int | None:
    return session.execute(select(Event.incident_id).where(Event.id == event_id)).scalar()


def lock_incident(session: Session, incident_id: int) -> bool:
    """Lock an incident and its records (PostgreSQL); whether it exists."""
    found = session.execute(
        select(Incident.id).where(Incident.id == incident_id).with_for_update()
    ).first()
    if found is None:
        return False
    session.execute(
        select(Event.id)
        .where(Event.incident_id == incident_id)
        .order_by(Event.id)
        .with_for_update()
    ).all()
    return True


# -- reading incidents ----------------------------------------------------------------------------

_BRIEF = (
    Event.id,
    Event.event_type,
    Event.sub_event_type,
    Event.date_start,
    Event.date_end,
    Event.place_id,
    Place.name.label("place_name"),
    Place.latitude,
    Place.longitude,
    Event.fatalities_best,
    Event.evidence,
    Event.source_count,
    Event.outlet_count,
    Event.first_reported_date,
    Event.status,
)


def _briefs(session: Session, stmt: Select[*tuple[Any, ...]]) -> list[dict[str, Any]]:
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    origins = origins_of(session, [r["id"] for r in rows])
    for r in rows:
        r["origin"] = origins.get(r["id"], [])
    return rows


def origins_of(session: Session, event_ids: Sequence[int]) -> dict[int, list[str]]:
    """Where each event comes from: its dataset (``dataset:ucdp-ged``) and the outlets of its
    articles (``outlet:Syria Direct``)."""
    out: dict[int, list[str]] = defaultdict(list)
    for chunk in chunks(event_ids):
        for event_id, name in session.execute(
            select(EventProvenance.event_id, Dataset.name)
            .join(Dataset, Dataset.id == EventProvenance.dataset_id)
            .where(EventProvenance.event_id.in_(chunk))
        ):
            out[event_id].append(f"dataset:{name}")
        for event_id, name in session.execute(
            select(EventSource.event_id, Outlet.name)
            .join(Article, Article.id == EventSource.article_id)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .where(EventSource.event_id.in_(chunk))
            .distinct()
            .order_by(EventSource.event_id, Outlet.name)
        ):
            out[event_id].append(f"outlet:{name}")
    return out


def get_incident(session: Session, incident_id: int) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(
                Incident.id,
                Incident.lead_event_id,
                Incident.version,
                Incident.created_at,
                Incident.updated_at,
            ).where(Incident.id == incident_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    incident = dict(row)
    incident["events"] = _briefs(
        session,
        select(*_BRIEF)
        .outerjoin(Place, Place.id == Event.place_id)
        .where(Event.incident_id == incident_id)
        .order_by(Event.id),
    )
    incident["event_ids"] = [e["id"] for e in incident["events"]]
    return incident


def list_incidents(session: Session, query: PageQuery) -> tuple[list[dict[str, Any]], str | None]:
    """Incidents in id order, each with its lead and the ids of its records."""
    members = (
        select(Event.incident_id, func.count().label("records"))
        .where(Event.incident_id.is_not(None))
        .group_by(Event.incident_id)
        .subquery()
    )
    stmt = select(
        Incident.id,
        Incident.lead_event_id,
        Incident.version,
        Incident.created_at,
        Incident.updated_at,
        members.c.records,
    ).join(members, members.c.incident_id == Incident.id)
    rows, cursor = fetch_page(session, stmt, query, columns=(Incident.id,))
    ids: dict[int, list[int]] = defaultdict(list)
    for event_id, incident_id in session.execute(
        select(Event.id, Event.incident_id)
        .where(Event.incident_id.in_([r["id"] for r in rows]))
        .order_by(Event.id)
    ):
        assert incident_id is not None
        ids[incident_id].append(event_id)
    for r in rows:
        r["event_ids"] = ids.get(r["id"], [])
    return rows, cursor


def count_incidents(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Incident)).scalar_one())


# -- records for matching -------------------------------------------------------------------------

_RECORD_COLUMNS = (
    Event.id,
    Event.event_type,
    Event.sub_event_type,
    Event.date_start,
    Event.date_end,
    Place.latitude,
    Place.longitude,
    Event.place_id,
    Place.name.label("place_name"),
    Event.fatalities_best,
    Event.incident_id,
)


def _actor_names(session: Session, events: Any) -> dict[int, list[str]]:
    """Each event's actors' names, civilians left out (``events``: a subquery of ids, or ids)."""
    out: dict[int, list[str]] = defaultdict(list)
    for event_id, name in session.execute(
        select(EventActor.event_id, Actor.name)
        .join(Actor, Actor.id == EventActor.actor_id)
        .where(EventActor.event_id.in_(events), Actor.kind != "civilians")
        .order_by(EventActor.event_id, Actor.id)
    ):
        out[event_id].append(name)
    return out


def _records(rows: Iterable[Any], actors: dict[int, list[str]]) -> list[Record]:
    return [
        Record(
            id=r.id,
            event_type=r.event_type,
            sub_event_type=r.sub_event_type,
            date_start=r.date_start,
            date_end=r.date_end,
            latitude=r.latitude,
            longitude=r.longitude,
            place_id=r.place_id,
            place_name=r.place_name,
            actors=tuple(actors.get(r.id, ())),
            fatalities=r.fatalities_best,
            incident_id=r.incident_id,
        )
        for r in rows
    ]


def record(session: Session, event_id: int) -> tuple[Record, str] | None:
    """An event as matching reads it, and its status."""
    row = session.execute(
        select(*_RECORD_COLUMNS, Event.status)
        .outerjoin(Place, Place.id == Event.place_id)
        .where(Event.id == event_id)
    ).first()
    if row is None:
        return None
    return _records([row], _actor_names(session, [event_id]))[0], row.status


def candidates(session: Session, of: Record, km: float, days: int) -> list[Record]:
    """Active events within ``km`` (a bounding box; the exact distance is matching's) and
    ``days`` of ``of``, of a type compatible with it; ``of`` itself left out."""
    first = of.date_start - timedelta(days=days)
    last = of.date_end + timedelta(days=days)
    stmt = (
        select(*_RECORD_COLUMNS)
        .outerjoin(Place, Place.id == Event.place_id)
        .where(
            Event.id != of.id,
            Event.status == "active",
            Event.event_type.in_(compatible_types(of.event_type)),
            Event.date_start <= last,
            Event.date_end >= first,
        )
    )
    if of.latitude is not None and of.longitude is not None:
        dlat = math.degrees(km / EARTH_RADIUS_KM) + 1e-6
        cos = math.cos(math.radians(min(abs(of.latitude) + dlat, 89.9)))
        dlon = min(dlat / max(cos, 1e-6), 180.0)
        stmt = stmt.where(Place.latitude.between(of.latitude - dlat, of.latitude + dlat))
        if dlon < 180:
            west, east = of.longitude - dlon, of.longitude + dlon
            stmt = stmt.where(Place.longitude.between(max(west, -180), min(east, 180)))
    elif of.place_id is not None:
        stmt = stmt.where(Event.place_id == of.place_id)
    else:
        return []
    rows = session.execute(stmt.order_by(Event.id).limit(5000)).all()
    return _records(rows, _actor_names(session, [r.id for r in rows]))


def side_statement(kind: str, ident: int) -> Select[Any]:
    """The ids of the active events of one side of a reconciliation: a dataset's (its
    imported rows) or an outlet's (reported by one of its articles)."""
    if kind == "dataset":
        return select(EventProvenance.event_id).where(EventProvenance.dataset_id == ident)
    return (
        select(EventSource.event_id)
        .join(Article, Article.id == EventSource.article_id)
        .where(Article.outlet_id == ident)
    )


def side_records(session: Session, kind: str, ident: int) -> list[Record]:
    """Every active event of a side, as matching reads it (two statements, however many)."""
    ids = side_statement(kind, ident).scalar_subquery()
    rows = session.execute(
        select(*_RECORD_COLUMNS)
        .outerjoin(Place, Place.id == Event.place_id)
        .where(Event.id.in_(ids), Event.status == "active")
        .order_by(Event.id)
    ).all()
    return _records(rows, _actor_names(session, ids))


def dataset_id(session: Session, name: str) -> int | None:
    return session.execute(select(Dataset.id).where(Dataset.name == name)).scalar()


def outlet_id(session: Session, ref: str) -> int | None:
    """An outlet by id (digits) or by name, as given."""
    if ref.isdigit():
        return session.execute(select(Outlet.id).where(Outlet.id == int(ref))).scalar()
    return session.execute(select(Outlet.id).where(Outlet.name == ref)).scalar()


def briefs(session: Session, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Candidate events in the shape ``/similar`` lists them."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks(event_ids):
        for row in _briefs(
            session,
            select(*_BRIEF, Event.incident_id)
            .outerjoin(Place, Place.id == Event.place_id)
            .where(Event.id.in_(chunk)),
        ):
            out[row["id"]] = row
    return out
