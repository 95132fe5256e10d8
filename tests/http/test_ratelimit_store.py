"""Rate limits across processes: with CONFLICTDB_RATE_LIMIT_STORE=database, every app (worker,
machine) on one database takes its tokens from the same buckets, atomically."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from app.config import Settings
from app.main import create_app
from app.models import RateLimitBucket
from app.writer.ratelimits import DatabaseBuckets
from tests.conftest import helper_engine
from tests.helpers import assert_problem


@pytest.fixture
def apps(settings: Settings, write_key: str) -> Iterator[Callable[..., TestClient]]:
    """Apps on the test database (each one a worker process of its own, as far as the rate
    limiter can tell: nothing is shared but the database)."""
    clients: list[TestClient] = []

    def make(key: str | None = write_key, **changes: Any) -> TestClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        test_client = TestClient(create_app(settings.model_copy(update=changes)), headers=headers)
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def test_two_workers_share_one_bucket_per_key(apps: Callable[..., TestClient]) -> None:
    a = apps(rate_limit_per_minute=4, rate_limit_store="database")
    b = apps(rate_limit_per_minute=4, rate_limit_store="database")
    statuses = [(a if i % 2 else b).get("/v1/vocabulary").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    refused = b.get("/v1/vocabulary")
    body = assert_problem(refused, 429, type_suffix="rate-limited")
    assert body["request_id"] == refused.headers["x-request-id"]
    assert 1 <= int(refused.headers["retry-after"]) <= 15
    assert refused.headers["ratelimit-policy"] == '"default";q=4;w=60'
    assert refused.headers["ratelimit"].startswith('"default";r=0;')


def test_in_memory_buckets_are_per_worker(apps: Callable[..., TestClient]) -> None:
    """The default, for contrast: each worker allows the whole limit."""
    a = apps(rate_limit_per_minute=3)
    b = apps(rate_limit_per_minute=3)
    assert [a.get("/v1/vocabulary").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [b.get("/v1/vocabulary").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_anonymous_clients_share_their_address_bucket(apps: Callable[..., TestClient]) -> None:
    a = apps(key=None, rate_limit_per_minute=2, rate_limit_store="database")
    b = apps(key=None, rate_limit_per_minute=2, rate_limit_store="database")
    assert [c.get("/v1/vocabulary").status_code for c in (a, b, a)] == [200, 200, 429]
    # A key has a bucket of its own.
    keyed = apps(rate_limit_per_minute=2, rate_limit_store="database")
    assert keyed.get("/v1/vocabulary").status_code == 200


def test_taking_tokens_is_atomic_under_concurrency(
    apps: Callable[..., TestClient], database_url: str
) -> None:
    limit = 20
    workers = [apps(rate_limit_per_minute=limit, rate_limit_store="database") for _ in range(2)]
    for worker in workers:
        # FastAPI builds its routes on the first request, not safely from two threads at once
        # (a server's event loop never does): build them first, on a path the limiter exempts.
        assert worker.get("/healthz/warm-up").status_code == 404
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer(client: TestClient) -> None:
        for _ in range(8):
            status = client.get("/v1/vocabulary").status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=hammer, args=(workers[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 48 requests for 20 tokens (a third of a token a second refills meanwhile).
    assert statuses.count(200) in (limit, limit + 1), statuses
    assert statuses.count(200) + statuses.count(429) == 48
    engine = helper_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(RateLimitBucket.bucket, RateLimitBucket.allowed)).all()
    assert len(rows) == 1 and rows[0][0].startswith("key:") and rows[0][1] is False


def _engine(database_url: str) -> Engine:
    return helper_engine(database_url)


def test_a_bucket_refills_by_the_database_clock(database_url: str) -> None:
    buckets = DatabaseBuckets(_engine(database_url), per_minute=60)
    for _ in range(60):
        assert buckets.take("addr:10.0.0.1")[0]
    allowed, remaining, wait = buckets.take("addr:10.0.0.1")
    assert not allowed and remaining == 0 and 0 < wait <= 1.0
    assert buckets.take("addr:10.0.0.2")[0]  # another client is untouched
    # Thirty seconds pass (as the database's clock sees the bucket): half of it is back.
    with _engine(database_url).begin() as conn:
        conn.execute(
            update(RateLimitBucket)
            .where(RateLimitBucket.bucket == "addr:10.0.0.1")
            .values(refilled_at=RateLimitBucket.refilled_at - 30)
        )
    allowed, remaining, _ = buckets.take("addr:10.0.0.1")
    assert allowed and remaining in (28, 29)
    # A bucket stamped in the future (another machine's clock ahead) refills nothing, never
    # takes tokens away.
    with _engine(database_url).begin() as conn:
        conn.execute(update(RateLimitBucket).values(refilled_at=RateLimitBucket.refilled_at + 3600))
    allowed, after, _ = buckets.take("addr:10.0.0.1")
    assert allowed and after == remaining - 1


def test_full_buckets_are_pruned(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.writer import ratelimits

    monkeypatch.setattr(ratelimits, "PRUNE_EVERY", 3)
    buckets = DatabaseBuckets(_engine(database_url), per_minute=60)
    buckets.take("addr:idle")
    with _engine(database_url).begin() as conn:
        conn.execute(update(RateLimitBucket).values(refilled_at=RateLimitBucket.refilled_at - 61))
    buckets.take("addr:busy")
    buckets.take("addr:busy")  # the third take prunes: the idle bucket is full by now
    with _engine(database_url).connect() as conn:
        assert conn.execute(select(RateLimitBucket.bucket)).scalars().all() == ["addr:busy"]


def test_an_unreachable_store_lets_requests_through(tmp_path: Any) -> None:
    from app.db.session import create_db_engine

    engine = create_db_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    try:
        assert DatabaseBuckets(engine, per_minute=1).take("addr:x") == (True, 1, 0.0)
    finally:
        engine.dispose()


def test_the_store_is_a_setting() -> None:
    assert Settings().rate_limit_store == "memory"
    with pytest.raises(ValueError):
        Settings(rate_limit_store="redis")
