"""Reads of actors on the demo data: names through aliases, details."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


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
