"""Read-your-writes without replicas: every answer says the data version it reflects, and a
client's Data-Version is checked (a 422 when it is not a version, or newer than the data).
The replicas themselves are in tests/system/test_replicas.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.main import create_app
from tests.helpers import assert_problem
from tests.reports.test_reports import small_report


def version(response: Any) -> int:
    return int(response.headers["data-version"])


def test_every_answer_says_its_data_version(client: TestClient, demo: dict[str, Any]) -> None:
    listed = client.get("/v1/events")
    current = version(listed)
    event_id = min(demo["events"].values())
    for path in (
        f"/v1/events/{event_id}",
        f"/v1/events/{event_id}/history",
        "/v1/actors/1",
        "/v1/places/1/children",
        "/v1/events/999999",  # a 404 says how fresh "not there" is
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.text)
        assert version(response) == current, path


def test_a_write_answers_the_version_it_committed(client: TestClient, demo: dict[str, Any]) -> None:
    before = version(client.get("/v1/events"))
    created = client.post("/v1/reports", json=small_report())
    assert created.status_code == 201, created.text
    written = version(created)
    assert written == before + 1
    assert version(client.get("/v1/events")) == written
    # The same report again writes nothing (200): its answer still names a version that
    # holds what it reports, so a read with it finds the report.
    again = client.post("/v1/reports", json=small_report())
    assert again.status_code == 200
    assert version(again) == written
    event_id = again.json()["events"]["e1"]
    tag = client.get(f"/v1/events/{event_id}").headers["etag"]
    edited = client.patch(
        f"/v1/events/{event_id}", json={"fatalities_best": 5}, headers={"If-Match": tag}
    )
    assert edited.status_code == 200 and version(edited) == written + 1
    read = client.get(f"/v1/events/{event_id}", headers={"Data-Version": str(version(edited))})
    assert read.status_code == 200 and read.json()["fatalities_best"] == 5
    assert version(read) >= version(edited)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "0x10", "9" * 20, "1, 2"])
def test_a_data_version_that_is_not_a_version_is_a_422(
    client: TestClient, demo: dict[str, Any], value: str
) -> None:
    for path in ("/v1/events", "/v1/events/1", "/v1/stats/events"):
        response = client.get(path, headers={"Data-Version": value})
        body = assert_problem(response, 422, type_suffix="validation-error")
        assert body["errors"][0]["loc"] == ["header", "Data-Version"]
        assert "not a data version" in body["errors"][0]["msg"]
        assert body["request_id"] == response.headers["x-request-id"]


def test_a_data_version_newer_than_the_data_is_a_422_naming_the_current_one(
    client: TestClient, demo: dict[str, Any]
) -> None:
    current = version(client.get("/v1/events"))
    for path in ("/v1/events", "/v1/events/1", "/v1/changes"):
        ok = client.get(path, headers={"Data-Version": str(current)})
        assert ok.status_code == 200 and version(ok) >= current
        response = client.get(path, headers={"Data-Version": str(current + 1)})
        body = assert_problem(response, 422)
        assert body["current_version"] == current
        assert f"current data version {current}" in body["detail"]
    # Writes are held to the same rule: the version must be one this database sent.
    response = client.post(
        "/v1/reports", json=small_report(), headers={"Data-Version": str(current + 5)}
    )
    assert_problem(response, 422)
    assert client.get("/v1/events").headers["data-version"] == str(current)  # nothing written


def test_a_version_written_by_another_process_is_checked_against_the_database(
    client: TestClient, demo: dict[str, Any], database_url: str, write_key: str
) -> None:
    """A second app (another worker) has not seen the first one's write: a client sending that
    write's version is answered by reading the version, not refused."""
    from app.main import create_app

    other_app = create_app(client.app.state.settings)  # type: ignore[attr-defined]
    with TestClient(other_app, headers={"Authorization": f"Bearer {write_key}"}) as other:
        seen = version(other.get("/v1/events/1"))
        created = client.post("/v1/reports", json=small_report())
        written = version(created)
        assert written > seen
        event_id = created.json()["events"]["e1"]
        read = other.get(f"/v1/events/{event_id}", headers={"Data-Version": str(written)})
        assert read.status_code == 200, read.text
        assert version(read) >= written


def test_a_read_ends_its_transaction_before_its_answer_is_sent(
    settings: Settings, demo: dict[str, Any]
) -> None:
    # The read session's COMMIT runs before the answer starts: a database that fails at that
    # COMMIT (a replica going away) makes an error answer the read routing can retry on the
    # primary, not a failure after a 200 was sent, and a slow client holds no connection.
    app = create_app(settings)
    held: list[tuple[str, int]] = []

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append((scope["path"], app.state.engine.pool.checkedout()))
            await send(message)

        await app(scope, receive, watch)

    event_id = min(demo["events"].values())
    with TestClient(watched) as client:
        for path in ("/v1/actors", f"/v1/events/{event_id}", "/v1/places"):
            assert client.get(path).status_code == 200, path
    assert held and all(count == 0 for _, count in held), held
