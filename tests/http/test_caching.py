"""ETags from the data version on collection reads, 304s, and the stats answer cache."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

import app.events.service
import app.stats.service
from app import derived
from app.auth.dependencies import read_access
from app.config import Settings
from app.db.session import create_db_engine
from app.http.caching import CachingMiddleware, ResponseCache, matches
from app.main import create_app
from tests.conftest import make_key
from tests.helpers import assert_problem
from tests.reports.test_reports import small_report

COLLECTIONS = [
    "/v1/events",
    "/v1/events?format=csv",
    "/v1/events?format=geojson",
    "/v1/events?format=ndjson",
    "/v1/actors",
    "/v1/places",
    "/v1/articles",
    "/v1/outlets",
    "/v1/quotes",
    "/v1/vocabulary",
    "/v1/changes",
    "/v1/stats/events?interval=month",
    "/v1/stats/places",
]


@pytest.fixture
def app_with(settings: Settings, write_key: str) -> Iterator[Callable[..., TestClient]]:
    """Apps on the test database with some settings changed, each with the write key."""
    clients: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        test_client = TestClient(
            create_app(settings.model_copy(update=changes)),
            headers={"Authorization": f"Bearer {write_key}"},
        )
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def vary(response: Response) -> set[str]:
    return {token.strip().lower() for token in response.headers.get("vary", "").split(",")}


def assert_not_modified(response: Response, etag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers


class Calls:
    """Counts the calls of a module function, still calling it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.count = 0
        original = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def post_report(client: TestClient, n: int) -> None:
    response = client.post("/v1/reports", json=small_report(url=f"https://example.org/c/{n}"))
    assert response.status_code == 201, response.text


# -- ETags and 304 -------------------------------------------------------------------------------


