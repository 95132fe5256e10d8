"""Reproducible reads (issue 12): as_of on lists, details, stats and exports; GET
/v1/events/diff; the 422s of versions and times out of range. On both databases."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import assert_problem, error_locs
from tests.writer.helpers import etag_of

SYRIA = {"name": "Syria", "kind": "country", "country": "SY"}
IDLIB = {"name": "Idlib", "kind": "admin1", "parent": SYRIA}
HAMA = {"name": "Hama", "kind": "admin1", "parent": SYRIA}
BODY = "Shelling killed people near the town, a doctor said."
# The client holds a key: its answers are private, and as_of's still immutable.
IMMUTABLE = "private, max-age=31536000, immutable"


def post(client: TestClient, n: int, events: list[dict[str, Any]], outlet: str = "Wire A") -> Any:
    response = client.post(
        "/v1/reports",
        json={
            "article": {
                "url": f"https://{outlet.lower().replace(' ', '')}.example/{n}",
                "title": f"Report {n}",
                "published_date": "2020-02-01",
                "outlet": {"name": outlet},
                "body": BODY,
            },
            "quotes": [{"key": "q", "text": "Shelling killed people near the town"}],
            "events": events,
        },
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def event(place: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "key": "e",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "date_start": "2020-02-01",
        "place": place,
        "quotes": ["q"],
        **extra,
    }


def version(client: TestClient) -> int:
    return int(client.get("/v1/events?limit=1").headers["Data-Version"])


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def edit(client: TestClient, event_id: int, **patch: Any) -> None:
    path = f"/v1/events/{event_id}"
    response = client.patch(path, json=patch, headers={"If-Match": etag_of(client, path)})
    assert response.status_code == 200, response.text


def test_a_list_detail_stats_and_exports_as_of_a_version_are_what_they_were(
    client: TestClient,
) -> None:
    first = post(client, 1, [event(IDLIB, summary="first words")])["events"]["e"]
    v1 = version(client)
    list_then = client.get("/v1/events").json()
    detail_then = client.get(f"/v1/events/{first}").json()
    stats_then = client.get("/v1/stats/events?group_by=event_type").json()
    csv_then = client.get("/v1/events?format=csv").text
    geojson_then = client.get("/v1/events?format=geojson").json()

    second = post(
        client, 2, [event(HAMA, event_type="Protests", sub_event_type="Peaceful protest")]
    )["events"]["e"]
    edit(client, first, summary="other words", date_start="2020-03-01", date_end="2020-03-01")
    path = f"/v1/events/{second}"
    client.delete(
        path, params={"reason": "a duplicate"}, headers={"If-Match": etag_of(client, path)}
    )
    assert client.get("/v1/events").json() != list_then

    listed = client.get(f"/v1/events?as_of={v1}")
    assert listed.json() == list_then
    assert listed.headers["Data-Version"] == str(v1)
    assert listed.headers["Cache-Control"] == IMMUTABLE
    detail = client.get(f"/v1/events/{first}?as_of={v1}")
    assert detail.json() == detail_then
    assert detail.headers["Data-Version"] == str(v1)
    assert detail.headers["Cache-Control"] == IMMUTABLE
    assert client.get(f"/v1/events/{first}").json()["summary"] == "other words"
    stats = client.get(f"/v1/stats/events?group_by=event_type&as_of={v1}")
    assert stats.json() == stats_then
    assert stats.headers["Data-Version"] == str(v1)
    assert client.get(f"/v1/events?format=csv&as_of={v1}").text == csv_then
    assert client.get(f"/v1/events?format=geojson&as_of={v1}").json() == geojson_then
    # Before it existed: no such event then.
    assert_problem(client.get(f"/v1/events/{second}?as_of={v1}"), 404)


def test_an_rfc_3339_time_reads_the_last_version_committed_by_then(client: TestClient) -> None:
    post(client, 1, [event(IDLIB)])
    v1 = version(client)
    then = client.get(f"/v1/events?as_of={v1}").json()
    import datetime as dt

    stamp = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    post(client, 2, [event(HAMA)])
    at_time = client.get(f"/v1/events?as_of={stamp}")
    assert at_time.headers["Data-Version"] == str(v1)
    assert at_time.json() == then


def test_the_place_hierarchy_and_merged_actors_are_read_as_they_were(client: TestClient) -> None:
    army = {"actor": {"name": "Army", "kind": "state_forces", "country": "SY"}, "side": "a"}
    troops = {"actor": {"name": "Troops", "kind": "state_forces", "country": "SY"}, "side": "a"}
    created = post(
        client,
        1,
        [event({"name": "Saraqib", "kind": "populated_place", "parent": IDLIB}, actors=[troops])],
    )
    event_id = created["events"]["e"]
    post(client, 2, [event(HAMA, actors=[army])])
    idlib = client.get("/v1/places?name=Idlib").json()["data"][0]["id"]
    hama = client.get("/v1/places?name=Hama").json()["data"][0]["id"]
    saraqib = client.get("/v1/places?name=Saraqib").json()["data"][0]["id"]
    troops_id = client.get("/v1/actors?name=Troops").json()["data"][0]["id"]
    army_id = client.get("/v1/actors?name=Army").json()["data"][0]["id"]
    v1 = version(client)
    assert event_id in ids(client.get(f"/v1/events?place={idlib}"))

    # Saraqib moves into Hama; Troops merge into Army.
    path = f"/v1/places/{saraqib}"
    moved = client.patch(
        path, json={"parent_id": hama}, headers={"If-Match": etag_of(client, path)}
    )
    assert moved.status_code == 200, moved.text
    merged = client.post(f"/v1/actors/{troops_id}/merge", json={"into": army_id})
    assert merged.status_code == 200, merged.text
    assert event_id not in ids(client.get(f"/v1/events?place={idlib}"))
    assert event_id in ids(client.get(f"/v1/events?actor={troops_id}"))  # now: the survivor's

    assert event_id in ids(client.get(f"/v1/events?place={idlib}&as_of={v1}"))
    assert event_id not in ids(client.get(f"/v1/events?place={hama}&as_of={v1}"))
    # Then, Troops had their own events and Army did not have this one.
    assert ids(client.get(f"/v1/events?actor={troops_id}&as_of={v1}")) == [event_id]
    assert event_id not in ids(client.get(f"/v1/events?actor={army_id}&as_of={v1}"))
    chain = client.get(f"/v1/events/{event_id}?as_of={v1}").json()["place"]
    assert chain is not None and str(chain).count("Idlib") >= 1


def test_versions_and_times_out_of_range_are_422_naming_the_range(client: TestClient) -> None:
    post(client, 1, [event(IDLIB)])
    current = version(client)
    for value, words in (
        (str(current + 1), "does not exist yet"),
        ("0", "older than the history kept"),
        ("2000-01-01T00:00:00Z", "before the first version"),
        ("2999-01-01T00:00:00Z", "in the future"),
    ):
        for path in ("/v1/events", "/v1/events/1", "/v1/stats/events"):
            body = assert_problem(client.get(f"{path}?as_of={value}"), 422)
            assert ["query", "as_of"] in error_locs(body), body
            assert words in body["detail"], body["detail"]
            assert f"to {current} (the current one)" in body["detail"]
    body = assert_problem(client.get("/v1/events?as_of=yesterday"), 422)
    assert ["query", "as_of"] in error_locs(body)
    body = assert_problem(client.get("/v1/events?as_of=2020-01-01T00:00:00"), 422)
    assert "UTC offset" in body["detail"]


def test_filters_the_history_cannot_answer_are_refused_under_as_of(client: TestClient) -> None:
    post(client, 1, [event(IDLIB)])
    v = version(client)
    for query, name in (
        ("q=shelling", "q"),
        ("outlet=1", "outlet"),
        ("actor_kind=state_forces", "actor_kind"),
        ("count=incidents", "count"),
    ):
        body = assert_problem(client.get(f"/v1/events?{query}&as_of={v}"), 422)
        assert ["query", name] in error_locs(body), body
        assert "cannot be used with as_of" in body["detail"]


def test_diff_names_what_was_added_removed_and_changed(client: TestClient) -> None:
    kept = post(client, 1, [event(IDLIB, fatalities={"best": 2, "quote": "q"})])["events"]["e"]
    gone = post(client, 2, [event(IDLIB)])["events"]["e"]
    leaving = post(client, 3, [event(IDLIB)])["events"]["e"]
    v1 = version(client)
    new = post(client, 4, [event(HAMA)])["events"]["e"]
    edit(client, kept, summary="edited")
    edit(client, leaving, event_type="Protests", sub_event_type="Peaceful protest")
    path = f"/v1/events/{gone}"
    client.delete(path, params={"reason": "wrong"}, headers={"If-Match": etag_of(client, path)})
    post(client, 5, [{"id": kept, "key": "e", "quotes": ["q"]}], outlet="Wire B")
    v2 = version(client)

    response = client.get(f"/v1/events/diff?from={v1}&to={v2}&event_type=Battles")
    assert response.status_code == 200, response.text
    assert response.headers["Data-Version"] == str(v2)
    assert response.headers["Cache-Control"] == IMMUTABLE
    answer = response.json()
    assert (answer["from"], answer["to"]) == (v1, v2)
    assert answer["added"] == [{"id": new, "created": True}]
    assert sorted((r["id"], r["reason"]) for r in answer["removed"]) == sorted(
        [(gone, "retracted"), (leaving, "left")]
    )
    [changed] = answer["changed"]
    assert changed["id"] == kept
    assert changed["changes"]["summary"] == {"from": None, "to": "edited"}
    assert changed["changes"]["source_count"] == {"from": 1, "to": 2}
    assert len(changed["changes"]["sources"]["to"]) == 2
    assert "version" not in changed["changes"]
    # Nothing between a version and itself.
    same = client.get(f"/v1/events/diff?from={v2}&to={v2}").json()
    assert same["added"] == same["removed"] == same["changed"] == []


def test_diff_with_from_after_to_is_a_422_naming_both(client: TestClient) -> None:
    post(client, 1, [event(IDLIB)])
    post(client, 2, [event(IDLIB)])
    v = version(client)
    body = assert_problem(client.get(f"/v1/events/diff?from={v}&to={v - 1}"), 422)
    assert ["query", "from"] in error_locs(body) and ["query", "to"] in error_locs(body)
    assert "after" in body["detail"]
    body = assert_problem(client.get(f"/v1/events/diff?from=1&to={v + 5}"), 422)
    assert ["query", "to"] in error_locs(body)
    body = assert_problem(client.get(f"/v1/events/diff?from=1&to={v}&as_of={v}"), 422)
    assert ["query", "as_of"] in error_locs(body)
    assert_problem(client.get("/v1/events/diff?to=1"), 422)


def test_csv_of_an_old_version_has_the_old_rows(client: TestClient) -> None:
    first = post(client, 1, [event(IDLIB)])["events"]["e"]
    v1 = version(client)
    edit(client, first, summary="later")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/events?format=csv&as_of={v1}").text)))
    assert [r["notes"] for r in rows] == [""]
    assert [
        r["notes"] for r in csv.DictReader(io.StringIO(client.get("/v1/events?format=csv").text))
    ] == ["later"]
