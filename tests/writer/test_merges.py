"""Merging duplicate actors and places: every reference moves, the old id keeps resolving."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.models import Actor, ActorAffiliation, ActorAlias, EventActor, Place, Quote
from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report
from tests.writer.helpers import audit_rows, etag_of, revisions


def event_ids(client: TestClient, **params: Any) -> set[int]:
    response = client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return {e["id"] for e in response.json()["data"]}


def matched_every_way(client: TestClient, **params: Any) -> set[int]:
    """The events a filter matches by the list, checked against every other reader of the
    event filters (the count, a streamed format, the stats), which read a merged id's
    survivor before building their statements (``events.repository.with_live_ids``)."""
    ids = event_ids(client, **params)
    page = client.get("/v1/events", params={**params, "total": "true", "limit": 1}).json()
    assert page["total"] == len(ids)
    lines = client.get("/v1/events", params={**params, "format": "ndjson"}).text.splitlines()
    assert {json.loads(line)["id"] for line in lines} == ids
    stats = client.get("/v1/stats/events", params=params)
    assert stats.status_code == 200, stats.text
    assert sum(row["count"] for row in stats.json()["data"]) == len(ids)
    return ids


def actor_rows(engine: Engine, actor_id: int) -> dict[str, Any]:
    with read_session(engine) as session:
        return {
            "events": {
                (r.event_id, r.side, r.role)
                for r in session.execute(
                    select(EventActor.event_id, EventActor.side, EventActor.role).where(
                        EventActor.actor_id == actor_id
                    )
                )
            },
            "aliases": set(
                session.scalars(select(ActorAlias.name).where(ActorAlias.actor_id == actor_id))
            ),
            "ties": {
                (r.actor_id, r.related_actor_id, r.relation)
                for r in session.execute(
                    select(
                        ActorAffiliation.actor_id,
                        ActorAffiliation.related_actor_id,
                        ActorAffiliation.relation,
                    ).where(
                        (ActorAffiliation.actor_id == actor_id)
                        | (ActorAffiliation.related_actor_id == actor_id)
                    )
                )
            },
            "quotes": set(
                session.scalars(select(Quote.id).where(Quote.speaks_for_actor_id == actor_id))
            ),
            "merged_into": session.execute(
                select(Actor.merged_into_id).where(Actor.id == actor_id)
            ).scalar_one(),
        }


def test_actor_merge_moves_everything(
    client: TestClient, demo: dict[str, Any], engine: Engine, actors: dict[str, int], key_id: int
) -> None:
    abdo, jts = actors["Forces of Martyr Ahmad al-Abdo"], actors["Jaish Tahrir a-Sham"]
    fsa, unified = actors["Free Syrian Army"], actors["Unified Command in East Qalamoun"]
    ev = demo["events"]
    # A tie that would become the survivor's tie to itself, one the survivor already has, and a
    # name both are known by (ingestion adds aliases without asking).
    client.post(
        f"/v1/actors/{abdo}/affiliations", json={"actor_id": jts, "relation": "allied_with"}
    )
    client.post(
        f"/v1/actors/{jts}/affiliations", json={"actor_id": unified, "relation": "member_of"}
    )
    shared = {"kind": "rebel_group", "country": "SY", "aliases": ["Qalamoun Shared Name"]}
    report = {
        "article": {"url": "https://example.org/names", "outlet": {"id": 1}},
        "actors": [
            {"name": "Forces of Martyr Ahmad al-Abdo", **shared},
            {"name": "Jaish Tahrir a-Sham", **shared},
        ],
    }
    assert client.post("/v1/reports", json=report).status_code == 201
    loser, survivor = actor_rows(engine, abdo), actor_rows(engine, jts)
    counts = row_counts(engine)
    negotiations = client.get(f"/v1/events/{ev['negotiations-east-qalamoun']}").json()
    event_etags = {k: etag_of(client, f"/v1/events/{ev[k]}") for k in ev}

    response = client.post(f"/v1/actors/{abdo}/merge", json={"into": jts})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == jts
    assert response.headers["etag"] == etag_of(client, f"/v1/actors/{jts}")

    after, gone = actor_rows(engine, jts), actor_rows(engine, abdo)
    assert gone == {
        "events": set(),
        "aliases": set(),
        "ties": set(),
        "quotes": set(),
        "merged_into": jts,
    }
    # Events: where both took part the survivor's row stays; elsewhere the loser's moves.
    assert after["events"] == survivor["events"] | {
        (ev["negotiations-east-qalamoun"], "b", "associated")
    }
    assert after["aliases"] == survivor["aliases"] | (loser["aliases"] - {"Qalamoun Shared Name"})
    assert after["ties"] == {
        (jts, fsa, "allied_with"),
        (jts, unified, "member_of"),
        (jts, fsa, "member_of"),
    }
    assert after["quotes"] == loser["quotes"] and len(after["quotes"]) == 3
    later = row_counts(engine)
    assert later["actor"] == counts["actor"]  # the loser's row is kept
    assert later["event_actor"] == counts["event_actor"] - 2
    assert later["actor_alias"] == counts["actor_alias"] - 1
    assert later["actor_affiliation"] == counts["actor_affiliation"] - 2

    # Every affected event has a new version and a revision of its actors.
    moved = {"air-raids-jabal-sharqi", "rebels-seize-military-points", "negotiations-east-qalamoun"}
    for k in ev:
        assert (etag_of(client, f"/v1/events/{ev[k]}") != event_etags[k]) == (k in moved)
    before_actors = sorted(
        (
            {"actor_id": a["id"], "side": a["side"], "role": a["role"]}
            for a in negotiations["actors"]
        ),
        key=lambda a: a["actor_id"],
    )
    after_actors = sorted(
        ({**a, "actor_id": jts if a["actor_id"] == abdo else a["actor_id"]} for a in before_actors),
        key=lambda a: a["actor_id"],
    )
    assert revisions(engine, ev["negotiations-east-qalamoun"])[-1] == {
        "action": "actor_merge",
        "api_key_id": key_id,
        "changes": {"actors": [before_actors, after_actors]},
    }
    (audit,) = audit_rows(engine, "actor.merge")
    assert audit["entity_id"] == abdo and audit["api_key_id"] == key_id
    assert {k: audit["detail"][k] for k in audit["detail"] if k != "quotes"} == {
        "into": jts,
        "events": sorted(ev[k] for k in moved),
        "aliases_moved": 3,
        "aliases_dropped": 1,
        "affiliations_moved": 1,
        "affiliations_dropped": 2,
        "earlier_merges": [],
    }

    # The old id resolves to the survivor.
    redirect = client.get(f"/v1/actors/{abdo}", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == f"/v1/actors/{jts}"
    aliases = client.get(f"/v1/actors/{abdo}/aliases", follow_redirects=False)
    assert aliases.headers["location"] == f"/v1/actors/{jts}/aliases"
    assert client.get(f"/v1/actors/{abdo}").json()["id"] == jts  # a client that follows
    assert matched_every_way(client, actor=abdo) == event_ids(client, actor=jts)
    assert event_ids(client, actor=jts) == {ev[k] for k in moved}
    quotes = client.get("/v1/quotes", params={"speaks_for": abdo}).json()["data"]
    assert {q["id"] for q in quotes} == after["quotes"]
    listed = {a["id"] for a in client.get("/v1/actors", params={"limit": 100}).json()["data"]}
    assert abdo not in listed and jts in listed
    by_name = client.get("/v1/actors", params={"name": "Ahmad al-Abdo brigade"}).json()["data"]
    assert [a["id"] for a in by_name] == [jts]

    # Ingestion matches the survivor, never the merged actor.
    named = small_report(
        url="https://example.org/abdo",
        actors=[{"actor": {"name": "Ahmad al-Abdo", "kind": "rebel_group", "country": "SY"}}],
    )
    response = client.post("/v1/reports", json=named)
    assert response.status_code == 201, response.text
    outcome = {a["name"]: a for a in response.json()["actors"]}["Jaish Tahrir a-Sham"]
    assert (outcome["id"], outcome["status"]) == (jts, "matched")
    assert row_counts(engine)["actor"] == counts["actor"]
    jts_events = {ev[k] for k in moved} | {response.json()["events"]["e1"]}

    # The merged actor takes no more edits.
    assert_problem(
        client.post(f"/v1/actors/{abdo}/merge", json={"into": fsa}), 409, type_suffix="merged"
    )
    assert_problem(
        client.post(f"/v1/actors/{fsa}/merge", json={"into": abdo}), 409, type_suffix="merged"
    )
    assert_problem(
        client.patch(f"/v1/actors/{abdo}", json={"name": "X"}, headers={"If-Match": '"actor"'}),
        409,
    )
    assert_problem(client.delete(f"/v1/actors/{abdo}"), 409)
    assert_problem(client.post(f"/v1/actors/{jts}/merge", json={"into": jts}), 422)
    assert_problem(client.post(f"/v1/actors/{jts}/merge", json={"into": 424242}), 422)
    assert_problem(client.post("/v1/actors/424242/merge", json={"into": jts}), 404)

    # Merging the survivor on keeps every old id one step from a live actor.
    assert client.post(f"/v1/actors/{jts}/merge", json={"into": fsa}).status_code == 200
    assert actor_rows(engine, abdo)["merged_into"] == fsa
    redirect = client.get(f"/v1/actors/{abdo}", follow_redirects=False)
    assert redirect.headers["location"] == f"/v1/actors/{fsa}"
    assert event_ids(client, actor=abdo) == event_ids(client, actor=fsa) == jts_events
    assert audit_rows(engine, "actor.merge")[-1]["detail"]["earlier_merges"] == [abdo]


def test_actor_merge_refused_writes_nothing(
    client: TestClient, demo: dict[str, Any], engine: Engine, actors: dict[str, int]
) -> None:
    abdo, jts = actors["Forces of Martyr Ahmad al-Abdo"], actors["Jaish Tahrir a-Sham"]
    counts = row_counts(engine)
    etag = etag_of(client, f"/v1/actors/{abdo}")
    assert_problem(
        client.post(f"/v1/actors/{abdo}/merge", json={"into": jts}, headers={"If-Match": '"x"'}),
        412,
    )
    assert_problem(client.post(f"/v1/actors/{abdo}/merge", json={"into": "5"}), 422)
    assert_problem(client.post(f"/v1/actors/{abdo}/merge", json={}), 422)
    assert row_counts(engine) == counts
    assert etag_of(client, f"/v1/actors/{abdo}") == etag
    ok = client.post(f"/v1/actors/{abdo}/merge", json={"into": jts}, headers={"If-Match": etag})
    assert ok.status_code == 200


def test_place_merge_moves_events_children_and_names(
    client: TestClient, demo: dict[str, Any], engine: Engine, places: dict[str, int], key_id: int
) -> None:
    east, sharqi, ruheibah = places["East Qalamoun"], places["Jabal Sharqi"], places["al-Ruheibah"]
    dup = client.post(
        "/v1/places",
        json={
            "name": "Ruheiba Village",
            "kind": "populated_place",
            "parent_id": east,
            "geonames_id": 170592,
            "aliases": ["Ruheiba Qaryah"],
        },
    ).json()
    child = client.post(
        "/v1/places", json={"name": "Ruheiba North", "kind": "site", "parent_id": dup["id"]}
    ).json()
    report = client.post(
        "/v1/reports", json=small_report(url="https://example.org/r", place={"id": dup["id"]})
    ).json()
    event_id = report["events"]["e1"]
    assert event_id not in event_ids(client, place=sharqi)
    counts = row_counts(engine)

    response = client.post(f"/v1/places/{dup['id']}/merge", json={"into": ruheibah})
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert survivor["id"] == ruheibah and survivor["geonames_id"] == 170592
    assert {"Ruheiba Village", "Ruheiba Qaryah"} <= set(survivor["aliases"])
    assert [c["id"] for c in survivor["children"]] == [child["id"]]

    assert client.get(f"/v1/events/{event_id}").json()["place"]["id"] == ruheibah
    assert revisions(engine, event_id)[-1] == {
        "action": "place_merge",
        "api_key_id": key_id,
        "changes": {"place_id": [dup["id"], ruheibah]},
    }
    moved = client.get(f"/v1/places/{child['id']}").json()
    assert moved["parent_id"] == ruheibah
    assert [a["name"] for a in moved["ancestors"]] == [
        "Syria",
        "Rif Dimashq",
        "East Qalamoun",
        "Jabal Sharqi",
        "al-Ruheibah",
    ]
    assert event_id in event_ids(client, place=sharqi)
    ruheibah_events = {demo["events"]["ground-battles-ruheibah"], event_id}
    assert matched_every_way(client, place=dup["id"]) == ruheibah_events
    assert event_ids(client, place=ruheibah) == ruheibah_events

    redirect = client.get(f"/v1/places/{dup['id']}", follow_redirects=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == f"/v1/places/{ruheibah}"
    for params in ({"within": dup["id"]}, {"parent": dup["id"]}):
        found = client.get("/v1/places", params=params).json()["data"]
        assert [p["id"] for p in found] == [child["id"]]
    listed = {p["id"] for p in client.get("/v1/places", params={"limit": 100}).json()["data"]}
    assert dup["id"] not in listed
    assert dup["id"] not in {c["id"] for c in client.get(f"/v1/places/{east}").json()["children"]}
    by_name = client.get("/v1/places", params={"name": "Ruheiba Qaryah"}).json()["data"]
    assert [p["id"] for p in by_name] == [ruheibah]
    with read_session(engine) as session:
        loser = session.execute(
            select(Place.merged_into_id, Place.geonames_id).where(Place.id == dup["id"])
        ).one()
    assert tuple(loser) == (ruheibah, None)
    assert row_counts(engine)["place"] == counts["place"]
    (audit,) = audit_rows(engine, "place.merge")
    assert audit["detail"]["events"] == [event_id]
    assert audit["detail"]["children"] == [child["id"]]

    # Ingestion: the merged place's name, in its old scope, finds the survivor.
    named = small_report(
        url="https://example.org/r2",
        place={"name": "Ruheiba Village", "kind": "populated_place", "parent": {"id": east}},
    )
    response = client.post("/v1/reports", json=named)
    assert response.status_code == 201, response.text
    assert [p["id"] for p in response.json()["places"] if p["name"] == "al-Ruheibah"] == [ruheibah]
    assert row_counts(engine)["place"] == counts["place"]


def test_place_merge_refusals(
    client: TestClient, demo: dict[str, Any], engine: Engine, places: dict[str, int]
) -> None:
    east, sharqi = places["East Qalamoun"], places["Jabal Sharqi"]
    rif, damascus = places["Rif Dimashq"], places["Damascus"]
    for parent in (rif, damascus):
        created = client.post(
            "/v1/places", json={"name": "Dumayr", "kind": "populated_place", "parent_id": parent}
        )
        assert created.status_code == 201, created.text
    counts = row_counts(engine)
    problem = assert_problem(client.post(f"/v1/places/{east}/merge", json={"into": sharqi}), 422)
    assert problem["errors"][0]["type"] == "cycle"
    assert_problem(client.post(f"/v1/places/{east}/merge", json={"into": east}), 422)
    problem = assert_problem(
        client.post(f"/v1/places/{damascus}/merge", json={"into": rif}),
        409,
        type_suffix="name-taken",
    )
    assert "Dumayr" in problem["detail"]
    assert row_counts(engine) == counts


def test_reports_naming_a_merged_record_by_id_reach_the_survivor(
    client: TestClient, demo: dict[str, Any], actors: dict[str, int]
) -> None:
    loser, survivor = actors["Jaish Tahrir a-Sham"], actors["Free Syrian Army"]
    assert client.post(f"/v1/actors/{loser}/merge", json={"into": survivor}).status_code == 200
    places = {p["name"]: p["id"] for p in demo["places"]}
    merged_place, kept_place = places["al-Ruheibah"], places["Jabal Sharqi"]
    merge = client.post(f"/v1/places/{merged_place}/merge", json={"into": kept_place})
    assert merge.status_code == 200, merge.text
    report = small_report(
        url="https://example.org/after-merge",
        place={"id": merged_place},
        actors=[{"actor": {"id": loser}, "side": "a"}],
    )
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    event = client.get(f"/v1/events/{response.json()['events']['e1']}").json()
    assert [a["id"] for a in event["actors"]] == [survivor]
    assert event["place"]["id"] == kept_place
    # The merged place's name is free again under its old parent.
    again = small_report(
        url="https://example.org/new-ruheibah",
        place={
            "name": "al-Ruheibah",
            "kind": "populated_place",
            "parent": {"id": places["Jabal Sharqi"]},
        },
    )
    created = client.post("/v1/reports", json=again)
    assert created.status_code == 201, created.text
