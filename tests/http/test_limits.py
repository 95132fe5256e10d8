"""Limits: the per-key rate limit (429 with RateLimit headers) and 503 when the database is down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth.dependencies import INVALID_KEY
from app.config import Settings
from app.http.ratelimit import TokenBuckets
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


def _limited_client(database_url: str, per_minute: int = 5) -> TestClient:
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=per_minute,
    )
    return TestClient(create_app(settings))


def test_repeated_or_mixed_credential_headers_are_refused(
    database_url: str, write_key: str
) -> None:
    """The limiter and authentication never read different copies of a credential."""
    with _limited_client(database_url, per_minute=100) as client:
        bearer = ("Authorization", f"Bearer {write_key}")
        for headers in (
            [("X-API-Key", write_key), ("X-API-Key", write_key)],
            [bearer, ("Authorization", "Bearer bogus")],
            [bearer, ("X-API-Key", write_key)],
        ):
            response = client.get("/v1/events", headers=headers)
            assert_problem(response, 400, type_suffix="ambiguous-credentials")
        assert client.get("/v1/events", headers=[bearer]).status_code == 200


def test_a_header_trick_does_not_escape_the_keys_bucket(database_url: str, write_key: str) -> None:
    with _limited_client(database_url) as client:
        keyed = {"Authorization": f"Bearer {write_key}"}
        assert [client.get("/v1/events", headers=keyed).status_code for _ in range(5)] == [200] * 5
        # The same key in the other header is the same bucket.
        assert_problem(client.get("/v1/events", headers={"X-API-Key": write_key}), 429)
        # Adding a bogus second credential is refused, never a fresh bucket.
        tricked = [("Authorization", f"Bearer {write_key}"), ("Authorization", "Bearer x")]
        assert client.get("/v1/events", headers=tricked).status_code in (400, 429)
        assert_problem(client.get("/v1/events", headers=keyed), 429)


def test_failed_authentications_count_against_the_address(database_url: str) -> None:
    """Made-up keys share their sender's bucket: six of them exhaust a limit of five."""
    with _limited_client(database_url) as client:
        statuses = [
            client.get("/v1/events", headers={"Authorization": f"Bearer made-up-{n}"}).status_code
            for n in range(5)
        ]
        assert statuses == [401] * 5
        assert_problem(client.get("/v1/events"), 429)  # anonymous, same address
        assert_problem(client.get("/v1/events", headers={"Authorization": "Bearer made-up-5"}), 429)


def test_the_401_is_one_message_for_unknown_revoked_and_expired(
    database_url: str, write_key: str
) -> None:
    with _limited_client(database_url, per_minute=100) as client:
        unknown = assert_problem(
            client.get("/v1/events", headers={"Authorization": "Bearer nope"}), 401
        )
        assert unknown["detail"] == INVALID_KEY


def test_buckets_are_evicted_least_recently_used() -> None:
    buckets = TokenBuckets(per_minute=1, max_clients=3)
    for client in ("a", "b", "c"):
        assert buckets.take(client)[0]
    assert not buckets.take("a")[0]  # a is drained, and now the most recent
    buckets.take("d")  # over the bound: b, the least recently seen, goes
    assert len(buckets) == 3 and "b" not in buckets and "a" in buckets
    assert not buckets.take("a")[0]  # a's bucket is still drained: not reset by the flood
