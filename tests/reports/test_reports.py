"""POST /v1/reports: the ingestion contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select

from app.models import Actor, Event, EventSource, Place, Quote
from tests.conftest import demo_report
from tests.helpers import assert_problem, error_locs, row_counts

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}


def small_report(
    url: str | None = "https://example.org/news/1",
    body: str | None = "Shelling hit al-Bab on Monday, residents said. Two people died.",
    outlet: dict[str, Any] | None = None,
    **event: Any,
) -> dict[str, Any]:
    new_event: dict[str, Any] = {
        "key": "e1",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Shelling/artillery/missile attack",
        "date_start": "2018-04-16",
        "place": {"name": "al-Bab", "kind": "populated_place", "parent": SYRIA},
        "fatalities": {"best": 2},
        "actors": [
            {
                "actor": {
                    "name": "Military Forces of Syria",
                    "kind": "state_forces",
                    "country": "SY",
                },
                "side": "a",
            }
        ],
        "quotes": ["q1"],
    }
    new_event.update(event)
    return {
        "article": {
            "url": url,
            "title": "Shelling in al-Bab",
            "published_date": "2018-04-17",
            "outlet": outlet or {"name": "Example News", "url": "https://example.org"},
            "body": body,
        },
        # Without a body, the evidence is a quote of the title.
        "quotes": [{"key": "q1", "text": "Two people died."}]
        if body
        else [{"key": "q1", "text": "Shelling in al-Bab", "in_title": True}],
        "events": [new_event],
    }


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


# -- the demo round trip --------------------------------------------------------------------


def test_demo_report_round_trip(client: TestClient, demo: dict[str, Any]) -> None:
    report = demo_report()
    assert set(demo["quotes"]) == {q["key"] for q in report["quotes"]}
    assert set(demo["events"]) == {e["key"] for e in report["events"]}
    assert all(a["status"] == "created" for a in demo["actors"])
    names = {p["name"] for p in demo["places"]}
    assert {
        "Syria",
        "Rif Dimashq",
        "East Qalamoun",
        "Jabal Sharqi",
        "al-Ruheibah",
        "Damascus",
    } <= names

    event_id = demo["events"]["air-raids-jabal-sharqi"]
    event = client.get(f"/v1/events/{event_id}").json()
    assert event["event_type"] == "Explosions/Remote violence"
    assert event["sub_event_type"] == "Air/drone strike"
    assert [a["name"] for a in event["place"]["ancestors"]] == [
        "Syria",
        "Rif Dimashq",
        "East Qalamoun",
    ]
    assert event["place"]["name"] == "Jabal Sharqi"
    measures = {(m["kind"], m["value"], m["qualifier"]) for m in event["measures"]}
    assert ("barrel bombs", 75, "over") in measures
    assert ("missiles", 150, None) in measures
    # Every supporting quote is the exact span of the stored body.
    (source,) = event["sources"]
    assert source["outlet"]["name"] == "Syria Direct"
    article = client.get(f"/v1/articles/{source['article_id']}").json()
    assert source["quotes"]
    for quote in source["quotes"]:
        assert article["body"][quote["start"] : quote["end"]] == quote["text"]
    measure_quote_ids = {m["quote_id"] for m in event["measures"]}
    assert measure_quote_ids <= {q["id"] for q in source["quotes"]}


def test_response_is_durable_before_it_is_sent(client: TestClient, database_url: str) -> None:
    response = client.post("/v1/reports", json=small_report())
    assert response.status_code == 201
    # A separate engine (another process, in effect) sees the committed report at once.
    other = create_engine(database_url)
    try:
        assert count(other, Event) == 1
        assert count(other, Quote) == 1
    finally:
        other.dispose()


# -- retries and identity -------------------------------------------------------------------


def test_identical_repost_replays_and_writes_nothing(client: TestClient, engine: Engine) -> None:
    first = client.post("/v1/reports", json=small_report())
    assert first.status_code == 201
    before = row_counts(engine)
    # Same canonical JSON, keys in another order.
    report = small_report()
    reordered = {k: report[k] for k in reversed(list(report))}
    again = client.post("/v1/reports", json=reordered)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert row_counts(engine) == before


def test_different_report_for_same_article_is_409(client: TestClient, engine: Engine) -> None:
    first = client.post("/v1/reports", json=small_report())
    before = row_counts(engine)
    changed = small_report(fatalities={"best": 3})
    # The same article under a URL that differs only in case, tracking and fragment.
    changed["article"]["url"] = "HTTPS://Example.org/news/1?utm_source=feed#top"
    body = assert_problem(
        client.post("/v1/reports", json=changed), 409, type_suffix="article-conflict"
    )
    assert body["article_id"] == first.json()["article"]["id"]
    assert str(body["article_id"]) in body["detail"]
    assert row_counts(engine) == before


def test_article_without_url_is_identified_by_outlet_and_body(client: TestClient) -> None:
    first = client.post("/v1/reports", json=small_report(url=None))
    assert first.status_code == 201
    assert client.post("/v1/reports", json=small_report(url=None)).status_code == 200
    assert_problem(
        client.post("/v1/reports", json=small_report(url=None, fatalities={"best": 5})), 409
    )
    # Same body from another outlet is another article.
    other = small_report(url=None, outlet={"name": "Other Wire"})
    assert client.post("/v1/reports", json=other).status_code == 201


def test_article_without_url_or_body_is_always_new(client: TestClient, engine: Engine) -> None:
    for _ in range(2):
        report = small_report(url=None, body=None)
        assert client.post("/v1/reports", json=report).status_code == 201
    assert count(engine, Event) == 2


# -- atomicity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_event, loc",
    [
        (
            {"event_type": "Battles", "sub_event_type": "Air/drone strike"},
            ["body", "events", 1, "sub_event_type"],
        ),
        ({"event_type": "Picnic"}, ["body", "events", 1, "event_type"]),
        ({"place": {"name": "Nowhere new"}}, ["body", "events", 1, "place", "kind"]),
        ({"actors": [{"actor": {"id": 999999}}]}, ["body", "events", 1, "actors", 0, "actor"]),
        ({"quotes": ["no-such-quote"]}, ["body", "events", 1, "quotes", 0]),
    ],
)
def test_report_with_one_bad_event_writes_nothing(
    client: TestClient, engine: Engine, bad_event: dict[str, Any], loc: list[Any]
) -> None:
    report = small_report()
    second = copy.deepcopy(report["events"][0]) | {"key": "e2"} | bad_event
    report["events"].append(second)
    before = row_counts(engine)
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert loc in error_locs(body), body
    assert row_counts(engine) == before


def test_failure_after_entities_were_created_rolls_them_back(
    client: TestClient, engine: Engine
) -> None:
    # The outlet, actor and place are new and get created before the bad reference is found.
    report = small_report()
    report["events"].append({"id": 424242, "quotes": ["q1"]})
    before = row_counts(engine)
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert ["body", "events", 1, "id"] in error_locs(body)
    assert row_counts(engine) == before


# -- entity resolution ----------------------------------------------------------------------


def test_transliteration_variant_matches_existing_actor(
    client: TestClient, demo: dict[str, Any]
) -> None:
    jaish = next(a for a in demo["actors"] if a["name"] == "Jaish Tahrir a-Sham")
    report = small_report(
        actors=[{"actor": {"name": "Jaish Tahrir al-Sham", "country": "SY"}, "side": "a"}]
    )
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    outcome = next(a for a in response.json()["actors"] if a["id"] == jaish["id"])
    assert outcome["status"] == "matched"
    found = client.get("/v1/actors", params={"name": "JAISH TAHRIR ASH-SHAM"}).json()["data"]
    assert [a["id"] for a in found] == [jaish["id"]]


def test_same_place_name_in_two_countries_stays_two_places(
    client: TestClient, engine: Engine
) -> None:
    lebanon = {
        "name": "Tripoli",
        "kind": "populated_place",
        "parent": {"name": "Lebanon", "kind": "country", "country": "LB"},
    }
    libya = {
        "name": "Tripoli",
        "kind": "populated_place",
        "parent": {"name": "Libya", "kind": "country", "country": "LY"},
    }
    r1 = client.post("/v1/reports", json=small_report(url="https://example.org/a", place=lebanon))
    r2 = client.post("/v1/reports", json=small_report(url="https://example.org/b", place=libya))
    assert r1.status_code == r2.status_code == 201
    tripolis = [p for p in r1.json()["places"] + r2.json()["places"] if p["name"] == "Tripoli"]
    assert [p["status"] for p in tripolis] == ["created", "created"]
    assert tripolis[0]["id"] != tripolis[1]["id"]
    # And the same description again matches, within its parent.
    r3 = client.post("/v1/reports", json=small_report(url="https://example.org/c", place=libya))
    tripoli3 = next(p for p in r3.json()["places"] if p["name"] == "Tripoli")
    assert tripoli3 == {"name": "Tripoli", "id": tripolis[1]["id"], "status": "matched"}


def test_ambiguous_name_is_422_with_candidates(client: TestClient, engine: Engine) -> None:
    for i, country in enumerate(["LB", "LY"]):
        place = {
            "name": "Tripoli",
            "kind": "populated_place",
            "parent": {"name": f"Country {country}", "kind": "country", "country": country},
        }
        assert (
            client.post(
                "/v1/reports", json=small_report(url=f"https://example.org/{i}", place=place)
            ).status_code
            == 201
        )
    before = row_counts(engine)
    # No parent and no country: both Tripolis are candidates.
    report = small_report(url="https://example.org/x", place={"name": "Tripoli"})
    body = assert_problem(
        client.post("/v1/reports", json=report), 422, type_suffix="ambiguous-name"
    )
    assert sorted(c["country"] for c in body["candidates"]) == ["LB", "LY"]
    assert all(isinstance(c["id"], int) for c in body["candidates"])
    assert row_counts(engine) == before


def test_ambiguous_actor_alias_is_422(client: TestClient) -> None:
    a = small_report(
        url="https://example.org/1",
        actors=[
            {
                "actor": {
                    "name": "Popular Mobilisation",
                    "kind": "political_militia",
                    "country": "IQ",
                    "aliases": ["PMF"],
                }
            }
        ],
    )
    b = small_report(
        url="https://example.org/2",
        actors=[
            {
                "actor": {
                    "name": "Patriotic Militia Front",
                    "kind": "identity_militia",
                    "country": "IQ",
                    "aliases": ["PMF"],
                }
            }
        ],
    )
    assert client.post("/v1/reports", json=a).status_code == 201
    assert client.post("/v1/reports", json=b).status_code == 201
    c = small_report(
        url="https://example.org/3", actors=[{"actor": {"name": "P.M.F", "country": "IQ"}}]
    )
    c["events"][0]["actors"] = [{"actor": {"name": "PMF", "country": "IQ"}}]
    body = assert_problem(client.post("/v1/reports", json=c), 422, type_suffix="ambiguous-name")
    assert len(body["candidates"]) == 2
    # Narrowing by kind resolves it.
    c["events"][0]["actors"] = [
        {"actor": {"name": "PMF", "country": "IQ", "kind": "identity_militia"}}
    ]
    assert client.post("/v1/reports", json=c).status_code == 201


def test_second_outlet_attaches_evidence_to_existing_event(
    client: TestClient, demo: dict[str, Any], engine: Engine
) -> None:
    event_id = demo["events"]["negotiations-east-qalamoun"]
    body = "Talks between Russia and the rebels of East Qalamoun began on Tuesday, a source said."
    report: dict[str, Any] = {
        "article": {
            "url": "https://enabbaladi.example/talks",
            "title": "Talks begin in East Qalamoun",
            "outlet": {"name": "Enab Baladi", "country": "SY", "kind": "national"},
            "body": body,
        },
        "quotes": [
            {
                "key": "talks",
                "text": "Talks between Russia and the rebels of East Qalamoun began on Tuesday",
            }
        ],
        "events": [{"id": event_id, "key": "same-talks", "quotes": ["talks"]}],
    }
    before_events = count(engine, Event)
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    assert response.json()["events"] == {"same-talks": event_id}
    assert count(engine, Event) == before_events
    sources = client.get(f"/v1/events/{event_id}").json()["sources"]
    assert {s["outlet"]["name"] for s in sources} == {"Syria Direct", "Enab Baladi"}
    second = next(s for s in sources if s["outlet"]["name"] == "Enab Baladi")
    assert [q["text"] for q in second["quotes"]] == [report["quotes"][0]["text"]]


def test_reference_by_external_id(client: TestClient, engine: Engine) -> None:
    first = small_report(url="https://example.org/1", external_id="SYR-2018-0001")
    event_id = client.post("/v1/reports", json=first).json()["events"]["e1"]
    second = small_report(url="https://example.org/2")
    second["events"] = [{"external_id": "SYR-2018-0001", "quotes": ["q1"]}]
    assert client.post("/v1/reports", json=second).status_code == 201
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).where(EventSource.event_id == event_id)).scalar_one()
            == 2
        )
    # Describing it anew under the same external_id is a conflict that names it.
    third = small_report(url="https://example.org/3", external_id="SYR-2018-0001")
    body = assert_problem(client.post("/v1/reports", json=third), 409)
    assert body["event_id"] == event_id
    missing = small_report(url="https://example.org/4")
    missing["events"] = [{"external_id": "nope", "quotes": ["q1"]}]
    assert ["body", "events", 0, "external_id"] in error_locs(
        assert_problem(client.post("/v1/reports", json=missing), 422)
    )


def test_affiliations_and_speaker_organisation(client: TestClient, demo: dict[str, Any]) -> None:
    abdo = next(a for a in demo["actors"] if a["name"] == "Forces of Martyr Ahmad al-Abdo")
    detail = client.get(f"/v1/actors/{abdo['id']}").json()
    parents = {(a["actor"]["name"], a["relation"]) for a in detail["affiliations"]}
    assert ("Free Syrian Army", "member_of") in parents
    assert ("Unified Command in East Qalamoun", "member_of") in parents
    command = next(a for a in demo["actors"] if a["name"] == "Unified Command in East Qalamoun")
    members = {
        a["actor"]["name"] for a in client.get(f"/v1/actors/{command['id']}").json()["affiliates"]
    }
    assert "Forces of Martyr Ahmad al-Abdo" in members
    marwan = client.get("/v1/quotes", params={"speaks_for": command["id"]}).json()["data"]
    assert {q["speaker"]["name"] for q in marwan} == {"Marwan al-Qadi"}


def test_matched_actor_gains_new_aliases(client: TestClient, engine: Engine) -> None:
    client.post("/v1/reports", json=small_report(url="https://example.org/1"))
    report = small_report(url="https://example.org/2")
    report["events"][0]["actors"] = [
        {
            "actor": {
                "name": "Military Forces of Syria",
                "kind": "state_forces",
                "country": "SY",
                "aliases": ["Syrian Arab Army"],
            }
        }
    ]
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201
    assert count(engine, Actor) == 1
    found = client.get("/v1/actors", params={"name": "syrian arab army"}).json()["data"]
    assert [a["name"] for a in found] == ["Military Forces of Syria"]


# -- quotes and offsets ---------------------------------------------------------------------


def test_quote_offsets_count_code_points_beyond_the_bmp(client: TestClient) -> None:
    body = "🔥🔥 Fighting 🇸🇾 erupted near Homs, a witness said 😢."
    text = "erupted near Homs"
    start = body.index(text)  # Python str indices are code points
    report = small_report(body=body)
    report["quotes"] = [{"key": "q1", "text": text, "start": start, "end": start + len(text)}]
    response = client.post("/v1/reports", json=report)
    assert response.status_code == 201, response.text
    quote = client.get(f"/v1/quotes/{response.json()['quotes']['q1']}").json()
    assert (quote["start"], quote["end"]) == (start, start + len(text))
    # UTF-16 offsets (what JavaScript would count) are off by the astral characters: refused.
    utf16_start = len(body[:start].encode("utf-16-le")) // 2
    report["article"]["url"] = "https://example.org/other"
    report["quotes"] = [
        {"key": "q1", "text": text, "start": utf16_start, "end": utf16_start + len(text)}
    ]
    body_ = assert_problem(client.post("/v1/reports", json=report), 422)
    assert ["body", "quotes", 0] in error_locs(body_)


@pytest.mark.parametrize(
    "quote, error_type",
    [
        ({"key": "q1", "text": "Two people died.", "start": 0, "end": 16}, "quote_mismatch"),
        ({"key": "q1", "text": "Three people died."}, "quote_not_found"),
        ({"key": "q1", "text": "e"}, "quote_ambiguous"),
        ({"key": "q1", "text": "Two people died.", "start": 47}, "quote_offsets"),
    ],
)
def test_bad_quotes_are_422_naming_the_quote(
    client: TestClient, engine: Engine, quote: dict[str, Any], error_type: str
) -> None:
    report = small_report()
    report["quotes"] = [quote]
    before = row_counts(engine)
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert [e["type"] for e in body["errors"]] == [error_type]
    assert "'q1'" in body["errors"][0]["msg"]
    assert row_counts(engine) == before


def test_quote_without_offsets_is_located(client: TestClient) -> None:
    response = client.post("/v1/reports", json=small_report())
    quote = client.get(f"/v1/quotes/{response.json()['quotes']['q1']}").json()
    body = small_report()["article"]["body"]
    assert body[quote["start"] : quote["end"]] == "Two people died."


# -- strictness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate, loc_prefix",
    [
        (lambda r: r["events"][0]["fatalities"].update(best=True), ["body", "events", 0]),
        (lambda r: r["events"][0]["fatalities"].update(best=-1), ["body", "events", 0]),
        (lambda r: r["events"][0]["fatalities"].update(best="2"), ["body", "events", 0]),
        (lambda r: r["events"][0].update(date_start=0), ["body", "events", 0]),
        (lambda r: r["events"][0].update(date_start="18/04/2018"), ["body", "events", 0]),
        (lambda r: r["events"][0].update(date_end="2018-04-01"), ["body", "events", 0]),
        (lambda r: r["events"][0].update(geo_precision=4), ["body", "events", 0]),
        (lambda r: r["events"][0].update(status="retracted"), ["body", "events", 0]),
        (lambda r: r["article"].update(title="nul\x00byte"), ["body", "article", "title"]),
        (lambda r: r["article"].update(id=5), ["body", "article", "id"]),
        (lambda r: r["article"].update(url="javascript:alert(1)"), ["body", "article", "url"]),
        (lambda r: r.update(extra=1), ["body", "extra"]),
        (lambda r: r["events"][0]["place"].update(latitude=91, longitude=0), ["body", "events", 0]),
        (lambda r: r["events"][0]["place"].update(latitude=30), ["body", "events", 0]),
    ],
)
def test_strict_input_is_422(
    client: TestClient, engine: Engine, mutate: Any, loc_prefix: list[Any]
) -> None:
    report = small_report()
    mutate(report)
    before = row_counts(engine)
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert any(loc[: len(loc_prefix)] == loc_prefix for loc in error_locs(body)), body
    assert row_counts(engine) == before


def test_lone_surrogate_is_422(client: TestClient) -> None:
    raw = small_report()
    import json

    text = json.dumps(raw).replace("Shelling in al-Bab", "Shelling \\ud800 in al-Bab")
    response = client.post(
        "/v1/reports", content=text, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/reports", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, type_suffix="malformed-json")


def test_oversized_body_is_413(client: TestClient) -> None:
    report = small_report(body="x" * 6_000_000)
    assert_problem(client.post("/v1/reports", json=report), 413)


def test_duplicate_keys_are_422(client: TestClient) -> None:
    report = small_report()
    report["quotes"].append({"key": "q1", "text": "Shelling hit al-Bab"})
    body = assert_problem(client.post("/v1/reports", json=report), 422)
    assert "duplicate_key" in [e["type"] for e in body["errors"]]


def test_created_place_gets_closure_and_country_from_parent(
    client: TestClient, engine: Engine
) -> None:
    response = client.post("/v1/reports", json=small_report())
    places = {p["name"]: p["id"] for p in response.json()["places"]}
    with engine.connect() as conn:
        country = conn.execute(
            select(Place.country).where(Place.id == places["al-Bab"])
        ).scalar_one()
    assert country == "SY"
    detail = client.get(f"/v1/places/{places['al-Bab']}").json()
    assert [a["name"] for a in detail["ancestors"]] == ["Syria"]
