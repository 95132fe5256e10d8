"""GET /v1/changes: the change feed, in commit order, with cursors a copy can follow."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.changes.schemas import encode_position
from app.core.pagination import encode_cursor
from app.db.session import read_session
from app.models import EventChange
from tests.helpers import assert_problem, error_locs
from tests.reports.test_reports import small_report


def feed(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["next_cursor"], str) and body["next_cursor"]
    return body


def all_events(client: TestClient) -> dict[int, dict[str, Any]]:
    """Every event, retracted ones too, as GET /v1/events lists them (all pages)."""
    rows: dict[int, dict[str, Any]] = {}
    params: dict[str, Any] = {"include_retracted": "true", "limit": 1000, "sort": "id"}
    while True:
        response = client.get("/v1/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        rows.update((row["id"], row) for row in page["data"])
        if page["next_cursor"] is None:
            return rows
        params["cursor"] = page["next_cursor"]


def keys(body: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(c["version"], c["event_id"], c["action"]) for c in body["data"]]


def logged_changes(engine: Engine) -> list[tuple[int, int]]:
    with read_session(engine) as session:
        return [
            (int(v), int(e))
            for v, e in session.execute(
                select(EventChange.version, EventChange.event_id).order_by(
                    EventChange.version, EventChange.event_id
                )
            )
        ]


def test_empty_feed_still_says_where_to_poll_from(client: TestClient) -> None:
    body = feed(client)
    assert body["data"] == []
    # No event yet, yet the version is past 0 (the migration, the test's key): the cursor is
    # already past it, so the next poll does not look at those versions again.
    assert body["next_cursor"] == encode_position((body["data_version"], None))
    again = feed(client, since=body["next_cursor"])
    assert again == body
    assert feed(client, since="0") == body
    assert feed(client, since=str(body["data_version"])) == body


def test_cursor_round_trips_in_commit_order(client: TestClient, demo: dict[str, Any]) -> None:
    events = sorted(demo["events"].values())
    first = feed(client, limit=3)
    v = first["data_version"]  # the demo report's version: its four events in one commit
    assert keys(first) == [(v, e, "created") for e in events[:3]]
    assert first["next_cursor"] == encode_position((v, events[2]))  # a split version resumes
    second = feed(client, since=first["next_cursor"], limit=3)
    assert keys(second) == [(v, events[3], "created")]
    # A short page has seen the whole of the current version: its cursor is past it.
    assert second["next_cursor"] == encode_position((v, None))
    assert feed(client, since=second["next_cursor"])["data"] == []

    # Each entry carries the event's row exactly as the list has it.
    listed = all_events(client)
    for change in first["data"] + second["data"]:
        assert change["event"] == listed[change["event_id"]]
        assert change["changed_at"].endswith("Z")

    # An edit and a retraction come next, each under its own version, with the current rows.
    edited, retracted = events[1], events[2]
    tag = client.get(f"/v1/events/{edited}").headers["etag"]
    assert (
        client.patch(
            f"/v1/events/{edited}", json={"fatalities_best": 7}, headers={"If-Match": tag}
        ).status_code
        == 200
    )
    assert (
        client.delete(f"/v1/events/{retracted}", params={"reason": "duplicate"}).status_code == 200
    )
    third = feed(client, since=second["next_cursor"])
    assert keys(third) == [(v + 1, edited, "updated"), (v + 2, retracted, "retracted")]
    assert third["data_version"] == v + 2
    listed = all_events(client)
    assert third["data"][0]["event"] == listed[edited]
    assert third["data"][0]["event"]["fatalities_best"] == 7
    assert third["data"][1]["event"]["status"] == "retracted"
    assert third["data"][1]["event"] == listed[retracted]
    assert third["next_cursor"] == encode_position((v + 2, None))


def test_since_a_data_version(client: TestClient, demo: dict[str, Any]) -> None:
    events = sorted(demo["events"].values())
    v = feed(client)["data_version"]
    tag = client.get(f"/v1/events/{events[0]}").headers["etag"]
    client.patch(f"/v1/events/{events[0]}", json={"summary": "x"}, headers={"If-Match": tag})
    assert [k[:2] for k in keys(feed(client, since="0"))] == [(v, e) for e in events] + [
        (v + 1, events[0])
    ]
    assert keys(feed(client, since=str(v))) == [(v + 1, events[0], "updated")]
    caught_up = feed(client, since=str(v + 1))
    assert caught_up["data"] == [] and caught_up["data_version"] == v + 1
    assert caught_up["next_cursor"] == encode_position((v + 1, None))
    # The version a list reflects (its Data-Version header) is where a copy taken from it
    # starts following the feed.
    version = client.get("/v1/events").headers["data-version"]
    assert feed(client, since=version)["data"] == []


def test_a_write_that_changes_no_event_moves_the_cursor_on(
    client: TestClient, demo: dict[str, Any]
) -> None:
    before = feed(client)
    response = client.post(
        "/v1/actors", json={"name": "A Brand New Brigade", "kind": "rebel_group", "country": "SY"}
    )
    assert response.status_code == 201, response.text
    after = feed(client, since=before["next_cursor"])
    assert after["data"] == [] and after["data_version"] == before["data_version"] + 1
    assert after["next_cursor"] == encode_position((after["data_version"], None))


@pytest.mark.parametrize(
    "since",
    [
        "abc",
        "",
        "-1",
        "1.5",
        "9223372036854775808",  # beyond BIGINT
        "99999999999999999999",
        encode_cursor("id", [1]),  # a cursor of another list
        encode_cursor("changes", [1]),
        encode_cursor("changes", [-1, None]),
        encode_cursor("changes", [1, 0]),
        encode_cursor("changes", [1, 2**31]),
        encode_cursor("changes", [True, None]),
        encode_cursor("changes", ["1", None]),
        encode_cursor("changes", [1.0, None]),
    ],
)
def test_a_bad_since_is_a_422(client: TestClient, since: str) -> None:
    body = assert_problem(client.get("/v1/changes", params={"since": since}), 422)
    assert ["query", "since"] in error_locs(body)


def test_since_ahead_of_the_database_is_a_422(client: TestClient, demo: dict[str, Any]) -> None:
    v = feed(client)["data_version"]
    for since in (str(v + 1), encode_position((v + 5, 1))):
        body = assert_problem(client.get("/v1/changes", params={"since": since}), 422)
        assert ["query", "since"] in error_locs(body)
        assert "ahead" in body["detail"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"colour": "red"}, {"cursor": "x"}],
)
def test_bad_parameters_are_a_422(client: TestClient, params: dict[str, Any]) -> None:
    assert_problem(client.get("/v1/changes", params=params), 422)


def test_openapi_describes_every_parameter_with_an_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/changes"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"since", "limit", "country", "dimension", "actor"} <= set(params)
    for param in params.values():
        assert param["description"]
        assert param["schema"].get("examples") or param.get("examples"), param
    assert {"200", "422", "503"} <= set(operation["responses"])


# -- concurrent writers, one reader --------------------------------------------------------------

POSTERS, REPORTS_EACH = 3, 8
EDITORS, EDITS_EACH = 2, 12
RETRACTIONS = 6


def two_event_report(url: str) -> dict[str, Any]:
    doc = small_report(url=url)
    second = dict(doc["events"][0], key="e2", date_start="2018-04-15")
    second["fatalities"] = {"best": 1}
    doc["events"].append(second)
    return doc


def test_a_reader_polling_during_concurrent_writes_converges(
    client: TestClient, engine: Engine
) -> None:
    """Writers post reports, edit and retract events (with If-Match) while a reader follows
    the feed in small pages: the reader's copy ends equal to the list, it saw every logged
    change exactly once, in order."""
    known: list[int] = []
    lock = threading.Lock()
    failures: list[str] = []
    writers_done = threading.Event()

    def fail(what: str) -> None:
        with lock:
            failures.append(what)

    def pick(rng: random.Random) -> int | None:
        with lock:
            return rng.choice(known) if known else None

    def poster(n: int) -> None:
        for i in range(REPORTS_EACH):
            response = client.post(
                "/v1/reports", json=two_event_report(f"https://example.org/feed/{n}/{i}")
            )
            if response.status_code != 201:
                fail(f"POST: {response.status_code} {response.text}")
                return
            with lock:
                known.extend(response.json()["events"].values())

    def editor(n: int) -> None:
        rng = random.Random(n)
        done = 0
        while done < EDITS_EACH:
            event_id = pick(rng)
            if event_id is None:
                time.sleep(0.01)
                continue
            tag = client.get(f"/v1/events/{event_id}").headers["etag"]
            response = client.patch(
                f"/v1/events/{event_id}",
                json={"fatalities_best": rng.randint(0, 50), "summary": f"edit {n}-{done}"},
                headers={"If-Match": tag},
            )
            if response.status_code not in (200, 409, 412):  # 409: retracted meanwhile
                fail(f"PATCH: {response.status_code} {response.text}")
                return
            done += 1

    def retractor() -> None:
        rng = random.Random(99)
        done = 0
        while done < RETRACTIONS:
            event_id = pick(rng)
            if event_id is None:
                time.sleep(0.01)
                continue
            tag = client.get(f"/v1/events/{event_id}").headers["etag"]
            response = client.delete(
                f"/v1/events/{event_id}", params={"reason": "duplicate"}, headers={"If-Match": tag}
            )
            if response.status_code not in (200, 409, 412):
                fail(f"DELETE: {response.status_code} {response.text}")
                return
            done += 1

    copy: dict[int, dict[str, Any]] = {}
    seen: list[tuple[int, int]] = []
    pages_with_changes = 0

    def poll(cursor: str | None) -> tuple[str, bool]:
        """One page applied to the copy; (next cursor, whether the copy caught up)."""
        nonlocal pages_with_changes
        params: dict[str, Any] = {"limit": 7}
        if cursor is not None:
            params["since"] = cursor
        body = feed(client, **params)
        for change in body["data"]:
            seen.append((change["version"], change["event_id"]))
            copy[change["event_id"]] = change["event"]
        pages_with_changes += bool(body["data"])
        return body["next_cursor"], len(body["data"]) < 7

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(POSTERS)]
    threads += [threading.Thread(target=editor, args=(n,)) for n in range(EDITORS)]
    threads.append(threading.Thread(target=retractor))
    for thread in threads:
        thread.start()

    def wait_for_writers() -> None:
        for thread in threads:
            thread.join()
        writers_done.set()

    waiter = threading.Thread(target=wait_for_writers)
    waiter.start()
    cursor: str | None = None
    while not writers_done.is_set():
        cursor, caught_up = poll(cursor)
        if caught_up:
            time.sleep(0.005)
    waiter.join()
    caught_up = False
    while not caught_up:
        cursor, caught_up = poll(cursor)

    assert not failures, failures
    assert seen == sorted(set(seen)), "versions did not strictly increase across the pages"
    assert seen == logged_changes(engine), "the reader skipped or repeated a change"
    assert copy == all_events(client)
    assert len(copy) == POSTERS * REPORTS_EACH * 2
    assert any(row["status"] == "retracted" for row in copy.values())
    # Events the editors missed have no summary: `or ""`, not a crash on the first of them.
    assert any((row["summary"] or "").startswith("edit ") for row in copy.values())
    # The reader really followed the writes as they happened, not all at the end.
    assert pages_with_changes > POSTERS * REPORTS_EACH * 2 // 7
