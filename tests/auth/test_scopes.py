"""Scopes that match the jobs: an ingestion script's key (ingest) posts reports and creates
entities but cannot edit, retract, merge or delete; a curator's key (curate) can, but cannot
post reports; write is both (existing keys, the local key); the OpenAPI document says which
operation needs which; anonymous readers of an event's history see no key ids."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.auth import keys
from tests.conftest import make_key
from tests.helpers import assert_problem
from tests.reports.test_reports import small_report


def _as(client: TestClient, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_ingest_keys_post_reports_and_create_but_cannot_curate(
    client: TestClient, anon_client: TestClient, database_url: str, demo: dict[str, Any]
) -> None:
    ingest = _as(client, make_key(database_url, ["ingest"], name="importer"))
    created = anon_client.post("/v1/reports", json=small_report(), headers=ingest)
    assert created.status_code == 201, created.text
    actor = anon_client.post(
        "/v1/actors", json={"name": "New Brigade", "kind": "rebel_group"}, headers=ingest
    )
    assert actor.status_code == 201, actor.text
    event_id = next(iter(demo["events"].values()))
    etag = anon_client.get(f"/v1/events/{event_id}").headers["etag"]
    refused = [
        anon_client.patch(
            f"/v1/events/{event_id}",
            json={"fatalities_best": 1},
            headers={**ingest, "If-Match": etag},
        ),
        anon_client.delete(f"/v1/events/{event_id}", params={"reason": "x"}, headers=ingest),
        anon_client.post(
            f"/v1/actors/{actor.json()['id']}/merge", json={"into": 1}, headers=ingest
        ),
    ]
    for response in refused:
        body = assert_problem(response, 403, type_suffix="forbidden")
        assert "'curate'" in body["detail"]


def test_curate_keys_edit_but_cannot_post_reports(
    client: TestClient, anon_client: TestClient, database_url: str, demo: dict[str, Any]
) -> None:
    curate = _as(client, make_key(database_url, ["curate"], name="curator"))
    body = assert_problem(anon_client.post("/v1/reports", json=small_report(), headers=curate), 403)
    assert "'ingest'" in body["detail"]
    event_id = next(iter(demo["events"].values()))
    etag = anon_client.get(f"/v1/events/{event_id}").headers["etag"]
    edited = anon_client.patch(
        f"/v1/events/{event_id}", json={"fatalities_best": 4}, headers={**curate, "If-Match": etag}
    )
    assert edited.status_code == 200, edited.text


def test_write_is_ingest_and_curate() -> None:
    assert keys.effective_scopes("write") >= {"ingest", "curate", "read"}
    assert "curate" not in keys.effective_scopes("ingest")
    assert "ingest" not in keys.effective_scopes("curate")


def test_the_openapi_document_says_which_scope(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def scopes(path: str, method: str) -> set[str]:
        return {
            s for item in paths[path][method]["security"] for s in next(iter(item.values()), [])
        }

    assert scopes("/v1/reports", "post") == {"ingest"}
    assert scopes("/v1/actors", "post") == {"ingest"}
    assert scopes("/v1/events/{event_id}", "patch") == {"curate"}
    assert scopes("/v1/places/{place_id}/merge", "post") == {"curate"}
    assert scopes("/v1/keys", "post") == {"admin"}


def test_anonymous_readers_of_history_see_no_key_ids(
    client: TestClient, anon_client: TestClient, demo: dict[str, Any]
) -> None:
    event_id = next(iter(demo["events"].values()))
    keyed = client.get(f"/v1/events/{event_id}/history").json()["data"]
    assert keyed[0]["api_key_id"] is not None
    anonymous = anon_client.get(f"/v1/events/{event_id}/history").json()["data"]
    assert [r["api_key_id"] for r in anonymous] == [None] * len(anonymous)
    assert [r["changes"] for r in anonymous] == [r["changes"] for r in keyed]
