"""API keys: who may write, 401/403 problems, expiry and revocation, the admin endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select, update

from app.auth import keys
from app.config import Settings
from app.db.base import utcnow
from app.main import create_app
from app.models import ApiKey, AuditEntry
from tests.conftest import make_key
from tests.helpers import assert_problem, row_counts
from tests.reports.test_reports import small_report


def test_keys_are_random_hashed_and_prefixed(
    client: TestClient, engine: Engine, write_key: str
) -> None:
    prefix, secret = write_key[:12], write_key[13:]
    assert prefix.startswith("cdb_") and len(secret) >= 32
    with engine.connect() as conn:
        row = conn.execute(
            select(ApiKey.prefix, ApiKey.key_sha256).where(ApiKey.prefix == prefix)
        ).one()
    assert row.key_sha256 == keys.hash_key(write_key)
    assert write_key not in row  # only the hash is stored
    a, _ = keys.new_key()
    b, _ = keys.new_key()
    assert a != b


def test_writes_need_a_key(anon_client: TestClient, engine: Engine) -> None:
    before = row_counts(engine)
    response = anon_client.post("/v1/reports", json=small_report())
    body = assert_problem(response, 401, type_suffix="unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "write" in body["detail"]
    assert row_counts(engine) == before


def test_reads_are_open_by_default(anon_client: TestClient) -> None:
    assert anon_client.get("/v1/events").status_code == 200


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"Authorization": "Bearer cdb_00000000_notarealkey"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"X-API-Key": "cdb_00000000_notarealkey"}, 401),
    ],
)
def test_bad_credentials_are_401(
    anon_client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = anon_client.post("/v1/reports", json=small_report(), headers=headers)
    assert_problem(response, status)
    assert "www-authenticate" in response.headers


def test_x_api_key_header_works(anon_client: TestClient, write_key: str) -> None:
    response = anon_client.post(
        "/v1/reports", json=small_report(), headers={"X-API-Key": write_key}
    )
    assert response.status_code == 201


def test_read_key_cannot_write_is_403(anon_client: TestClient, database_url: str) -> None:
    read_key = make_key(database_url, ["read"], name="reader")
    response = anon_client.post(
        "/v1/reports", json=small_report(), headers={"Authorization": f"Bearer {read_key}"}
    )
    assert_problem(response, 403, type_suffix="forbidden")


def test_revoked_and_expired_keys_stop_working(
    client: TestClient, engine: Engine, write_key: str
) -> None:
    prefix = write_key[:12]
    with engine.begin() as conn:
        conn.execute(
            update(ApiKey)
            .where(ApiKey.prefix == prefix)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_problem(client.post("/v1/reports", json=small_report()), 401)
    with engine.begin() as conn:
        conn.execute(
            update(ApiKey)
            .where(ApiKey.prefix == prefix)
            .values(expires_at=None, revoked_at=utcnow())
        )
    body = assert_problem(client.post("/v1/reports", json=small_report()), 401)
    assert "revoked" in body["detail"]


def test_last_used_is_recorded(client: TestClient, engine: Engine, write_key: str) -> None:
    client.post("/v1/reports", json=small_report())
    prefix = write_key[:12]
    with engine.connect() as conn:
        first = conn.execute(
            select(ApiKey.last_used_at).where(ApiKey.prefix == prefix)
        ).scalar_one()
    assert first is not None
    client.get("/v1/events")
    with engine.connect() as conn:
        again = conn.execute(
            select(ApiKey.last_used_at).where(ApiKey.prefix == prefix)
        ).scalar_one()
    assert again == first  # at most once a minute


def test_admin_endpoints(
    anon_client: TestClient, client: TestClient, admin_key: str, engine: Engine
) -> None:
    admin = {"Authorization": f"Bearer {admin_key}"}
    assert_problem(client.get("/v1/keys"), 403)  # a write key is not enough
    assert_problem(anon_client.get("/v1/keys"), 401)
    created = anon_client.post(
        "/v1/keys", json={"name": "importer", "scopes": ["write"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["key"].startswith(new["prefix"])
    listed = anon_client.get("/v1/keys", headers=admin).json()["data"]
    assert new["id"] in [k["id"] for k in listed]
    assert all("key" not in k for k in listed)
    ok = anon_client.post(
        "/v1/reports", json=small_report(), headers={"Authorization": f"Bearer {new['key']}"}
    )
    assert ok.status_code == 201
    revoked = anon_client.delete(f"/v1/keys/{new['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(
        anon_client.post(
            "/v1/reports",
            json=small_report(url="https://x.org/2"),
            headers={"Authorization": f"Bearer {new['key']}"},
        ),
        401,
    )
    with engine.connect() as conn:
        actions = list(
            conn.execute(
                select(AuditEntry.action).where(
                    AuditEntry.entity_id == new["id"], AuditEntry.entity == "api_key"
                )
            ).scalars()
        )
    assert actions == ["key.create", "key.revoke"]
    assert_problem(
        anon_client.post("/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=admin), 422
    )
    assert_problem(
        anon_client.post(
            "/v1/keys",
            json={"name": "x", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"},
            headers=admin,
        ),
        422,
    )


def test_reads_can_require_a_key(database_url: str, write_key: str) -> None:
    from app.config import Settings
    from app.main import create_app

    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        auth_reads=True,
        rate_limit_per_minute=0,
    )
    with TestClient(create_app(settings)) as anon:
        assert_problem(anon.get("/v1/events"), 401)
        assert (
            anon.get("/v1/events", headers={"Authorization": f"Bearer {write_key}"}).status_code
            == 200
        )
        assert anon.get("/healthz").status_code == 200


def test_reports_are_attributed(client: TestClient, engine: Engine, write_key: str) -> None:
    response = client.post("/v1/reports", json=small_report())
    prefix = write_key[:12]
    with engine.connect() as conn:
        key_id = conn.execute(select(ApiKey.id).where(ApiKey.prefix == prefix)).scalar_one()
        audit = conn.execute(
            select(AuditEntry.action, AuditEntry.api_key_id, AuditEntry.entity_id).where(
                AuditEntry.action == "report.create"
            )
        ).one()
    assert audit == ("report.create", key_id, response.json()["article"]["id"])


def test_production_refuses_settings_that_leak() -> None:
    base: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql+psycopg://u:p@db/conflictdb",
        "demo": False,
    }
    with pytest.raises(ValidationError, match="shared caches"):
        Settings(**base, auth_reads=True, cache_control="public, max-age=60")
    with pytest.raises(ValidationError, match="shared caches"):
        Settings(**base, auth_reads=True, cache_control="max-age=600")
    with pytest.raises(ValidationError, match="origins"):
        Settings(**base, auth_reads=True, cors_allow_origins="*")
    # Open reads may be cached publicly; keyed reads with private caching are fine.
    Settings(**base, auth_reads=False, cache_control="public, max-age=60", cors_allow_origins="*")
    Settings(**base, auth_reads=True, cache_control="private, no-cache")


def test_production_warns_on_no_rate_limit(caplog: pytest.LogCaptureFixture) -> None:
    Settings(
        environment="production",
        database_url="postgresql+psycopg://u:p@db/conflictdb",
        demo=False,
        rate_limit_per_minute=0,
    )
    assert "no rate limit in production" in caplog.text


def test_keyed_reads_are_private_to_their_key(database_url: str, write_key: str) -> None:
    read_key = make_key(database_url, ["read"], name="reader")
    settings = Settings(
        database_url=database_url,
        environment="test",
        demo=False,
        migrate_on_start=False,
        rate_limit_per_minute=0,
        auth_reads=True,
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/v1/events", "/v1/events/1", "/v1/stats/events", "/v1/vocabulary"):
            response = client.get(path, headers={"Authorization": f"Bearer {read_key}"})
            assert "private" in response.headers["cache-control"], path
            vary = {v.strip() for v in response.headers["vary"].split(",")}
            assert {"Authorization", "X-API-Key"} <= vary, path
        refused = client.get("/v1/events")
        assert refused.status_code == 401 and "private" in refused.headers["cache-control"]
    open_settings = settings.model_copy(update={"auth_reads": False})
    with TestClient(create_app(open_settings)) as client:
        assert "private" not in client.get("/v1/events").headers.get("cache-control", "")


def test_the_answer_showing_a_new_key_is_never_stored(client: TestClient, admin_key: str) -> None:
    response = client.post(
        "/v1/keys",
        json={"name": "script", "scopes": ["read"]},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
