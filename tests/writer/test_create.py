"""POST for actors, places and outlets; actor aliases and affiliations."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.helpers import assert_problem, error_locs, row_counts
from tests.writer.helpers import audit_rows, etag_of


def test_create_actor(
    client: TestClient, demo: dict[str, Any], engine: Engine, key_id: int
) -> None:
    response = client.post(
        "/v1/actors",
        json={
            "name": "Liwa Shuhada al-Qalamoun",
            "kind": "rebel_group",
            "country": "SY",
            "aliases": ["Martyrs of Qalamoun Brigade"],
        },
    )
    assert response.status_code == 201, response.text
    actor = response.json()
    assert response.headers["location"] == f"/v1/actors/{actor['id']}"
    assert response.headers["etag"] == f'"actor-{actor["id"]}-v1"'
    assert actor["aliases"] == ["Martyrs of Qalamoun Brigade"] and actor["event_count"] == 0
    got = client.get(response.headers["location"])
    assert got.json() == actor and got.headers["etag"] == response.headers["etag"]
    # Ingestion finds it by any of its names.
    found = client.get("/v1/actors", params={"name": "martyrs of qalamoun brigade"}).json()
    assert [a["id"] for a in found["data"]] == [actor["id"]]
    (audit,) = audit_rows(engine, "actor.create")
    assert (audit["entity_id"], audit["api_key_id"]) == (actor["id"], key_id)


@pytest.mark.parametrize(
    "body, status, loc",
    [
        # A name a report would match to an existing actor of the same kind and country.
        ({"name": "Jaish Tahrir al-Sham", "kind": "rebel_group", "country": "SY"}, 409, None),
        (
            {"name": "New Group", "kind": "rebel_group", "country": "SY", "aliases": ["FSA"]},
            409,
            None,
        ),
        ({"name": "New Group", "kind": "militia"}, 422, ["body", "kind"]),
        ({"name": "---", "kind": "rebel_group"}, 422, ["body", "name"]),
        ({"name": "New Group"}, 422, ["body", "kind"]),
        (
            {"name": "New Group", "kind": "rebel_group", "country": "Syria"},
            422,
            ["body", "country"],
        ),
        ({"name": "New Group", "kind": "rebel_group", "id": 99}, 422, ["body", "id"]),
        ({"name": "New\x00Group", "kind": "rebel_group"}, 422, ["body", "name"]),
        ({"name": 7, "kind": "rebel_group"}, 422, ["body", "name"]),
    ],
)
def test_create_actor_refusals(
    client: TestClient,
    demo: dict[str, Any],
    engine: Engine,
    body: dict[str, Any],
    status: int,
    loc: list[Any] | None,
) -> None:
    counts = row_counts(engine)
    problem = assert_problem(client.post("/v1/actors", json=body), status)
    if status == 409:
        assert problem["type"].endswith("/name-taken") and problem["actor_ids"]
    else:
        assert loc in error_locs(problem), problem
    assert row_counts(engine) == counts


def test_same_name_is_free_for_another_kind(client: TestClient, demo: dict[str, Any]) -> None:
    response = client.post(
        "/v1/actors", json={"name": "Jaish Tahrir al-Sham", "kind": "person", "country": "SY"}
    )
    assert response.status_code == 201, response.text


def test_create_place(client: TestClient, demo: dict[str, Any], places: dict[str, int]) -> None:
    response = client.post(
        "/v1/places",
        json={
            "name": "Qaryatayn",
            "kind": "populated_place",
            "parent_id": places["East Qalamoun"],
            "latitude": 34.23,
            "longitude": 37.24,
            "geonames_id": 163921,
            "aliases": ["al-Qaryatayn"],
        },
    )
    assert response.status_code == 201, response.text
    place = response.json()
    assert place["country"] == "SY"  # from its parent
    assert [a["name"] for a in place["ancestors"]] == ["Syria", "Rif Dimashq", "East Qalamoun"]
    assert response.headers["etag"] == f'"place-{place["id"]}-v1"'
    within = client.get("/v1/places", params={"within": places["Rif Dimashq"]}).json()["data"]
    assert place["id"] in {p["id"] for p in within}
    for body, status in [
        # al-Ruheibah (inside East Qalamoun) is already known as Ruhaybah.
        (
            {"name": "Ruhaybah", "kind": "populated_place", "parent_id": places["East Qalamoun"]},
            409,
        ),
        (
            {"name": "Qaryatayn", "kind": "populated_place", "parent_id": places["East Qalamoun"]},
            409,
        ),
        ({"name": "Other", "kind": "populated_place", "geonames_id": 163921, "country": "SY"}, 409),
        ({"name": "Other", "kind": "town", "country": "SY"}, 422),
        ({"name": "Other", "kind": "populated_place", "parent_id": 424242}, 422),
        ({"name": "Other", "kind": "populated_place", "latitude": 1.0}, 422),
        ({"name": "Other", "kind": "populated_place", "latitude": "1.0", "longitude": 2.0}, 422),
    ]:
        assert_problem(client.post("/v1/places", json=body), status)


def test_create_outlet_with_an_idempotency_key(client: TestClient, engine: Engine) -> None:
    body = {"name": "Enab Baladi", "url": "https://www.enabbaladi.net", "kind": "local"}
    headers = {"Idempotency-Key": "outlet-enab-1"}
    first = client.post("/v1/outlets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["domain"] == "enabbaladi.net"
    again = client.post("/v1/outlets", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.headers["location"], again.headers["etag"]) == (
        first.headers["location"],
        first.headers["etag"],
    )
    assert row_counts(engine)["outlet"] == 1
    problem = assert_problem(client.post("/v1/outlets", json={"name": "enab-baladi"}), 409)
    assert problem["outlet_id"] == first.json()["id"]
    assert_problem(client.post("/v1/outlets", json={"name": "X", "url": "ftp://x.org"}), 422)


def test_aliases(
    client: TestClient, demo: dict[str, Any], engine: Engine, actors: dict[str, int]
) -> None:
    actor_id = actors["Jaish Tahrir a-Sham"]
    url = f"/v1/actors/{actor_id}"
    etag = etag_of(client, url)
    response = client.post(f"{url}/aliases", json={"name": "JTS"})
    assert response.status_code == 201, response.text
    alias = response.json()
    assert alias == {"id": alias["id"], "actor_id": actor_id, "name": "JTS", "primary": False}
    assert etag_of(client, url) != etag  # the actor changed
    names = client.get(f"{url}/aliases").json()["data"]
    assert [(a["name"], a["primary"]) for a in names][-1] == ("JTS", False)
    primary = next(a for a in names if a["primary"])
    assert primary["name"] == "Jaish Tahrir a-Sham"

    counts = row_counts(engine)
    assert_problem(client.post(f"{url}/aliases", json={"name": "jts"}), 409)
    assert_problem(client.post(f"{url}/aliases", json={"name": "FSA"}), 409)  # another's name
    assert_problem(client.post(f"{url}/aliases", json={"name": ""}), 422)
    assert_problem(client.delete(f"{url}/aliases/{primary['id']}"), 409)
    assert_problem(client.delete(f"{url}/aliases/424242"), 404)
    assert_problem(client.post("/v1/actors/424242/aliases", json={"name": "x"}), 404)
    assert row_counts(engine) == counts

    assert client.delete(f"{url}/aliases/{alias['id']}").status_code == 200
    assert "JTS" not in client.get(url).json()["aliases"]
    assert [r["action"] for r in audit_rows(engine) if ".alias." in r["action"]] == [
        "actor.alias.add",
        "actor.alias.remove",
    ]


def test_affiliations(
    client: TestClient, demo: dict[str, Any], engine: Engine, actors: dict[str, int]
) -> None:
    jts, unified = actors["Jaish Tahrir a-Sham"], actors["Unified Command in East Qalamoun"]
    etags = {a: etag_of(client, f"/v1/actors/{a}") for a in (jts, unified)}
    response = client.post(
        f"/v1/actors/{jts}/affiliations",
        json={"actor_id": unified, "relation": "allied_with", "since": "2018-04-01"},
    )
    assert response.status_code == 201, response.text
    tie = response.json()
    assert tie["actor"]["id"] == unified and tie["relation"] == "allied_with"
    assert tie["since"] == "2018-04-01"
    for a in (jts, unified):  # both ends show the tie, so both change
        assert etag_of(client, f"/v1/actors/{a}") != etags[a]
    assert tie["id"] in {t["id"] for t in client.get(f"/v1/actors/{unified}").json()["affiliates"]}

    counts = row_counts(engine)
    url = f"/v1/actors/{jts}/affiliations"
    assert_problem(client.post(url, json={"actor_id": unified, "relation": "allied_with"}), 409)
    assert_problem(client.post(url, json={"actor_id": jts, "relation": "allied_with"}), 422)
    assert_problem(client.post(url, json={"actor_id": 424242, "relation": "allied_with"}), 422)
    assert_problem(client.post(url, json={"actor_id": unified, "relation": "hates"}), 422)
    assert_problem(
        client.post(
            url,
            json={
                "actor_id": unified,
                "relation": "member_of",
                "since": "2018-01-02",
                "until": "2018-01-01",
            },
        ),
        422,
    )
    assert row_counts(engine) == counts

    # Removable from either end.
    assert client.delete(f"/v1/actors/{unified}/affiliations/{tie['id']}").status_code == 200
    assert tie["id"] not in {
        t["id"] for t in client.get(f"/v1/actors/{jts}").json()["affiliations"]
    }
    assert_problem(client.delete(f"/v1/actors/{jts}/affiliations/{tie['id']}"), 404)
    assert [r["action"] for r in audit_rows(engine) if ".affiliation." in r["action"]] == [
        "actor.affiliation.add",
        "actor.affiliation.remove",
    ]
