"""Issue 12: a record's detail carries the exact data version it reflects (Data-Version)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import derived
from app.db.session import read_session
from app.events import repository as event_repository


def version_now(client: TestClient) -> int:
    return int(client.get("/v1/vocabulary").headers["data-version"])


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v1/events/{}", "events"),
        ("/v1/actors/{}", "actors"),
        ("/v1/places/{}", "places"),
        ("/v1/outlets/{}", "outlets"),
        ("/v1/articles/{}", "articles"),
        ("/v1/quotes/{}", "quotes"),
    ],
)
def test_details_carry_the_data_version(
    client: TestClient, demo: dict[str, Any], path: str, kind: str
) -> None:
    record = client.get(f"/v1/{kind}", params={"limit": 1}).json()["data"][0]
    before = version_now(client)
    response = client.get(path.format(record["id"]))
    assert response.status_code == 200, response.text
    assert int(response.headers["data-version"]) == before
    # A write moves it on.
    edit = client.get("/v1/events/1")
    patched = client.patch(
        "/v1/events/1", json={"summary": "Edited."}, headers={"If-Match": edit.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    after = int(client.get(path.format(record["id"])).headers["data-version"])
    assert after == version_now(client) > before


def test_the_version_is_the_one_the_read_saw(
    client: TestClient, engine: Engine, demo: dict[str, Any]
) -> None:
    """A write committing in the middle of the read: the answer and its version agree (the
    old event at the old version, or the new one at the new version), never a mix."""
    old = version_now(client)
    writes: list[int] = []

    def read() -> Any:
        event = event_repository.get_event(session, 1)
        if not writes:  # another client writes while this read is under way
            tag = client.get("/v1/events/1").headers["etag"]
            response = client.patch(
                "/v1/events/1", json={"summary": "Meanwhile."}, headers={"If-Match": tag}
            )
            assert response.status_code == 200, response.text
            writes.append(1)
        return event

    with read_session(engine) as session:
        event, version = derived.at_one_version(session, read)
    assert event is not None
    assert (event["summary"] == "Meanwhile.", version) in {(False, old), (True, old + 1)}
