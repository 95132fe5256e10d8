"""Every write leaves an audit row with its key; the edit routes describe themselves."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.writer.helpers import audit_rows, etag_of


def test_every_write_is_audited_with_its_key(
    client: TestClient,
    demo: dict[str, Any],
    engine: Engine,
    key_id: int,
    actors: dict[str, int],
    places: dict[str, int],
) -> None:
    already = len(audit_rows(engine))

    def patch(url: str, body: dict[str, Any]) -> None:
        response = client.patch(url, json=body, headers={"If-Match": etag_of(client, url)})
        assert response.status_code == 200, response.text

    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    ev = demo["events"]
    patch(f"/v1/events/{ev['air-raids-jabal-sharqi']}", {"fatalities_low": 0})
    ok(client.delete(f"/v1/events/{ev['negotiations-east-qalamoun']}", params={"reason": "Talks."}))
    patch(f"/v1/articles/{demo['article']['id']}", {"dateline": "AMMAN"})
    patch(f"/v1/quotes/{demo['quotes']['omar-bombing']}", {"speaker_role": "activist"})
    ok(client.delete(f"/v1/quotes/{demo['quotes']['omar-bombing']}"))
    patch("/v1/outlets/1", {"language": "ar"})
    outlet = ok(client.post("/v1/outlets", json={"name": "Qasioun"}))
    ok(client.delete(f"/v1/outlets/{outlet['id']}"))
    actor = ok(client.post("/v1/actors", json={"name": "Usud al-Sharqiya", "kind": "rebel_group"}))
    patch(f"/v1/actors/{actor['id']}", {"country": "SY"})
    alias = ok(client.post(f"/v1/actors/{actor['id']}/aliases", json={"name": "Lions of the East"}))
    ok(client.delete(f"/v1/actors/{actor['id']}/aliases/{alias['id']}"))
    tie = ok(
        client.post(
            f"/v1/actors/{actor['id']}/affiliations",
            json={"actor_id": actors["Free Syrian Army"], "relation": "member_of"},
        )
    )
    ok(client.delete(f"/v1/actors/{actor['id']}/affiliations/{tie['id']}"))
    ok(client.post(f"/v1/actors/{actor['id']}/merge", json={"into": actors["Free Syrian Army"]}))
    place = ok(
        client.post(
            "/v1/places",
            json={"name": "Jirud", "kind": "populated_place", "parent_id": places["East Qalamoun"]},
        )
    )
    patch(f"/v1/places/{place['id']}", {"latitude": 33.8, "longitude": 36.74})
    other = ok(client.post("/v1/places", json={"name": "Jayrud", "kind": "site", "country": "SY"}))
    ok(client.post(f"/v1/places/{other['id']}/merge", json={"into": place["id"]}))
    gone = ok(
        client.post("/v1/places", json={"name": "Nasiriyah", "kind": "site", "country": "SY"})
    )
    ok(client.delete(f"/v1/places/{gone['id']}"))

    rows = audit_rows(engine)[already:]
    assert [(r["action"], r["entity"]) for r in rows] == [
        ("event.update", "event"),
        ("event.retract", "event"),
        ("article.update", "article"),
        ("quote.update", "quote"),
        ("quote.delete", "quote"),
        ("outlet.update", "outlet"),
        ("outlet.create", "outlet"),
        ("outlet.delete", "outlet"),
        ("actor.create", "actor"),
        ("actor.update", "actor"),
        ("actor.alias.add", "actor"),
        ("actor.alias.remove", "actor"),
        ("actor.affiliation.add", "actor"),
        ("actor.affiliation.remove", "actor"),
        ("actor.merge", "actor"),
        ("place.create", "place"),
        ("place.update", "place"),
        ("place.create", "place"),
        ("place.merge", "place"),
        ("place.create", "place"),
        ("place.delete", "place"),
    ]
    assert {r["api_key_id"] for r in rows} == {key_id}
    assert all(r["entity_id"] for r in rows)


def test_edit_routes_describe_their_bodies_and_preconditions(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for path, method, model in [
        ("/v1/events/{event_id}", "patch", "EventUpdate"),
        ("/v1/articles/{article_id}", "patch", "ArticleUpdate"),
        ("/v1/quotes/{quote_id}", "patch", "QuoteUpdate"),
        ("/v1/actors/{actor_id}", "patch", "ActorUpdate"),
        ("/v1/places/{place_id}", "patch", "PlaceUpdate"),
        ("/v1/outlets/{outlet_id}", "patch", "OutletUpdate"),
        ("/v1/actors", "post", "ActorCreate"),
        ("/v1/places", "post", "PlaceCreate"),
        ("/v1/outlets", "post", "OutletCreate"),
        ("/v1/actors/{actor_id}/merge", "post", "MergeInto"),
        ("/v1/places/{place_id}/merge", "post", "MergeInto"),
        ("/v1/actors/{actor_id}/aliases", "post", "ActorAliasCreate"),
        ("/v1/actors/{actor_id}/affiliations", "post", "AffiliationCreate"),
    ]:
        op = doc["paths"][path][method]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{model}"
        assert schemas[model]["properties"] and schemas[model]["additionalProperties"] is False
        if method == "patch":
            (if_match,) = [p for p in op["parameters"] if p["name"] == "If-Match"]
            assert if_match["required"] is True and if_match["in"] == "header"
            assert {"412", "428"} <= set(op["responses"])
            assert "ETag" in op["responses"]["200"]["headers"]
    # A field that may be left out but not cleared has no null in its type.
    assert schemas["EventUpdate"]["properties"]["event_type"]["type"] == "string"
    assert "308" in doc["paths"]["/v1/actors/{actor_id}"]["get"]["responses"]
    retract = doc["paths"]["/v1/events/{event_id}"]["delete"]
    assert [p["name"] for p in retract["parameters"] if p["in"] == "query"] == ["reason"]