def test_list_etag_revalidates_to_304_without_running_the_query(
    client: TestClient, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = Calls(monkeypatch, app.events.service, "list_page")
    first = client.get("/v1/events")
    assert first.status_code == 200
    etag = first.headers["etag"]
    version = int(first.headers["data-version"])
    assert etag.startswith(f'W/"{version}-')
    # The client's key has the curate scope: its answers may name protected speakers, so
    # they are private to it.
    assert first.headers["cache-control"] == "private, no-cache"
    assert {"accept", "accept-encoding"} <= vary(first)
    assert pages.count == 1

    again = client.get("/v1/events", headers={"If-None-Match": etag})
    assert_not_modified(again, etag)
    assert again.headers["data-version"] == str(version)
    assert again.headers["cache-control"] == "private, no-cache"
    assert {"accept", "accept-encoding"} <= vary(again)
    assert pages.count == 1  # answered without the query
    # Weak comparison: with or without W/, among other tags.
    for header in (etag.removeprefix("W/"), f'"other", {etag}', f'W/"x",{etag}'):
        assert_not_modified(client.get("/v1/events", headers={"If-None-Match": header}), etag)
    assert pages.count == 1

    # A write makes the tag stale: a full answer with a newer tag, never a 304.
    post_report(client, 1)
    fresh = client.get("/v1/events", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert int(fresh.headers["data-version"]) > version
    assert len(fresh.json()["data"]) == len(first.json()["data"]) + 1
    assert_not_modified(
        client.get("/v1/events", headers={"If-None-Match": fresh.headers["etag"]}),
        fresh.headers["etag"],
    )


def test_if_none_match_star_and_strangers_get_the_full_answer(
    client: TestClient, demo: dict[str, Any]
) -> None:
    for header in ("*", '"nope"', "", 'W/"1-0000000000000000"'):
        response = client.get("/v1/events", headers={"If-None-Match": header})
        assert response.status_code == 200, header
        assert response.json()["data"]


@pytest.mark.parametrize("path", COLLECTIONS)
def test_every_collection_read_has_an_etag_and_revalidates(
    client: TestClient, demo: dict[str, Any], path: str
) -> None:
    first = client.get(path)
    assert first.status_code == 200, first.text
    assert first.headers["etag"].startswith("W/")
    assert first.headers["data-version"].isdigit()
    assert_not_modified(
        client.get(path, headers={"If-None-Match": first.headers["etag"]}), first.headers["etag"]
    )


def test_the_etag_names_the_representation(client: TestClient, demo: dict[str, Any]) -> None:
    def tag(path: str, **headers: str) -> str:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.headers["etag"]

    tags = [
        tag("/v1/events"),
        tag("/v1/events?limit=2"),
        tag("/v1/events?limit=3"),
        tag("/v1/events", accept="text/csv"),
        tag("/v1/events", accept="application/geo+json"),
        tag("/v1/actors"),
        tag("/v1/stats/events"),
        tag("/v1/stats/events?format=csv"),
    ]
    assert len(set(tags)) == len(tags)
    assert tag("/v1/events?limit=2") == tags[1]  # and stays the same while nothing is written
    # A tag of one representation never validates another.
    response = client.get("/v1/events?limit=3", headers={"If-None-Match": tags[1]})
    assert response.status_code == 200
    response = client.get("/v1/events", headers={"If-None-Match": tags[0], "accept": "text/csv"})
    assert response.status_code == 200 and response.text.startswith("id,")


def test_streamed_exports_are_whole_and_revalidate(
    client: TestClient, demo: dict[str, Any]
) -> None:
    response = client.get("/v1/events?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(demo["events"].values())
    assert response.headers["content-disposition"].startswith("attachment")
    assert_not_modified(
        client.get("/v1/events?format=csv", headers={"If-None-Match": response.headers["etag"]}),
        response.headers["etag"],
    )


def test_errors_carry_no_etag(client: TestClient, demo: dict[str, Any]) -> None:
    etag = client.get("/v1/events").headers["etag"]
    for response in (
        client.get("/v1/events?colour=red", headers={"If-None-Match": etag}),
        client.get("/v1/events?limit=0"),
        client.get("/v1/events", headers={"accept": "image/png"}),  # 406
        client.get("/v1/changes?since=nonsense"),
        client.get("/v1/stats/events?group_by=colour"),
    ):
        assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500
        assert "etag" not in response.headers
        # The version the refusal was made at is still said (app.http.observe): a 404 from a
        # replica tells the client how fresh "not there" is.
        assert response.headers["data-version"] == etag.split('"')[1].split("-")[0]


def test_single_records_keep_their_own_etags(client: TestClient, demo: dict[str, Any]) -> None:
    event_id = min(demo["events"].values())
    response = client.get(f"/v1/events/{event_id}")
    assert response.headers["etag"] == f'"event-{event_id}-v1"'
    # Issue 12: the exact data version it was read at (the lists' current one, nothing
    # having been written since).
    listed = client.get("/v1/events")
    assert response.headers["data-version"] == listed.headers["data-version"]
    # If-None-Match is not handled there: the record comes whole.
    again = client.get(
        f"/v1/events/{event_id}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 200 and again.json()["id"] == event_id
    # Sub-collections and the keys list are not data-version collections.
    for path in (f"/v1/events/{event_id}/history", "/v1/actors/1/aliases"):
        response = client.get(path)
        assert response.status_code == 200
        assert "etag" not in response.headers
    # If-Match on an edit still takes the record's ETag.
    tag = client.get(f"/v1/events/{event_id}").headers["etag"]
    response = client.patch(
        f"/v1/events/{event_id}", json={"fatalities_best": 1}, headers={"If-Match": tag}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == f'"event-{event_id}-v2"'


def test_cache_control_is_a_setting(app_with: Callable[..., TestClient]) -> None:
    client = app_with(cache_control="private, max-age=30")
    first = client.get("/v1/vocabulary")
    assert first.headers["cache-control"] == "private, max-age=30"
    again = client.get("/v1/vocabulary", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, max-age=30"
    with pytest.raises(ValidationError):
        Settings(cache_control="no-cache\r\nX-Evil: 1")
    with pytest.raises(ValidationError):
        Settings(cache_control="")


def test_304_counts_against_the_rate_limit(app_with: Callable[..., TestClient]) -> None:
    client = app_with(rate_limit_per_minute=3)
    first = client.get("/v1/vocabulary")
    etag = first.headers["etag"]
    for _ in range(2):
        response = client.get("/v1/vocabulary", headers={"If-None-Match": etag})
        assert_not_modified(response, etag)
        assert "ratelimit" in response.headers
    assert_problem(client.get("/v1/vocabulary", headers={"If-None-Match": etag}), 429)


def test_no_304_for_a_request_the_route_would_refuse(
    app_with: Callable[..., TestClient], database_url: str
) -> None:
    client = app_with(auth_reads=True)
    reader = make_key(database_url, ["read"], name="reader")
    first = client.get("/v1/events", headers={"Authorization": f"Bearer {reader}"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    anonymous = TestClient(client.app)
    refused = anonymous.get("/v1/events", headers={"If-None-Match": etag})
    assert_problem(refused, 401)
    assert "etag" not in refused.headers
    for key in ("cdb_nonsense", ""):
        response = anonymous.get(
            "/v1/events", headers={"If-None-Match": etag, "Authorization": f"Bearer {key}"}
        )
        assert_problem(response, 401)
    assert_not_modified(
        anonymous.get(
            "/v1/events", headers={"If-None-Match": etag, "Authorization": f"Bearer {reader}"}
        ),
        etag,
    )
    # With open reads, a key that is sent is still checked.
    open_reads = TestClient(app_with().app)
    assert_problem(
        open_reads.get(
            "/v1/events", headers={"If-None-Match": etag, "Authorization": "Bearer cdb_nonsense"}
        ),
        401,
    )


# -- the stats cache -----------------------------------------------------------------------------


def test_stats_answers_come_from_memory_until_the_next_write(
    client: TestClient, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = Calls(monkeypatch, app.stats.service, "event_stats")
    cache = client.app.state.stats_cache  # type: ignore[attr-defined]
    assert cache is not None and cache.max_entries == 256
    path = "/v1/stats/events?interval=month&group_by=event_type"
    first = client.get(path)
    assert first.status_code == 200 and queries.count == 1
    assert (cache.hits, cache.misses) == (0, 1)
    second = client.get(path)
    assert queries.count == 1 and (cache.hits, cache.misses) == (1, 1)
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert second.headers["data-version"] == first.headers["data-version"]
    assert {"accept", "accept-encoding"} <= vary(second)

    # Another query, another format, another Accept: other entries.
    for other in (path + "&country=SY", path + "&format=csv"):
        assert client.get(other).status_code == 200
    client.get(path, headers={"accept": "application/json, text/plain"})
    assert queries.count == 4
    assert client.get(path + "&format=csv").text.startswith("bucket,")
    assert queries.count == 4

    # After a write, the next answer is computed again, and counts the new event.
    post_report(client, 1)
    third = client.get(path)
    assert queries.count == 5
    assert third.headers["etag"] != first.headers["etag"]
    total = sum(row["count"] for row in third.json()["data"])
    assert total == sum(row["count"] for row in first.json()["data"]) + 1
    assert len(cache) == 1  # the older version's entries are gone


def test_the_stats_cache_is_a_bounded_lru(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(stats_cache_size=2)
    queries = Calls(monkeypatch, app.stats.service, "event_stats")
    a, b, c = (f"/v1/stats/events?interval={i}" for i in ("year", "month", "week"))
    for path in (a, b, a, c, a, b):  # c pushes out b (a was used more recently)
        assert client.get(path).status_code == 200
    assert queries.count == 4
    assert len(client.app.state.stats_cache) == 2  # type: ignore[attr-defined]


def test_stats_cache_size_zero_is_off(
    app_with: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(stats_cache_size=0)
    assert client.app.state.stats_cache is None  # type: ignore[attr-defined]
    queries = Calls(monkeypatch, app.stats.service, "event_stats")
    answers = [client.get("/v1/stats/events") for _ in range(3)]
    assert queries.count == 3
    assert len({r.headers["etag"] for r in answers}) == 1  # ETags stay on
    assert (
        client.get(
            "/v1/stats/events", headers={"If-None-Match": answers[0].headers["etag"]}
        ).status_code
        == 304
    )


def test_a_cached_answer_goes_only_to_a_request_allowed_to_read(
    app_with: Callable[..., TestClient], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(auth_reads=True)
    reader = make_key(database_url, ["read"], name="reader")
    queries = Calls(monkeypatch, app.stats.service, "event_stats")
    assert (
        client.get("/v1/stats/events", headers={"Authorization": f"Bearer {reader}"}).status_code
        == 200
    )
    anonymous = TestClient(client.app)
    assert_problem(anonymous.get("/v1/stats/events"), 401)
    assert client.get("/v1/stats/events").status_code == 200  # the write key may read
    assert queries.count == 1


# -- the middleware alone: streams pass through -------------------------------------------------


def test_a_streamed_answer_is_passed_on_chunk_by_chunk_and_not_kept(
    database_url: str, settings: Settings
) -> None:
    """Each chunk reaches the server before the next is produced: nothing is gathered, even
    on a path whose answers are cached."""
    events: list[str] = []

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        for i in range(3):
            events.append(f"made {i}")
            await send({"type": "http.response.body", "body": b"[%d]" % i, "more_body": i < 2})

    cache = ResponseCache(8)
    middleware = CachingMiddleware(
        streaming,
        cache_control="no-cache",
        stats_cache=cache,
        salt="t",
        read_version=lambda request: derived.read_version(engine),
        may_read=read_access,
    )
    owner = Starlette()
    engine = create_db_engine(database_url)
    owner.state.engine = engine
    owner.state.settings = settings
    sent: list[Message] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            events.append(f"sent {message['body'].decode()}")
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/stats/stream",
        "query_string": b"",
        "headers": [],
        "app": owner,
    }
    try:
        for _ in range(2):
            events.clear()
            sent.clear()
            anyio.run(middleware, scope, receive, send)
            assert events == ["made 0", "sent [0]", "made 1", "sent [1]", "made 2", "sent [2]"]
            headers = dict(sent[0]["headers"])
            assert headers[b"etag"].startswith(b'W/"')
        assert len(cache) == 0
    finally:
        engine.dispose()


def test_matches_compares_weakly() -> None:
    assert matches('W/"3-ab"', 'W/"3-ab"')
    assert matches('"3-ab"', 'W/"3-ab"')
    assert matches('"x", W/"3-ab"', 'W/"3-ab"')
    assert not matches('W/"3-abc"', 'W/"3-ab"')
    assert not matches("*", 'W/"3-ab"')
