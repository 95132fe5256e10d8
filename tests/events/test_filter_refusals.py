"""Filter values no event could ever match are refused, saying why, rather than answered with
an empty list: a country code that does not exist, ``date_from`` after ``date_to``. On the
events list (every format), the stats, the other lists and ``conflictdb export``. A real
country without events stays an empty answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.cli.test_import_cli import db, run
from tests.events.world import World
from tests.helpers import assert_problem

__all__ = ["db"]  # the fixture, used below by name

NO_SUCH_COUNTRY = "'{code}' is not an ISO 3166-1 alpha-2 country code"
DATES = "date_to 2018-04-30 is before date_from 2018-05-01"


@pytest.mark.parametrize(
    "path, params",
    [
        ("/v1/events", {"country": "XX"}),
        ("/v1/events", {"country": "xx", "format": "csv"}),
        ("/v1/events", {"country": "QQ", "format": "ndjson"}),
        ("/v1/stats/events", {"country": "XX", "interval": "year"}),
        ("/v1/stats/places", {"country": "XX"}),
        ("/v1/actors", {"country": "XX"}),
        ("/v1/places", {"country": "XX"}),
        ("/v1/outlets", {"country": "XX"}),
    ],
)
def test_a_country_code_that_does_not_exist_is_422(
    client: TestClient, path: str, params: dict[str, Any]
) -> None:
    body = assert_problem(client.get(path, params=params), 422, type_suffix="validation-error")
    msg = NO_SUCH_COUNTRY.format(code=params["country"].upper())
    assert body["errors"] == [{"loc": ["query", "country"], "msg": msg, "type": "unknown_country"}]
    assert body["detail"] == f"query.country: {msg}"


def _ids(client: TestClient, path: str, **params: Any) -> list[int]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def test_a_real_country_without_events_is_an_empty_answer(client: TestClient, world: World) -> None:
    assert _ids(client, "/v1/events", country="FR") == []
    # Kosovo's user-assigned code, which the dataset importers write, is a country too.
    assert _ids(client, "/v1/events", country="xk") == []
    assert _ids(client, "/v1/actors", country="FR") == []
    stats = client.get("/v1/stats/events", params={"country": "FR"})
    assert stats.status_code == 200
    assert stats.json()["data"] == [
        {"count": 0, "fatalities": 0, "fatalities_low": 0, "fatalities_high": 0}
    ]
    # One day is a range.
    _ids(client, "/v1/events", date_from="2018-01-05", date_to="2018-01-05")


@pytest.mark.parametrize(
    "path, params",
    [
        ("/v1/events", {}),
        ("/v1/events", {"format": "csv"}),
        ("/v1/events", {"format": "geojson"}),
        ("/v1/stats/events", {"interval": "month"}),
        ("/v1/stats/events", {"group_by": "event_type", "format": "csv"}),
        ("/v1/stats/places", {"level": "country"}),
    ],
)
def test_date_from_after_date_to_is_422(
    client: TestClient, path: str, params: dict[str, Any]
) -> None:
    dates = {"date_from": "2018-05-01", "date_to": "2018-04-30"}
    response = client.get(path, params={**dates, **params})
    body = assert_problem(response, 422, type_suffix="validation-error")
    assert body["errors"] == [{"loc": ["query", "date_to"], "msg": DATES, "type": "date_order"}]
    assert body["detail"] == f"query.date_to: {DATES}"


def test_published_from_after_published_to_is_422(client: TestClient) -> None:
    params = {"published_from": "2018-05-01", "published_to": "2018-04-30"}
    body = assert_problem(client.get("/v1/articles", params=params), 422)
    assert body["errors"] == [
        {
            "loc": ["query", "published_to"],
            "msg": "published_to 2018-04-30 is before published_from 2018-05-01",
            "type": "date_order",
        }
    ]


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--country", "XX"],
            f"conflictdb: error: --country: {NO_SUCH_COUNTRY.format(code='XX')}\n",
        ),
        (
            ["--date-from", "2018-05-01", "--date-to", "2018-04-30"],
            f"conflictdb: error: --date-to: {DATES}\n",
        ),
    ],
)
def test_export_refuses_them_with_the_same_words(
    database_url: str, db: Engine, options: list[str], message: str
) -> None:
    result = run(database_url, "export", *options)
    assert result.exit_code == 2, result.output
    assert result.stderr == message
    assert result.stdout == ""


@pytest.mark.parametrize(
    "path, json",
    [
        ("/v1/actors", {"name": "New Group", "kind": "rebel_group", "country": "XX"}),
        ("/v1/outlets", {"name": "Wire", "country": "XX"}),
        ("/v1/places", {"name": "Atlantis", "kind": "region", "country": "XX"}),
    ],
)
def test_a_body_names_existing_countries_too(
    client: TestClient, path: str, json: dict[str, Any]
) -> None:
    """What a filter refuses cannot be written either: each country stored can be filtered."""
    body = assert_problem(client.post(path, json=json), 422, type_suffix="validation-error")
    assert body["errors"] == [
        {
            "loc": ["body", "country"],
            "msg": NO_SUCH_COUNTRY.format(code="XX"),
            "type": "unknown_country",
        }
    ]
