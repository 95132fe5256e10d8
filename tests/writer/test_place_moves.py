"""Moving a place moves its subtree: closure rows and depths rewritten, cycles refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.models import Place, PlaceAncestor
from tests.helpers import assert_problem, row_counts
from tests.writer.helpers import audit_rows, etag_of


def event_ids(client: TestClient, **params: Any) -> set[int]:
    response = client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return {e["id"] for e in response.json()["data"]}


def assert_closure_matches_parents(engine: Engine) -> None:
    """place_ancestor and place.depth are exactly what the parent links imply."""
    with read_session(engine) as session:
        parent = {r[0]: r[1] for r in session.execute(select(Place.id, Place.parent_id))}
        depth = {r[0]: r[1] for r in session.execute(select(Place.id, Place.depth))}
        closure = {
            tuple(r)
            for r in session.execute(
                select(PlaceAncestor.ancestor_id, PlaceAncestor.place_id, PlaceAncestor.depth)
            )
        }
    expected = set()
    for place_id in parent:
        node: int | None = place_id
        steps = 0
        while node is not None:
            expected.add((node, place_id, steps))
            node, steps = parent[node], steps + 1
        assert depth[place_id] == steps - 1, place_id
    assert closure == expected


def move(client: TestClient, place_id: int, parent_id: int | None) -> Any:
    url = f"/v1/places/{place_id}"
    return client.patch(
        url, json={"parent_id": parent_id}, headers={"If-Match": etag_of(client, url)}
    )


def test_moving_a_place_moves_its_subtree(
    client: TestClient, demo: dict[str, Any], engine: Engine, places: dict[str, int]
) -> None:
    east, sharqi, ruheibah = places["East Qalamoun"], places["Jabal Sharqi"], places["al-Ruheibah"]
    damascus, syria = places["Damascus"], places["Syria"]
    ev = demo["events"]
    moving = {
        ev["air-raids-jabal-sharqi"],
        ev["ground-battles-ruheibah"],
        ev["rebels-seize-military-points"],
    }
    assert event_ids(client, place=east) == moving | {ev["negotiations-east-qalamoun"]}
    ruheibah_etag = etag_of(client, f"/v1/places/{ruheibah}")

    response = move(client, sharqi, damascus)
    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == damascus
    assert_closure_matches_parents(engine)
    assert event_ids(client, place=east) == {ev["negotiations-east-qalamoun"]}
    assert event_ids(client, place=damascus) == moving
    assert event_ids(client, place=syria) == set(ev.values())
    inside = {p["id"] for p in client.get("/v1/places", params={"within": damascus}).json()["data"]}
    assert inside == {sharqi, ruheibah}
    ruheibah_detail = client.get(f"/v1/places/{ruheibah}")
    assert [a["name"] for a in ruheibah_detail.json()["ancestors"]] == [
        "Syria",
        "Damascus",
        "Jabal Sharqi",
    ]
    assert ruheibah_detail.headers["etag"] != ruheibah_etag  # its ancestry changed
    # Events show the new ancestry too.
    event = client.get(f"/v1/events/{ev['ground-battles-ruheibah']}").json()
    assert [a["name"] for a in event["place"]["ancestors"]] == ["Syria", "Damascus", "Jabal Sharqi"]
    (audit,) = audit_rows(engine, "place.update")
    assert audit["detail"]["changes"]["parent_id"] == [east, damascus]

    # To the top level: no ancestors at all.
    assert move(client, sharqi, None).status_code == 200
    assert_closure_matches_parents(engine)
    assert client.get(f"/v1/places/{sharqi}").json()["ancestors"] == []
    assert event_ids(client, place=syria) == {ev["negotiations-east-qalamoun"]}
    assert event_ids(client, place=sharqi) == moving
    # And back.
    assert move(client, sharqi, east).status_code == 200
    assert_closure_matches_parents(engine)
    assert event_ids(client, place=east) == set(ev.values())


def test_cycles_and_taken_slots_are_refused(
    client: TestClient, demo: dict[str, Any], engine: Engine, places: dict[str, int]
) -> None:
    east, sharqi, ruheibah = places["East Qalamoun"], places["Jabal Sharqi"], places["al-Ruheibah"]
    created = client.post(
        "/v1/places",
        json={
            "name": "al-Jabal al-Sharqi",
            "kind": "natural_feature",
            "parent_id": places["Damascus"],
        },
    )
    assert created.status_code == 201, created.text
    counts = row_counts(engine)
    for target in (ruheibah, sharqi, east):
        problem = assert_problem(move(client, east, target), 422)
        assert problem["errors"][0]["type"] == "cycle"
    problem = assert_problem(
        move(client, sharqi, places["Damascus"]), 409, type_suffix="name-taken"
    )
    assert problem["place_id"] == created.json()["id"]
    assert_problem(move(client, sharqi, 424242), 422)
    assert row_counts(engine) == counts
    assert_closure_matches_parents(engine)
