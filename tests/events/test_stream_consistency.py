"""What an export gives now that it no longer holds one transaction, under concurrent writes:
each page as of the moment it is read; sorted by id, every event at most once and none that
matched throughout skipped; an event unchanged during the export exactly once in any sort;
and ``Data-Version`` naming the version at the start, from which the change feed has the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import writer
from app.events import streams
from app.events.schemas import EventListQuery

PAGE = 7


def _create(
    engine: Engine, first: int, count: int, *, days: int = 50, unknown_every: int = 0
) -> list[int]:
    """``count`` events over ``days`` days, fatalities repeating (every ``unknown_every``-th
    one unknown, if given)."""
    with writer.write_session(engine) as session:
        return writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    sub_event_type="Armed clash",
                    date_start=date(2020, 1, 1) + timedelta(days=(first + n) % days),
                    date_end=date(2020, 1, 1) + timedelta(days=(first + n) % days),
                    date_precision="day",
                    fatalities_best=(
                        None if unknown_every and n % unknown_every == 0 else (first + n) % 9
                    ),
                )
                for n in range(count)
            ],
        )


def _ids(lines: Iterator[bytes]) -> Iterator[list[int]]:
    for chunk in lines:
        yield [json.loads(line)["id"] for line in chunk.splitlines() if line]


@pytest.mark.parametrize("sort", ["id", "-date_start", "fatalities_best"])
def test_an_export_under_concurrent_writes(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    monkeypatch.setattr(streams, "PAGE_SIZE", PAGE)
    before = _create(engine, 0, 40)
    untouched = set(before[20:])
    edited = before[:10]
    retracted = before[10:20]
    chunks = streams.stream(engine, EventListQuery(sort=sort, fields=["id"]), "ndjson")
    seen: list[int] = []
    added: list[int] = []
    for n, page in enumerate(_ids(chunks)):
        seen += page
        # Between pages, other clients write: new events, edits that move an event in the
        # order, retractions.
        if n < len(edited):
            with writer.write_session(engine) as session:
                event_id = edited[n]
                version = writer.update_event(
                    session,
                    event_id,
                    1,
                    {
                        "fatalities_best": 100 + n,
                        "date_start": date(2019, 1, 1),
                        "date_end": date(2019, 1, 1),
                    },
                    api_key_id=None,
                )
                assert version == 2
                writer.retract_event(session, retracted[n], 1, "duplicate", api_key_id=None)
            added += _create(engine, 100 + n, 1)
    # Every event that matched throughout and was not touched: exactly once, whatever the sort.
    assert all(seen.count(i) == 1 for i in untouched)
    if sort == "id":
        # Ids never change: every event at most once, the order strictly ascending, none that
        # matched throughout skipped (edited ones too), and every event added while pages
        # were still to come is there (only the one added after the last page is not).
        assert seen == sorted(set(seen))
        assert set(edited) <= set(seen)
        assert len(added) >= 2 and set(added[:-1]) <= set(seen)


def test_the_data_version_of_the_start_is_in_the_header(client: TestClient, engine: Engine) -> None:
    _create(engine, 0, 3)
    response = client.get("/v1/events", params={"format": "ndjson"})
    start = int(response.headers["data-version"])
    _create(engine, 3, 2)
    changes = client.get("/v1/changes", params={"since": start}).json()["data"]
    assert len(changes) == 2  # what the export may have missed, from the feed


@pytest.mark.parametrize("page", [1, 2, 5])
def test_ranged_pages_give_the_lists_order_in_every_sort(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    # After its first page a stream reads ranges whose ends one statement finds; with ties in
    # every sort key (five dates, fatalities repeating or unknown), the ranges still give
    # each event once, in the list's order.
    _create(engine, 0, 23, days=5, unknown_every=4)
    monkeypatch.setattr(streams, "PAGE_SIZE", page)
    for sort in ("id", "-id", "date_start", "-date_start", "fatalities_best", "-fatalities_best"):
        listed = [
            e["id"]
            for e in client.get("/v1/events", params={"sort": sort, "limit": 100}).json()["data"]
        ]
        chunks = streams.stream(engine, EventListQuery(sort=sort, fields=["id"]), "ndjson")
        assert [i for chunk in _ids(chunks) for i in chunk] == listed, sort
        exported = streams.export_events(engine, EventListQuery(), sort=sort, page_size=page)
        assert [e.id for e in exported] == listed, sort
