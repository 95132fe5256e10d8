"""`q`: full-text search over event summaries, their supporting quotes and the titles of the
articles reporting them (app/derived/search.py), as a filter of GET /v1/events like the others."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.events.world import World
from tests.helpers import assert_problem, error_locs


def found(client: TestClient, world: World, q: str, **params: Any) -> list[str]:
    response = client.get("/v1/events", params={"q": q, "sort": "id", **params})
    assert response.status_code == 200, response.text
    return world.keys(response.json()["data"])


@pytest.mark.parametrize(
    "q, expected",
    [
        ("barrel", ["e3"]),  # in a summary
        ("BARREL Bombs", ["e3"]),  # case does not matter; all words must appear
        ("heavy", ["e1"]),  # only in a quote supporting e1 (its article's body is not searched)
        ("main", ["e4", "e5"]),  # only in the title of the article reporting both
        ('"main square"', ["e4", "e5"]),
        ('"square main"', []),
        ("shelling", ["e1", "e3"]),  # title of a1, which reports e1 and e3
        ("shelling -heavy", ["e3"]),
        ("barrel OR heavy", ["e1", "e3"]),
        ("duplicate", []),  # e9 is retracted
    ],
)
def test_q_searches_summaries_quotes_and_titles(
    client: TestClient, world: World, q: str, expected: list[str]
) -> None:
    assert found(client, world, q) == expected


def test_q_combines_with_the_other_filters_and_formats(client: TestClient, world: World) -> None:
    assert found(client, world, "main", event_type="Battles") == ["e5"]
    assert found(client, world, "duplicate", include_retracted="true") == ["e9"]
    assert found(client, world, "shelling", country="SY", fatalities_min=1) == ["e1"]
    text = client.get("/v1/events", params={"q": "main", "format": "csv", "sort": "id"}).text
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(text))] == [
        world.events["e4"],
        world.events["e5"],
    ]


@pytest.mark.parametrize("q", ["-heavy", "   ", "!!!"])
def test_a_search_with_nothing_to_find_is_422(client: TestClient, q: str) -> None:
    body = assert_problem(client.get("/v1/events", params={"q": q}), 422)
    assert ["query", "q"] in error_locs(body)
