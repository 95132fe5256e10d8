"""Reads of articles on the demo data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import demo_report


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
