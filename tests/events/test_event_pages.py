"""GET /v1/events pages: every sort's keyset cursors over ties and unknowns, `fields=`,
`include=` without N+1 queries, and the lean JSON path's agreement with EventRead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app.core.pagination import Page
from app.events.schemas import EVENT_FIELDS, SORT_KEYS, EventRead
from tests.events import world as w
from tests.events.world import World
from tests.helpers import assert_problem, error_locs


def pages(client: TestClient, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    out = []
    params = dict(params)
    while True:
        response = client.get("/v1/events", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        out.append(body["data"])
        if body["next_cursor"] is None:
            return out
        params["cursor"] = body["next_cursor"]


@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_every_sort_pages_through_ties_and_nulls(
    client: TestClient, world: World, sort: str, limit: int
) -> None:
    expected = w.ordered(w.live(), sort, world.events)
    full = client.get("/v1/events", params={"sort": sort, "limit": 1000}).json()["data"]
    assert world.keys(full) == expected
    seen = [row for page in pages(client, {"sort": sort, "limit": limit}) for row in page]
    assert world.keys(seen) == expected  # no duplicate, no gap, the same order
    assert seen == full


def test_fatalities_sort_puts_unknowns_last_both_ways(client: TestClient, world: World) -> None:
    for sort in ("fatalities_best", "-fatalities_best"):
        rows = client.get("/v1/events", params={"sort": sort, "limit": 1000}).json()["data"]
        figures = [r["fatalities_best"] for r in rows]
        known = [f for f in figures if f is not None]
        assert figures == known + [None] * (len(figures) - len(known))
        assert known == sorted(known, reverse=sort.startswith("-"))


def test_pages_with_filters_and_fields(client: TestClient, world: World) -> None:
    # The sort key is not among the fields: the cursor still carries it.
    params = {"sort": "-fatalities_best", "limit": 2, "fields": "summary", "country": "SY"}
    seen = [row for page in pages(client, params) for row in page]
    assert all(set(row) == {"id", "summary"} for row in seen)
    expected = w.ordered(
        [s for s in w.live() if w.country(s) == "SY"], "-fatalities_best", world.events
    )
    assert world.keys(seen) == expected


def test_fields_pick_columns_comma_separated_or_repeated(client: TestClient, world: World) -> None:
    one = client.get("/v1/events", params={"fields": "date_start,latitude", "sort": "id"}).json()
    two = client.get(
        "/v1/events", params={"fields": ["date_start", "latitude"], "sort": "id"}
    ).json()
    assert one == two
    assert all(list(r) == ["id", "date_start", "latitude"] for r in one["data"])
    full = client.get("/v1/events", params={"sort": "id"}).json()["data"]
    assert all(list(r) == list(EVENT_FIELDS) for r in full)
    assert one["data"] == [
        {"id": r["id"], "date_start": r["date_start"], "latitude": r["latitude"]} for r in full
    ]


@pytest.mark.parametrize(
    "params, loc, named",
    [
        ({"fields": "id,colour,smell"}, ["query", "fields"], ["'colour'", "'smell'"]),
        ({"fields": ["id", "actors"]}, ["query", "fields"], ["'actors'"]),
        ({"include": "sources,quotes"}, ["query", "include"], ["'quotes'"]),
        ({"sort": "-summary"}, ["query", "sort"], ["'-summary'"]),
        ({"colour": "red"}, ["query", "colour"], ["colour"]),
        ({"format": "xml"}, ["query", "format"], ["format"]),
    ],
)
def test_unknown_names_are_422_naming_them(
    client: TestClient, params: dict[str, Any], loc: list[str], named: list[str]
) -> None:
    body = assert_problem(client.get("/v1/events", params=params), 422)
    assert loc in error_locs(body)
    for name in named:
        assert name in body["detail"], body["detail"]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_include_embeds_relations_with_one_query_each(
    client: TestClient, world: World, engine: Engine
) -> None:
    params = {"include": "actors,sources", "sort": "id", "include_retracted": "true"}
    counts = {}
    for limit in (1, 13):
        with statements(engine) as seen:
            response = client.get("/v1/events", params={**params, "limit": limit})
        assert response.status_code == 200
        counts[limit] = len([s for s in seen if "event" in s])
    # One page, one query for the actors of the whole page, one for its sources and quotes,
    # and one sizing its evidence before any quote is read (the page byte budget, issue 11).
    assert counts[1] == counts[13] == 4
    rows = response.json()["data"]
    assert len(rows) == 13
    for row in rows:
        detail = client.get(f"/v1/events/{row['id']}").json()
        assert row["actors"] == detail["actors"]
        assert row["sources"] == detail["sources"]
    by_key = {world.key(r["id"]): r for r in rows}
    assert [q["text"] for s in by_key["e1"]["sources"] for q in s["quotes"]] == [
        "the shelling was heavy"
    ]
    assert [s["outlet"]["name"] for s in by_key["e3"]["sources"]] == ["Outlet One", "Outlet Two"]
    assert by_key["e7"]["actors"] == [] and by_key["e7"]["sources"] == []
    only_actors = client.get("/v1/events", params={"include": "actors", "limit": 1}).json()
    assert "actors" in only_actors["data"][0] and "sources" not in only_actors["data"][0]


def test_lean_json_is_what_eventread_would_write(client: TestClient, world: World) -> None:
    """The list skips pydantic for speed; its JSON must still be EventRead's, value for value
    (dates, UTC timestamps written with Z, floats, nulls)."""
    cases: tuple[dict[str, str | int], ...] = (
        {"limit": 1000, "include_retracted": "true"},
        {"limit": 1000, "include": "actors,sources", "total": "true"},
    )
    for params in cases:
        body = client.get("/v1/events", params=params).json()
        page = Page[EventRead].model_validate(body)
        assert page.model_dump(mode="json", exclude_unset=True) == body
        assert all(row["created_at"].endswith("Z") for row in body["data"])


def test_cursor_is_tied_to_its_sort(client: TestClient, world: World) -> None:
    cursor = client.get("/v1/events", params={"limit": 1, "sort": "fatalities_best"}).json()[
        "next_cursor"
    ]
    body = assert_problem(
        client.get("/v1/events", params={"cursor": cursor, "sort": "-fatalities_best"}), 422
    )
    assert ["query", "cursor"] in error_locs(body)
