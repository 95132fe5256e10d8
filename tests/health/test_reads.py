"""GET /healthz."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    # A fresh database is at data version 1; no replicas are configured.
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "data_version": 1,
        "replicas": [],
    }
