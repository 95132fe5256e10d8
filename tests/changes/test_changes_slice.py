"""GET /v1/changes with the events list's filters (issue 12): a copy of one slice, kept by
upserting the entries `in_slice` and deleting the others, equals what the list answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import seed
from tests.datasets.test_loader import ged_rows, import_ged
from tests.helpers import error_locs

SLICE = {"fatalities_min": 5, "country": "SY"}


def listed(client: TestClient, **params: Any) -> tuple[dict[int, dict[str, Any]], int]:
    """The list's rows by id (all pages) and the version they reflect."""
    rows: dict[int, dict[str, Any]] = {}
    query: dict[str, Any] = {**params, "limit": 1000, "sort": "id"}
    while True:
        response = client.get("/v1/events", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        rows.update((row["id"], row) for row in page["data"])
        if page["next_cursor"] is None:
            return rows, int(response.headers["data-version"])
        query["cursor"] = page["next_cursor"]


def follow(
    client: TestClient, copy: dict[int, dict[str, Any]], since: str | None, **params: Any
) -> list[dict[str, Any]]:
    """Apply the feed after ``since`` to ``copy``, a page of 3 at a time; the entries read."""
    entries: list[dict[str, Any]] = []
    query: dict[str, Any] = {**params, "limit": 3}
    if since is not None:
        query["since"] = since
    while True:
        response = client.get("/v1/changes", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        for entry in body["data"]:
            if entry["in_slice"]:
                copy[entry["event_id"]] = entry["event"]
            else:
                copy.pop(entry["event_id"], None)
        entries += body["data"]
        query["since"] = body["next_cursor"]
        if len(body["data"]) < 3:
            return entries


def edit(client: TestClient, event_id: int, **fields: Any) -> None:
    tag = client.get(f"/v1/events/{event_id}").headers["etag"]
    response = client.patch(f"/v1/events/{event_id}", json=fields, headers={"If-Match": tag})
    assert response.status_code == 200, response.text


@seed
def imported(engine: Engine) -> None:
    import_ged(engine, ged_rows()[:60])


def test_a_copy_of_a_slice_follows_edits_in_and_out_and_retractions(
    client: TestClient, imported: None
) -> None:
    copy, version = listed(client, **SLICE)
    everything, _ = listed(client, country="SY")
    inside = sorted(copy)
    outside = sorted(set(everything) - set(copy))
    assert len(inside) >= 3 and len(outside) >= 2
    # One edited out, one edited in, one retracted, one edited and still inside, one edited
    # and still outside.
    edit(client, inside[0], fatalities_low=0, fatalities_best=0, fatalities_high=0)
    edit(client, outside[0], fatalities_low=40, fatalities_best=50, fatalities_high=60)
    response = client.delete(f"/v1/events/{inside[1]}", params={"reason": "duplicate"})
    assert response.status_code == 200, response.text
    edit(client, inside[2], summary="Revised.")
    edit(client, outside[1], summary="Revised too.")

    entries = follow(client, copy, str(version), **SLICE)
    now, _ = listed(client, **SLICE)
    assert copy == now
    state = {e["event_id"]: e["in_slice"] for e in entries}
    assert state == {
        inside[0]: False,
        outside[0]: True,
        inside[1]: False,
        inside[2]: True,
        outside[1]: False,
    }
    # From the start: the slice's events only, plus the ones that left it.
    fresh: dict[int, dict[str, Any]] = {}
    entries = follow(client, fresh, None, **SLICE)
    assert fresh == now
    named = {e["event_id"] for e in entries}
    assert set(now) <= named <= set(now) | {inside[0], inside[1], outside[1]}
    # With include_retracted=true the retracted event stays in the slice.
    kept: dict[int, dict[str, Any]] = {}
    follow(client, kept, None, **SLICE, include_retracted="true")
    assert kept == listed(client, **SLICE, include_retracted="true")[0]
    assert kept[inside[1]]["status"] == "retracted"


def test_without_filters_every_entry_is_in_the_slice(client: TestClient, imported: None) -> None:
    copy: dict[int, dict[str, Any]] = {}
    entries = follow(client, copy, None)
    assert entries and all(e["in_slice"] for e in entries)
    assert copy == listed(client, include_retracted="true")[0]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"dimension": "ucdp.nonsense:1"}, "dimension"),
        ({"event_type": "Battle"}, "event_type"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(
    client: TestClient, imported: None, params: dict[str, Any], loc: str
) -> None:
    response = client.get("/v1/changes", params=params)
    assert response.status_code == 422, response.text
    assert any(loc in map(str, where) for where in error_locs(response.json())), response.text
