"""GET /v1/events and /v1/events/{id}: filters, keyset pages, the detail with its evidence."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem, error_locs

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
IRAQ = {"name": "Iraq", "kind": "country", "country": "IQ"}


def report(
    n: int, date: str, event_type: str, sub: str, place: dict[str, Any], actor: str
) -> dict[str, Any]:
    return {
        "article": {
            "url": f"https://example.org/{n}",
            "outlet": {"name": "Example"},
            "title": f"Report {n}",
        },
        "quotes": [{"key": "t", "text": f"Report {n}", "in_title": True}],
        "events": [
            {
                "key": "e",
                "quotes": ["t"],
                "event_type": event_type,
                "sub_event_type": sub,
                "date_start": date,
                "place": place,
                "actors": [
                    {
                        "actor": {
                            "name": actor,
                            "kind": "rebel_group",
                            "country": place.get("country", "SY"),
                        }
                    }
                ],
            }
        ],
    }


@pytest.fixture
def events(client: TestClient) -> dict[str, int]:
    """Seven events in two countries, a place hierarchy, two actors; returns key -> id."""
    homs = {"name": "Homs", "kind": "admin1", "parent": SYRIA}
    rastan = {"name": "Rastan", "kind": "populated_place", "parent": homs}
    mosul = {"name": "Mosul", "kind": "populated_place", "parent": IRAQ | {"country": "IQ"}}
    specs: list[tuple[str, str, str, str, dict[str, Any], str]] = [
        ("a", "2018-01-05", "Battles", "Armed clash", rastan, "Group A"),
        ("b", "2018-02-10", "Battles", "Armed clash", homs, "Group A"),
        ("c", "2018-02-10", "Protests", "Peaceful protest", homs, "Group B"),
        ("d", "2018-03-01", "Riots", "Mob violence", SYRIA, "Group B"),
        ("e", "2019-07-04", "Battles", "Armed clash", rastan, "Group B"),
        ("f", "2017-12-31", "Battles", "Armed clash", mosul | {"country": "IQ"}, "Group C"),
        ("g", "2018-02-10", "Strategic developments", "Agreement", rastan, "Group A"),
    ]
    ids = {}
    for n, (key, date, et, sub, place, actor) in enumerate(specs):
        r = client.post("/v1/reports", json=report(n, date, et, sub, place, actor))
        assert r.status_code == 201, r.text
        ids[key] = r.json()["events"]["e"]
    return ids


def keys(ids: dict[str, int], response: Any) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    assert response.status_code == 200, response.text
    return [by_id[e["id"]] for e in response.json()["data"]]


def test_default_sort_is_newest_first_with_id_tiebreak(
    client: TestClient, events: dict[str, int]
) -> None:
    got = keys(events, client.get("/v1/events"))
    assert got == ["e", "d", "g", "c", "b", "a", "f"]


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {"date_from": "2018-01-01", "date_to": "2018-12-31", "sort": "date_start"},
            ["a", "b", "c", "g", "d"],
        ),
        ({"event_type": "Battles", "sort": "id"}, ["a", "b", "e", "f"]),
        ({"event_type": ["Protests", "Riots"], "sort": "id"}, ["c", "d"]),
        ({"sort": "-id", "date_to": "2018-01-31"}, ["f", "a"]),
    ],
)
def test_filters(
    client: TestClient, events: dict[str, int], params: dict[str, Any], expected: list[str]
) -> None:
    assert keys(events, client.get("/v1/events", params=params)) == expected


def test_place_filter_includes_everything_inside(
    client: TestClient, events: dict[str, int]
) -> None:
    event = client.get(f"/v1/events/{events['a']}").json()
    rastan = event["place"]["id"]
    syria, homs = (p["id"] for p in event["place"]["ancestors"])
    assert keys(events, client.get("/v1/events", params={"place": rastan, "sort": "id"})) == [
        "a",
        "e",
        "g",
    ]
    assert keys(events, client.get("/v1/events", params={"place": homs, "sort": "id"})) == [
        "a",
        "b",
        "c",
        "e",
        "g",
    ]
    assert keys(events, client.get("/v1/events", params={"place": syria, "sort": "id"})) == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "g",
    ]


def test_actor_filter(client: TestClient, events: dict[str, int]) -> None:
    group_a = client.get("/v1/actors", params={"name": "group a"}).json()["data"][0]["id"]
    assert keys(events, client.get("/v1/events", params={"actor": group_a, "sort": "id"})) == [
        "a",
        "b",
        "g",
    ]


@pytest.mark.parametrize("sort", ["date_start", "-date_start", "id", "-id"])
def test_keyset_pages_cover_everything_once(
    client: TestClient, events: dict[str, int], sort: str
) -> None:
    full = keys(events, client.get("/v1/events", params={"sort": sort, "limit": 100}))
    seen: list[str] = []
    params: dict[str, Any] = {"sort": sort, "limit": 2, "total": "true"}
    while True:
        response = client.get("/v1/events", params=params)
        page = response.json()
        assert page["total"] == 7
        seen += keys(events, response)
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == full
    assert len(seen) == 7


def test_total_is_only_present_when_asked(client: TestClient, events: dict[str, int]) -> None:
    assert "total" not in client.get("/v1/events").json()
    assert (
        client.get("/v1/events", params={"total": "true", "event_type": "Battles"}).json()["total"]
        == 4
    )


@pytest.mark.parametrize(
    "params, loc",
    [
        ({"bogus": "1"}, ["query", "bogus"]),
        ({"sort": "summary"}, ["query", "sort"]),
        ({"limit": "1001"}, ["query", "limit"]),
        ({"limit": "0"}, ["query", "limit"]),
        ({"date_from": "yesterday"}, ["query", "date_from"]),
        ({"place": "x"}, ["query", "place"]),
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        # A forged cursor or id past 32 bits must be refused, not overflow in PostgreSQL.
        ({"cursor": "WyJpZCIsWzkyMjMzNzIwMzY4NTQ3NzU4MDddXQ", "sort": "id"}, ["query", "cursor"]),
        ({"place": str(2**40)}, ["query", "place"]),
        ({"actor": "-1"}, ["query", "actor"]),
    ],
)
def test_bad_query_parameters_are_422(
    client: TestClient, params: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(client.get("/v1/events", params=params), 422)
    assert loc in error_locs(body), body


def test_cursor_from_another_sort_is_422(client: TestClient, events: dict[str, int]) -> None:
    cursor = client.get("/v1/events", params={"limit": 1, "sort": "id"}).json()["next_cursor"]
    assert_problem(client.get("/v1/events", params={"cursor": cursor, "sort": "-date_start"}), 422)


def test_unknown_event_is_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/events/987654"), 404, type_suffix="not-found")
    assert body["instance"] == "/v1/events/987654"
    assert_problem(client.get("/v1/events/0"), 422)
    assert_problem(client.get("/v1/events/abc"), 422)
    assert_problem(client.get("/v1/events/1", params={"fields": "id"}), 422)


def test_detail_embeds_place_actors_sources_and_measures(
    client: TestClient, demo: dict[str, Any]
) -> None:
    event = client.get(f"/v1/events/{demo['events']['rebels-seize-military-points']}").json()
    assert event["date_start"] == "2018-04-15"
    assert event["place"]["name"] == "Jabal Sharqi"
    sides = {(a["name"], a["side"], a["role"]) for a in event["actors"]}
    assert ("Forces of Martyr Ahmad al-Abdo", "a", "primary") in sides
    assert ("Military Forces of Syria", "b", "primary") in sides
    (source,) = event["sources"]
    assert source["published_date"] == "2018-04-18"
    assert source["url"].startswith("https://syriadirect.org/")
    speakers = {q["speaker"]["name"] for q in source["quotes"]}
    assert "Suleiman al-Qalamouni" in speakers
    suleiman = next(q for q in source["quotes"] if q["speaker"]["name"] == "Suleiman al-Qalamouni")
    assert suleiman["speaker"]["speaks_for"]["name"] == "Forces of Martyr Ahmad al-Abdo"
    assert [m["kind"] for m in event["measures"]] == ["military points seized"]
    assert event["measures"][0]["value"] == 4


def test_not_found_route_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)
    assert_problem(client.delete("/v1/events"), 405)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/actors", "/v1/places", "/v1/outlets"])
def test_nul_in_query_values_is_422_on_both_databases(client: TestClient, path: str) -> None:
    params = {"event_type": "Battles\x00"} if path == "/v1/events" else {"name": "x\x00y"}
    assert_problem(client.get(path, params=params), 422)
