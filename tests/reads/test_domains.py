"""Reads for articles, quotes, outlets, actors, places and the vocabulary, on the demo data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import demo_report
from tests.helpers import assert_problem


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def test_article_detail_has_body_quotes_and_events(
    client: TestClient, demo: dict[str, Any]
) -> None:
    article = client.get(f"/v1/articles/{demo['article']['id']}").json()
    report = demo_report()["article"]
    assert article["body"] == report["body"]
    assert article["dateline"] == "Amman"
    assert article["outlet"]["name"] == "Syria Direct"
    assert {q["id"] for q in article["quotes"]} == set(demo["quotes"].values())
    assert {e["id"] for e in article["events"]} == set(demo["events"].values())
    listed = client.get("/v1/articles").json()["data"]
    assert [a["id"] for a in listed] == [demo["article"]["id"]]
    assert "body" not in listed[0]


def test_quote_list_and_detail(client: TestClient, demo: dict[str, Any]) -> None:
    quote_id = demo["quotes"]["marwan-displacement"]
    quote = client.get(f"/v1/quotes/{quote_id}").json()
    assert quote["text"] == "We have before us only displacement or war."
    assert quote["speaker"]["name"] == "Marwan al-Qadi"
    assert quote["speaker"]["role"] == "spokesperson for the Unified Command"
    assert quote["article"]["id"] == demo["article"]["id"]
    page = client.get(
        "/v1/quotes", params={"article": demo["article"]["id"], "limit": 5, "total": "true"}
    ).json()
    assert page["total"] == len(demo["quotes"])
    assert len(page["data"]) == 5 and page["next_cursor"]


def test_outlets(client: TestClient, demo: dict[str, Any]) -> None:
    (outlet,) = client.get("/v1/outlets", params={"name": "syria direct"}).json()["data"]
    detail = client.get(f"/v1/outlets/{outlet['id']}").json()
    assert detail["article_count"] == 1
    assert detail["domain"] == "syriadirect.org"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Jaish Tahrir al-Sham", "Jaish Tahrir a-Sham"),
        ("FSA", "Free Syrian Army"),
        ("unified command", "Unified Command in East Qalamoun"),
    ],
)
def test_actor_name_search_is_alias_aware(
    client: TestClient, demo: dict[str, Any], query: str, expected: str
) -> None:
    found = client.get("/v1/actors", params={"name": query}).json()["data"]
    assert [a["name"] for a in found] == [expected]


def test_actor_detail(client: TestClient, demo: dict[str, Any]) -> None:
    fsa = by_name(demo["actors"], "Free Syrian Army")
    detail = client.get(f"/v1/actors/{fsa['id']}").json()
    assert "FSA" in detail["aliases"]
    affiliates = {a["actor"]["name"]: a["relation"] for a in detail["affiliates"]}
    assert affiliates == {
        "Forces of Martyr Ahmad al-Abdo": "member_of",
        "Jaish Tahrir a-Sham": "allied_with",
    }
    assert detail["affiliations"] == []


def test_place_detail_and_filters(client: TestClient, demo: dict[str, Any]) -> None:
    places = {p["name"]: p["id"] for p in demo["places"]}
    detail = client.get(f"/v1/places/{places['East Qalamoun']}").json()
    assert [a["name"] for a in detail["ancestors"]] == ["Syria", "Rif Dimashq"]
    assert [c["name"] for c in detail["children"]] == ["Jabal Sharqi"]
    # Events at Jabal Sharqi, al-Ruheibah and East Qalamoun itself.
    assert detail["event_count"] == 4
    inside = client.get("/v1/places", params={"within": places["Syria"]}).json()["data"]
    assert {p["name"] for p in inside} == {
        "Rif Dimashq",
        "East Qalamoun",
        "Jabal Sharqi",
        "al-Ruheibah",
        "Damascus",
    }
    by_alias = client.get("/v1/places", params={"name": "Dimashq"}).json()["data"]
    assert [p["name"] for p in by_alias] == ["Damascus"]
    ruheibah = client.get("/v1/places", params={"name": "Ruhaybah"}).json()["data"]
    assert [p["id"] for p in ruheibah] == [places["al-Ruheibah"]]


def test_vocabulary(client: TestClient) -> None:
    vocab = client.get("/v1/vocabulary").json()
    battles = next(t for t in vocab["event_types"] if t["name"] == "Battles")
    assert {s["name"] for s in battles["sub_event_types"]} == {
        "Armed clash",
        "Government regains territory",
        "Non-state actor overtakes territory",
    }
    kinds = {k["name"]: k["acled_inter"] for k in vocab["actor_kinds"]}
    assert kinds["state_forces"] == 1 and kinds["person"] is None and kinds["coalition"] is None


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("path", ["articles", "quotes", "outlets", "actors", "places"])
def test_unknown_ids_and_parameters(client: TestClient, path: str) -> None:
    assert_problem(client.get(f"/v1/{path}/424242"), 404, type_suffix="not-found")
    assert_problem(client.get(f"/v1/{path}", params={"nope": "1"}), 422)
    assert_problem(client.get(f"/v1/{path}", params={"cursor": "%%%"}), 422)
