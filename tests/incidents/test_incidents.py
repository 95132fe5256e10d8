"""Incidents: linking records of one happening, unlinking, bad links, racing curators, and the
candidates GET /v1/events/{id}/similar proposes (issue 13)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app.core.errors import ProblemError
from app.db.session import read_session
from app.incidents import service
from app.incidents.schemas import IncidentLink
from app.models import Event, Incident
from tests.conftest import make_key
from tests.helpers import assert_problem, error_locs, row_counts
from tests.writer.helpers import etag_of, revisions

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
SARAQIB = {
    "name": "Saraqib",
    "kind": "populated_place",
    "latitude": 35.864,
    "longitude": 36.806,
    "parent": {"name": "Idlib", "kind": "admin1", "parent": SYRIA},
}


def post_events(
    client: TestClient,
    n: int,
    outlet: str = "Wire A",
    *,
    day: str = "2020-02-01",
    published: str = "2020-02-02",
    place: dict[str, Any] | None = None,
    event_type: str = "Explosions/Remote violence",
    actor: str = "Syrian Air Force",
) -> list[int]:
    """n events, each in its own article of ``outlet``."""
    ids = []
    for _ in range(n):
        post_events.count += 1  # type: ignore[attr-defined]
        k = post_events.count  # type: ignore[attr-defined]
        response = client.post(
            "/v1/reports",
            json={
                "article": {
                    "url": f"https://wire.example/{outlet.replace(' ', '-')}/{k}",
                    "title": f"Airstrike on Saraqib market {k}",
                    "published_date": published,
                    "outlet": {"name": outlet},
                },
                "quotes": [{"key": "t", "text": "Airstrike on Saraqib market", "in_title": True}],
                "events": [
                    {
                        "key": "e",
                        "quotes": ["t"],
                        "event_type": event_type,
                        "date_start": day,
                        "place": place or SARAQIB,
                        "actors": [
                            {
                                "actor": {"name": actor, "kind": "state_forces", "country": "SY"},
                                "side": "a",
                            }
                        ],
                    }
                ],
            },
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["events"]["e"])
    return ids


post_events.count = 0  # type: ignore[attr-defined]


def link(client: TestClient, events: list[int]) -> Any:
    return client.post("/v1/incidents", json={"events": events})


def incident_of(client: TestClient, event_id: int) -> int | None:
    incident = client.get(f"/v1/events/{event_id}").json()["incident"]
    return None if incident is None else int(incident["id"])


def test_linking_makes_one_incident_and_each_record_keeps_its_own(
    client: TestClient, engine: Engine
) -> None:
    a, b, c = post_events(client, 3)
    response = link(client, [b, a])
    assert response.status_code == 201, response.text
    incident = response.json()
    assert response.headers["location"] == f"/v1/incidents/{incident['id']}"
    assert sorted(incident["event_ids"]) == [a, b]
    assert incident["lead_event_id"] == a  # same first report: the lower id
    assert client.get(f"/v1/incidents/{incident['id']}").json()["event_ids"] == [a, b]
    for event_id in (a, b):
        event = client.get(f"/v1/events/{event_id}").json()
        assert event["incident"]["id"] == incident["id"]
        assert event["id"] == event_id and event["source_count"] == 1
        assert revisions(engine, event_id)[-1]["action"] == "link"
    listed = client.get("/v1/events", params={"incident": incident["id"], "sort": "id"})
    assert [e["id"] for e in listed.json()["data"]] == [a, b]

    # Joining: c joins the incident (200); the list of incidents has it once.
    joined = link(client, [c, a])
    assert joined.status_code == 200, joined.text
    assert sorted(joined.json()["event_ids"]) == [a, b, c]
    incidents = client.get("/v1/incidents").json()["data"]
    assert [i["id"] for i in incidents] == [incident["id"]]
    counted = client.get("/v1/events", params={"count": "incidents"}).json()["data"]
    assert [e["id"] for e in counted] == [a]


def test_two_incidents_linked_become_the_older(client: TestClient) -> None:
    a, b, c, d = post_events(client, 4)
    first = link(client, [a, b]).json()["id"]
    second = link(client, [c, d]).json()["id"]
    merged = link(client, [d, b])
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == first
    assert [incident_of(client, e) for e in (a, b, c, d)] == [first] * 4
    assert_problem(client.get(f"/v1/incidents/{second}"), 404)


def test_the_lead_is_the_earliest_reported_active_record(client: TestClient) -> None:
    (late,) = post_events(client, 1, published="2020-02-05")
    (early,) = post_events(client, 1, "Wire B", published="2020-02-03")
    incident = link(client, [late, early]).json()
    assert incident["lead_event_id"] == early
    path = f"/v1/events/{early}"
    retracted = client.delete(
        path, params={"reason": "duplicate"}, headers={"If-Match": etag_of(client, path)}
    )
    assert retracted.status_code == 200, retracted.text
    assert client.get(f"/v1/incidents/{incident['id']}").json()["lead_event_id"] == late


def test_unlinking(client: TestClient, engine: Engine) -> None:
    a, b, c = post_events(client, 3)
    incident = link(client, [a, b, c]).json()["id"]
    response = client.delete(f"/v1/incidents/{incident}/events/{b}")
    assert response.status_code == 200, response.text
    assert [incident_of(client, e) for e in (a, b, c)] == [incident, None, incident]
    assert revisions(engine, b)[-1]["action"] == "unlink"
    # A second unlink would leave one record: the incident is dissolved.
    assert client.delete(f"/v1/incidents/{incident}/events/{a}").status_code == 200
    assert [incident_of(client, e) for e in (a, b, c)] == [None, None, None]
    assert_problem(client.get(f"/v1/incidents/{incident}"), 404)
    assert_problem(client.delete(f"/v1/incidents/{incident}/events/{a}"), 404)


def test_bad_links_are_422_naming_the_part_and_write_nothing(
    client: TestClient, engine: Engine
) -> None:
    a, b, c = post_events(client, 3)
    path = f"/v1/events/{c}"
    client.delete(path, params={"reason": "wrong"}, headers={"If-Match": etag_of(client, path)})
    assert link(client, [a, b]).status_code == 201
    before = row_counts(engine)
    cases: list[tuple[Any, list[Any]]] = [
        ([a, a], ["body", "events", 1]),  # linked to itself
        ([a, c], ["body", "events", 1]),  # retracted
        ([a, 999_999], ["body", "events", 1]),  # no such event
        ([b, a], ["body", "events"]),  # linked as one already
        ([a], ["body", "events"]),  # one event is no link
        ([a, -3], ["body", "events", 1]),
    ]
    for events, loc in cases:
        body = assert_problem(link(client, events), 422)
        assert loc in error_locs(body), (events, error_locs(body))
    assert row_counts(engine) == before


def test_linking_needs_the_curate_scope(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    a, b = post_events(client, 2)
    assert_problem(anon_client.post("/v1/incidents", json={"events": [a, b]}), 401)
    ingest = make_key(database_url, ["ingest"], name="ingester")
    response = anon_client.post(
        "/v1/incidents", json={"events": [a, b]}, headers={"Authorization": f"Bearer {ingest}"}
    )
    assert_problem(response, 403)


ROUNDS = 6


def _race(engine: Engine, groups: list[list[int]]) -> list[int | str]:
    barrier = Barrier(len(groups))

    def run(events: list[int]) -> int | str:
        barrier.wait()
        try:
            return service.link(engine, IncidentLink(events=events), None).status
        except ProblemError as problem:
            return f"{problem.status}"

    with ThreadPoolExecutor(len(groups)) as pool:
        return list(pool.map(run, groups))


def _incidents(engine: Engine) -> dict[int, list[int]]:
    with read_session(engine) as session:
        out: dict[int, list[int]] = {}
        for event_id, incident_id in session.execute(
            select(Event.id, Event.incident_id)
            .where(Event.incident_id.is_not(None))
            .order_by(Event.id)
        ):
            assert incident_id is not None
            out.setdefault(incident_id, []).append(event_id)
        assert session.scalar(select(func.count()).select_from(Incident)) == len(out)
        return out


def test_two_curators_linking_the_same_events_leave_one_incident(
    client: TestClient, engine: Engine
) -> None:
    for _ in range(ROUNDS):
        a, b = post_events(client, 2)
        outcomes = _race(engine, [[a, b], [b, a]])
        assert sorted(map(str, outcomes)) == ["201", "422"], outcomes
    incidents = _incidents(engine)
    assert len(incidents) == ROUNDS
    assert all(len(members) == 2 for members in incidents.values())


def test_overlapping_links_racing_make_one_incident(client: TestClient, engine: Engine) -> None:
    for _ in range(ROUNDS):
        a, b, c = post_events(client, 3)
        outcomes = _race(engine, [[a, b], [c, b]])
        assert sorted(map(str, outcomes)) == ["200", "201"], outcomes
    incidents = _incidents(engine)
    assert len(incidents) == ROUNDS
    assert all(len(members) == 3 for members in incidents.values())


def test_similar_finds_the_other_outlets_record_with_reasons(client: TestClient) -> None:
    (ours,) = post_events(client, 1, "Wire A")
    (theirs,) = post_events(client, 1, "Wire B", day="2020-02-02")
    # Same type, place and actor, but a month later: not the same incident by default.
    (later,) = post_events(client, 1, "Wire C", day="2020-03-01")
    # Same day and place, but a protest: an incompatible type.
    (protest,) = post_events(client, 1, "Wire D", event_type="Protests", actor="Students")
    response = client.get(f"/v1/events/{ours}/similar")
    assert response.status_code == 200, response.text
    candidates = response.json()["data"]
    assert [c["id"] for c in candidates] == [theirs]
    (best,) = candidates
    assert 0 < best["score"] <= 1 and best["days"] == 1 and best["km"] == 0
    assert best["reasons"]
    assert later not in {c["id"] for c in candidates} and protest not in {
        c["id"] for c in candidates
    }
    wider = client.get(f"/v1/events/{ours}/similar", params={"days": 60}).json()["data"]
    assert {c["id"] for c in wider} == {theirs, later}
    assert_problem(client.get(f"/v1/events/{ours}/similar", params={"km": -1}), 422)
    assert_problem(client.get("/v1/events/999999/similar"), 404)


@pytest.mark.parametrize("count", ["events", "incidents"])
def test_stats_count_an_incident_once(client: TestClient, count: str) -> None:
    a, b, c = post_events(client, 3)
    assert link(client, [a, b, c]).status_code == 201
    stats = client.get("/v1/stats/events", params={"count": count, "metrics": "count"})
    assert stats.status_code == 200, stats.text
    assert stats.json()["data"][0]["count"] == (3 if count == "events" else 1)
