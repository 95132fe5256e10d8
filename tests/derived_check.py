"""The writer's derived state, checked against the data it derives from: the rollups, search
documents and change feed, and what it keeps on events from their evidence (corroboration,
evidence kind, headline figures by the claims rule, disputed) and each incident's lead.

Run after every test that used a database (the ``database_url`` fixture's teardown), so each
write path the suite exercises — reports, imports, edits, retractions, merges, place moves —
is also a test that the rollups, search documents and change feed stayed exact.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, inspect, select, text

from app.db.session import create_db_engine, read_session
from app.derived import rollups, search
from app.models import (
    DataVersion,
    Event,
    EventChange,
    EventRollup,
    EventRollupMember,
    Incident,
)
from app.writer import evidence, incidents


def assert_derived_consistent(url: str) -> None:
    engine = create_db_engine(url)
    try:
        with read_session(engine) as session:
            if session.execute(select(func.count()).select_from(DataVersion)).scalar() != 1:
                return  # migrated below 0005 (migration tests)
            ids = list(session.scalars(select(Event.id).order_by(Event.id)))
            _check_rollups(session, ids)
            _check_search(session, ids)
            _check_feed(session, ids)
            if inspect(session.get_bind()).has_table("claim"):  # from 0007 on
                _check_evidence(session, ids)
    finally:
        engine.dispose()


def _check_rollups(session: Any, ids: list[int]) -> None:
    expected_members = rollups.contributions(session, ids)
    members = {
        row["event_id"]: dict(row)
        for row in session.execute(select(*EventRollupMember.__table__.c)).mappings()
    }
    assert members == expected_members, "event_rollup_member differs from the events"
    expected: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in expected_members.values():
        sums = expected[
            (m["month"], m["country"], m["admin1_id"], m["event_type"], m["sub_event_type"])
        ]
        sums[0] += 1
        sums[1] += m["fatalities_best"]
        sums[2] += m["fatalities_low"]
        sums[3] += m["fatalities_high"]
    actual = {
        tuple(row[:5]): list(row[5:])
        for row in session.execute(
            select(
                EventRollup.month,
                EventRollup.country,
                EventRollup.admin1_id,
                EventRollup.event_type,
                EventRollup.sub_event_type,
                EventRollup.events,
                EventRollup.fatalities_best,
                EventRollup.fatalities_low,
                EventRollup.fatalities_high,
            )
        )
    }
    assert actual == dict(expected), "event_rollup differs from the events"


def _check_search(session: Any, ids: list[int]) -> None:
    docs = search.documents(session, ids)
    if session.get_bind().dialect.name == "sqlite":
        stored = dict(session.execute(text("SELECT rowid, body FROM event_search")).all())
        assert stored == docs, "event_search differs from the events' text"
        return
    rows = session.execute(text("SELECT event_id, document::text FROM event_search")).all()
    assert {r[0] for r in rows} == set(docs), "event_search has other events"
    for event_id, document in rows:
        wanted = session.execute(
            text("SELECT to_tsvector('simple', :doc)::text"), {"doc": docs[event_id]}
        ).scalar()
        assert document == wanted, f"event_search document of event {event_id} is stale"


def _check_feed(session: Any, ids: list[int]) -> None:
    version = session.execute(select(DataVersion.version)).scalar_one()
    changes = session.execute(
        select(EventChange.version, EventChange.event_id, EventChange.action).order_by(
            EventChange.version, EventChange.event_id
        )
    ).all()
    assert all(c.version <= version for c in changes), "a change is ahead of the data version"
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for change in changes:
        first.setdefault(change.event_id, change.action)
        last[change.event_id] = change.action
    assert set(first) == set(ids), "an event has no change-feed entry"
    assert all(action == "created" for action in first.values()), "first change is not 'created'"
    creations = [c.event_id for c in changes if c.action == "created"]
    assert len(creations) == len(set(creations)), "an event was created twice in the feed"
    statuses = dict(session.execute(select(Event.id, Event.status)).all())
    for event_id, action in last.items():
        if action == "retracted":
            assert statuses[event_id] == "retracted", f"event {event_id}"


def _check_evidence(session: Any, ids: list[int]) -> None:
    wanted = evidence.expected(session, ids)
    kept = {
        row["id"]: {c: row[c] for c in evidence.KEPT}
        for row in session.execute(
            select(Event.id, *(getattr(Event, c) for c in evidence.KEPT))
        ).mappings()
    }
    for event_id in ids:
        differs = {
            c: (kept[event_id][c], wanted[event_id][c])
            for c in evidence.KEPT
            if kept[event_id][c] != wanted[event_id][c]
        }
        assert not differs, f"event {event_id}: kept != derived {differs}"
    stored = dict(session.execute(select(Incident.id, Incident.lead_event_id)).all())
    members: dict[int, int] = defaultdict(int)
    for (incident_id,) in session.execute(
        select(Event.incident_id).where(Event.incident_id.is_not(None))
    ):
        members[incident_id] += 1
    assert set(members) == set(stored), "an incident without records, or a dangling link"
    assert all(n >= 2 for n in members.values()), "an incident of one record"
    assert incidents.leads(session, stored) == stored, "an incident's lead is not its earliest"
