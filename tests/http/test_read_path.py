"""The read path's economy (issue 16): a list, a stats answer and an event's detail each read
in one transaction, the ETag's data version read inside it, in the answer's own snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app import derived
from app.config import Settings
from app.main import create_app


@pytest.fixture
def uncached(settings: Settings, demo: dict[str, Any]) -> Iterator[TestClient]:
    """The app without its stats cache (whose answers skip the route), on the demo data."""
    with TestClient(create_app(settings.model_copy(update={"stats_cache_size": 0}))) as client:
        yield client


@pytest.fixture
def checkouts(uncached: TestClient) -> Iterator[list[Any]]:
    """Every connection the app takes from its pool while the test runs."""
    engine = uncached.app.state.engine  # type: ignore[attr-defined]
    taken: list[Any] = []

    def on_checkout(*_: Any) -> None:
        taken.append(1)

    event.listen(engine, "checkout", on_checkout)
    yield taken
    event.remove(engine, "checkout", on_checkout)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/events?limit=5",
        "/v1/events?country=SY&sort=-date_start",
        "/v1/stats/events?interval=month&group_by=event_type",
    ],
)
def test_a_collection_and_its_etag_come_from_one_read(
    uncached: TestClient, engine: Engine, checkouts: list[Any], path: str
) -> None:
    uncached.get(path)  # the vocabulary's first read, for the terms it checks
    checkouts.clear()
    response = uncached.get(path)
    assert response.status_code == 200, response.text
    assert len(checkouts) == 1  # no connection of its own for the version
    version = derived.read_version(engine)
    assert response.headers["Data-Version"] == str(version)
    assert response.headers["ETag"].startswith(f'W/"{version}-')
    # The tag works as before: sent back, a 304 with the same tag.
    again = uncached.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["ETag"] == response.headers["ETag"]


def test_the_event_detail_is_one_read(
    uncached: TestClient, demo: dict[str, Any], engine: Engine, checkouts: list[Any]
) -> None:
    event_id = next(iter(demo["events"].values()))
    response = uncached.get(f"/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    assert len(checkouts) == 1
    assert response.headers["Data-Version"] == str(derived.read_version(engine))
    assert response.headers["ETag"] == f'"event-{event_id}-v1"'
    assert response.json()["sources"][0]["quotes"]
