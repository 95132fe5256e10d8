"""Reads of quotes on the demo data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


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
