"""Deletes: evidence is not deleted from under active events; referenced records stay."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report
from tests.writer.helpers import audit_rows, etag_of, revisions


def test_article_that_is_an_events_only_source_is_not_deleted(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    counts = row_counts(engine)
    problem = assert_problem(
        client.delete(f"/v1/articles/{demo['article']['id']}"), 409, type_suffix="sole-evidence"
    )
    assert sorted(problem["event_ids"]) == sorted(demo["events"].values())
    assert "only source" in problem["detail"]
    assert row_counts(engine) == counts


def test_article_delete_when_events_keep_a_source(
    client: TestClient, engine: Engine, key_id: int
) -> None:
    first = client.post("/v1/reports", json=small_report()).json()
    event_id = first["events"]["e1"]
    second_report = small_report(url="https://example.org/news/2", body="Two people died.")
    second_report["events"] = [{"id": event_id, "quotes": ["q1"]}]
    second = client.post("/v1/reports", json=second_report).json()
    article, other = first["article"]["id"], second["article"]["id"]
    quote = first["quotes"]["q1"]
    etag = etag_of(client, f"/v1/events/{event_id}")

    response = client.delete(f"/v1/articles/{article}")
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "article", "id": article}
    assert_problem(client.get(f"/v1/articles/{article}"), 404)
    assert_problem(client.get(f"/v1/quotes/{quote}"), 404)  # its quotes went with it
    event = client.get(f"/v1/events/{event_id}")
    assert [s["article_id"] for s in event.json()["sources"]] == [other]
    assert event.headers["etag"] != etag
    assert revisions(engine, event_id)[-1] == {
        "action": "remove_source",
        "api_key_id": key_id,
        "changes": {
            "sources": [[article, other], [other]],
            "quotes": [[quote, second["quotes"]["q1"]], [second["quotes"]["q1"]]],
            # The toll was the deleted article's claim; the other article gives none.
            "fatalities_best": [2, None],
        },
    }
    assert event.json()["fatalities_best"] is None
    (audit,) = audit_rows(engine, "article.delete")
    assert (audit["entity_id"], audit["detail"]) == (
        article,
        {"events": [event_id], "quotes": [quote]},
    )
    # The stored report went too: posting it again makes the article anew.
    assert client.post("/v1/reports", json=small_report()).status_code == 201


def test_article_delete_allowed_once_its_events_are_retracted(
    client: TestClient, engine: Engine
) -> None:
    first = client.post("/v1/reports", json=small_report()).json()
    event_id = first["events"]["e1"]
    assert_problem(client.delete(f"/v1/articles/{first['article']['id']}"), 409)
    client.delete(f"/v1/events/{event_id}", params={"reason": "Wrong town."})
    assert client.delete(f"/v1/articles/{first['article']['id']}").status_code == 200
    event = client.get(f"/v1/events/{event_id}").json()
    assert event["status"] == "retracted" and event["sources"] == []


def test_quote_that_is_an_events_only_quote_is_not_deleted(
    client: TestClient, demo: dict[str, Any], engine: Engine, key_id: int
) -> None:
    counts = row_counts(engine)
    only = demo["quotes"]["narr-ground-battles"]
    problem = assert_problem(client.delete(f"/v1/quotes/{only}"), 409, type_suffix="sole-evidence")
    assert problem["event_ids"] == [demo["events"]["ground-battles-ruheibah"]]
    assert row_counts(engine) == counts

    # One of five quotes of the air raids can go; the event gets a revision.
    quote = demo["quotes"]["omar-bombing"]
    event_id = demo["events"]["air-raids-jabal-sharqi"]
    cited = [
        q["id"] for s in client.get(f"/v1/events/{event_id}").json()["sources"] for q in s["quotes"]
    ]
    assert_problem(client.delete(f"/v1/quotes/{quote}", headers={"If-Match": '"quote-1-v9"'}), 412)
    response = client.delete(
        f"/v1/quotes/{quote}", headers={"If-Match": etag_of(client, f"/v1/quotes/{quote}")}
    )
    assert response.status_code == 200, response.text
    assert_problem(client.get(f"/v1/quotes/{quote}"), 404)
    assert revisions(engine, event_id)[-1] == {
        "action": "remove_quote",
        "api_key_id": key_id,
        "changes": {"quotes": [sorted(cited), sorted(set(cited) - {quote})]},
    }
    assert audit_rows(engine, "quote.delete")[0]["entity_id"] == quote


def test_referenced_actor_place_and_outlet_are_not_deleted(
    client: TestClient,
    demo: dict[str, Any],
    engine: Engine,
    actors: dict[str, int],
    places: dict[str, int],
) -> None:
    counts = row_counts(engine)
    abdo = actors["Forces of Martyr Ahmad al-Abdo"]
    problem = assert_problem(
        client.delete(f"/v1/actors/{abdo}"), 409, type_suffix="still-referenced"
    )
    refs = problem["references"]
    assert sorted(refs["events"]) == sorted(
        demo["events"][k]
        for k in (
            "air-raids-jabal-sharqi",
            "rebels-seize-military-points",
            "negotiations-east-qalamoun",
        )
    )
    assert refs["quotes"] and refs["affiliations"]
    assert "events" in problem["detail"] and "quotes" in problem["detail"]
    problem = assert_problem(client.delete(f"/v1/places/{places['East Qalamoun']}"), 409)
    assert problem["references"]["children"] == [places["Jabal Sharqi"]]
    assert problem["references"]["events"] == [demo["events"]["negotiations-east-qalamoun"]]
    problem = assert_problem(client.delete("/v1/outlets/1"), 409)
    assert problem["references"] == {"articles": [demo["article"]["id"]]}
    assert row_counts(engine) == counts


def test_unreferenced_actor_place_and_outlet_are_deleted(
    client: TestClient, demo: dict[str, Any], engine: Engine, places: dict[str, int]
) -> None:
    created = [
        client.post("/v1/actors", json={"name": "Liwa al-Ghuraba", "kind": "rebel_group"}),
        client.post(
            "/v1/places",
            json={"name": "Jirud", "kind": "populated_place", "parent_id": places["East Qalamoun"]},
        ),
        client.post("/v1/outlets", json={"name": "Enab Baladi", "url": "https://enabbaladi.net"}),
    ]
    counts = row_counts(engine)
    for response in created:
        assert response.status_code == 201, response.text
        url = response.headers["location"]
        assert_problem(client.delete(url, headers={"If-Match": '"stale"'}), 412)
        deleted = client.delete(url, headers={"If-Match": response.headers["etag"]})
        assert deleted.status_code == 200, deleted.text
        assert_problem(client.get(url), 404)
        assert_problem(client.delete(url), 404)
    after = row_counts(engine)
    assert (after["actor"], after["place"], after["outlet"]) == (
        counts["actor"] - 1,
        counts["place"] - 1,
        counts["outlet"] - 1,
    )
    assert after["place_ancestor"] < counts["place_ancestor"]
    assert after["actor_alias"] == counts["actor_alias"] - 1
    assert [r["action"] for r in audit_rows(engine) if r["action"].endswith(".delete")] == [
        "actor.delete",
        "place.delete",
        "outlet.delete",
    ]
