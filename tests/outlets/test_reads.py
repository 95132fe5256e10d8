"""Reads of outlets on the demo data."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_outlets(client: TestClient, demo: dict[str, Any]) -> None:
    (outlet,) = client.get("/v1/outlets", params={"name": "syria direct"}).json()["data"]
    detail = client.get(f"/v1/outlets/{outlet['id']}").json()
    assert detail["article_count"] == 1
    assert detail["domain"] == "syriadirect.org"
