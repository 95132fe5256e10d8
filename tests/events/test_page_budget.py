"""A list page has a byte budget: with include=sources, a page whose evidence would pass
CONFLICTDB_PAGE_MAX_BYTES is cut short with a next_cursor (never built whole), and the cursor
carries on to every event; a stream's pages shrink the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.reports.test_reports import small_report

EVENTS = 5
QUOTE = 40_000


@pytest.fixture
def small_pages(database_url: str, write_key: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
        page_max_bytes=100_000,
    )
    with TestClient(
        create_app(settings), headers={"Authorization": f"Bearer {write_key}"}
    ) as client:
        for n in range(EVENTS):
            text = f"{n} " + "x" * QUOTE
            report = small_report(url=f"https://example.org/long/{n}", body=text + " said.")
            report["quotes"] = [{"key": "q1", "text": text}]
            response = client.post("/v1/reports", json=report)
            assert response.status_code == 201, response.text
        yield client


def test_pages_with_sources_are_cut_to_the_budget(small_pages: TestClient) -> None:
    plain = small_pages.get("/v1/events", params={"limit": 10}).json()
    assert len(plain["data"]) == EVENTS and plain["next_cursor"] is None
    ids: list[int] = []
    params: dict[str, str | int] = {"limit": 10, "include": "sources"}
    pages = 0
    while True:
        response = small_pages.get("/v1/events", params=params)
        assert response.status_code == 200
        assert len(response.content) < 100_000 + QUOTE * 2
        body = response.json()
        assert body["data"], "a page always moves on"
        ids += [e["id"] for e in body["data"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert pages > 1
    assert sorted(ids) == sorted(e["id"] for e in plain["data"])
    assert len(ids) == len(set(ids))


def test_streams_hold_the_same_budget(small_pages: TestClient) -> None:
    response = small_pages.get("/v1/events", params={"format": "ndjson", "include": "sources"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == EVENTS
    assert all(len(e["sources"][0]["quotes"][0]["text"]) == QUOTE + 2 for e in lines)
