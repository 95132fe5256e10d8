"""Idempotency-Key on POST: replays, misuse, expiry, and 50 racing retries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from app.db.base import utcnow
from app.models import IdempotencyRecord
from tests.conftest import make_key
from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report

KEY = {"Idempotency-Key": "7d3f7a52-0b7e-4a8e-9d5b-2b1c7a1f0c11"}


def test_same_key_same_body_replays_the_stored_response(client: TestClient, engine: Engine) -> None:
    first = client.post("/v1/reports", json=small_report(), headers=KEY)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    before = row_counts(engine)
    again = client.post("/v1/reports", json=small_report(), headers=KEY)
    assert again.status_code == 201  # the original status, not the report-level 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert row_counts(engine) == before


def test_same_key_other_body_is_422(client: TestClient, engine: Engine) -> None:
    client.post("/v1/reports", json=small_report(), headers=KEY)
    before = row_counts(engine)
    other = small_report(url="https://example.org/other")
    assert_problem(
        client.post("/v1/reports", json=other, headers=KEY),
        422,
        type_suffix="idempotency-key-reused",
    )
    assert row_counts(engine) == before


def test_keys_are_scoped_per_api_key(
    client: TestClient, anon_client: TestClient, database_url: str
) -> None:
    client.post("/v1/reports", json=small_report(), headers=KEY)
    other_key = make_key(database_url, ["write"], name="other")
    other = anon_client.post(
        "/v1/reports",
        json=small_report(url="https://example.org/second"),
        headers=KEY | {"Authorization": f"Bearer {other_key}"},
    )
    assert other.status_code == 201  # not a replay of the first key's request
    assert "idempotent-replayed" not in other.headers


def test_expired_keys_are_forgotten(client: TestClient, engine: Engine) -> None:
    client.post("/v1/reports", json=small_report(), headers=KEY)
    with engine.begin() as conn:
        conn.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    # Treated as a new request: the report itself is then recognised as a re-post (200).
    again = client.post("/v1/reports", json=small_report(), headers=KEY)
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers


def test_failed_requests_do_not_burn_the_key(client: TestClient) -> None:
    bad = small_report()
    bad["events"][0]["event_type"] = "Picnic"
    assert_problem(client.post("/v1/reports", json=bad, headers=KEY), 422)
    assert client.post("/v1/reports", json=small_report(), headers=KEY).status_code == 201


def test_invalid_key_header_is_422(client: TestClient) -> None:
    assert_problem(
        client.post("/v1/reports", json=small_report(), headers={"Idempotency-Key": "x" * 300}), 422
    )


def test_fifty_concurrent_identical_posts_store_one_report(
    client: TestClient, engine: Engine
) -> None:
    barrier = Barrier(50)

    def post(_: int) -> tuple[int, dict[str, object]]:
        barrier.wait()
        response = client.post("/v1/reports", json=small_report(), headers=KEY)
        return response.status_code, response.json()

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(post, range(50)))
    statuses = [s for s, _ in results]
    assert all(200 <= s < 300 for s in statuses), statuses
    bodies = [b for _, b in results]
    assert all(b == bodies[0] for b in bodies)
    counts = row_counts(engine)
    assert (
        counts["article"] == counts["report"] == counts["event"] == counts["idempotency_key"] == 1
    )
