"""Limits: the per-key rate limit (429 with RateLimit headers) and 503 when the database is down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import assert_problem


def test_rate_limit_per_key(database_url: str, write_key: str) -> None:
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=5,
    )
    with TestClient(create_app(settings)) as client:
        keyed = {"Authorization": f"Bearer {write_key}"}
        statuses = [client.get("/v1/events", headers=keyed).status_code for _ in range(5)]
        assert statuses == [200] * 5
        ok = client.get("/v1/vocabulary")  # anonymous: its own bucket
        assert ok.status_code == 200
        assert ok.headers["ratelimit-policy"] == '"default";q=5;w=60'
        assert ok.headers["ratelimit"].startswith('"default";r=4;')
        limited = client.get("/v1/events", headers=keyed)
        body = assert_problem(limited, 429, type_suffix="rate-limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert "5 requests a minute" in body["detail"]
        assert client.get("/healthz").status_code == 200  # health checks are not limited


def test_database_down_is_503_with_retry_after() -> None:
    # Nothing listens on port 1: every connection attempt fails at once.
    settings = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/conflictdb",
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/v1/events", "/v1/events/1", "/healthz"):
            response = client.get(path)
            body = assert_problem(response, 503)
            assert response.headers["retry-after"]
            assert "Traceback" not in response.text
            assert body["type"].endswith("service-unavailable")
