"""The writer's derived state, checked against the data it derives from: the rollups, search
documents and change feed, and what it keeps on events from their evidence (corroboration,
evidence kind, headline figures by the claims rule, disputed) and each incident's lead.

Run after every test that used a database (the ``database_url`` fixture's teardown), so each
write path the suite exercises — reports, imports, edits, retractions, merges, place moves —
is also a test that the rollups, search documents and change feed stayed exact. A database
copied from a seeded template that was checked once (tests/conftest.py, ``seed``) is checked
again only if something was written to it: its ``fingerprint`` changed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from app.db.session import create_db_engine, read_session
from app.derived import interaction, points, rollups, search
from app.models import (
    DataVersion,
    Event,
    EventChange,
    EventRollup,
    EventRollupMember,
    Incident,
    Place,
)
from app.writer import evidence, incidents


def assert_derived_consistent(
    database: str | Engine, *, checked: tuple[int, ...] | None = None
) -> None:
    """Check the database at this URL, or through this engine (left open for its owner).

    ``checked``: the ``fingerprint`` of a database already found consistent that this one is
    a copy of; when this one's is the same, nothing was written since, and the check is done.
    """
    engine = create_db_engine(database) if isinstance(database, str) else database
    try:
        revision = _revision(engine)
        with read_session(engine) as session:
            if revision is None or revision < "0005":
                return  # migrated below 0005 (migration tests): no derived state yet
            found = _fingerprint(session, revision)
            if not any(found[1:]):
                return  # nothing written (most tests of validation and access): nothing stale
            if found == checked:
                return
            ids = list(session.scalars(select(Event.id).order_by(Event.id)))
            _check_rollups(session, ids)
            _check_search(session, ids)
            _check_feed(session, ids)
            if revision >= "0008":
                _check_interactions(session, ids)
                _check_centroids(session)
            if revision >= "0009":
                _check_evidence(session, ids)
    finally:
        if engine is not database:
            engine.dispose()


def _revision(engine: Engine) -> str | None:
    """The database's Alembic revision (ids are zero-padded numbers, so they sort), in one
    query: the check runs after every test, and reflecting the schema cost more than the
    check itself on PostgreSQL."""
    with read_session(engine) as session:
        try:
            return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None  # no schema at all


# The tables a write fills, by the revision that made them: when all are empty nothing was
# written, so nothing can be stale.
_WRITTEN = {
    "0005": (
        "event",
        "place",
        "actor",
        "article",
        "event_rollup",
        "event_rollup_member",
        "event_change",
        "event_search",
    ),
    "0009": ("claim", "incident"),
}


def fingerprint(engine: Engine) -> tuple[int, ...]:
    """What a write changes, in one query: the data version, which every commit of a write
    session advances (``app.derived.hooks``), and the number of rows of every table a write
    fills (a row written or deleted outside a write session)."""
    revision = _revision(engine)
    assert revision is not None and revision >= "0005", "a database with derived state"
    with read_session(engine) as session:
        return _fingerprint(session, revision)


def _fingerprint(session: Any, revision: str) -> tuple[int, ...]:
    tables = [t for since, names in _WRITTEN.items() if revision >= since for t in names]
    counts = ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    row = session.execute(
        text(f"SELECT (SELECT version FROM data_version WHERE id = 1), {counts}")
    ).one()
    return tuple(int(v) for v in row)


def _check_interactions(session: Any, ids: list[int]) -> None:
    stored = dict(session.execute(select(Event.id, Event.interaction)).all())
    assert stored == interaction.compute(session, ids), "event.interaction differs from the actors"


def _check_centroids(session: Any) -> None:
    ids = list(session.scalars(select(Place.id)))
    wanted = points.centroids(session, ids)
    # The stored sums a new point adds to are the sums of the points inside.
    sums = points.sums(session, ids)
    for place_id, *stored_sum in session.execute(
        select(Place.id, Place.centroid_x, Place.centroid_y, Place.centroid_z)
    ):
        total = sums[place_id]
        if total is None or wanted[place_id] is None:
            assert stored_sum == [None, None, None], f"place {place_id} has a sum of nothing"
        else:
            assert all(
                v is not None and abs(v - t) < 1e-9 for v, t in zip(stored_sum, total, strict=True)
            ), f"place {place_id}: its sum"
    for place_id, lat, lon in session.execute(
        select(Place.id, Place.centroid_latitude, Place.centroid_longitude)
    ):
        point = wanted[place_id]
        if point is None:
            assert (lat, lon) == (None, None), f"place {place_id} has a centroid of nothing"
        else:
            assert lat is not None and lon is not None, f"place {place_id} lacks its centroid"
            assert abs(lat - point[0]) < 1e-9 and abs(lon - point[1]) < 1e-9, f"place {place_id}"


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
    # Each event's text through to_tsvector, all in one statement (one per event made the
    # check cost more than many tests).
    wanted = dict(
        session.execute(
            text(
                "SELECT d.id, to_tsvector('simple', d.doc)::text "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:docs AS text[])) AS d(id, doc)"
            ),
            {"ids": list(docs), "docs": list(docs.values())},
        ).all()
    )
    for event_id, document in rows:
        assert document == wanted[event_id], f"event_search document of event {event_id} is stale"


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
