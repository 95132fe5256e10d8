"""GET /v1/events in CSV, GeoJSON and NDJSON: content negotiation, each format parsed back
and equal to the JSON list, whole results streamed in keyset pages (more rows than a JSON
page holds), and gzip that compresses streams chunk by chunk."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import zlib
from datetime import date, timedelta
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import writer
from app.events import streams
from app.formats import events_csv as formats
from app.writer.transaction import write_session
from tests.conftest import seed
from tests.events.test_event_pages import statements
from tests.events.world import World
from tests.helpers import assert_problem, error_locs

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "ndjson": "application/x-ndjson",
}


def json_list(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/events", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["data"]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def blank(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "-fatalities_best"}, {"country": "SY", "sort": "date_start"}],
)
def test_csv_is_the_json_list_as_flat_rows(
    client: TestClient, world: World, params: dict[str, str]
) -> None:
    events = json_list(client, **params)
    response = client.get("/v1/events", params={"format": "csv", **params})
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA["csv"]
    assert response.headers["content-disposition"] == 'attachment; filename="events.csv"'
    rows = csv_rows(response.text)
    assert list(rows[0]) == list(formats.FLAT_COLUMNS)
    assert [int(r["id"]) for r in rows] == [e["id"] for e in events]
    for row, e in zip(rows, events, strict=True):
        assert row["external_id"] == blank(e["external_id"])
        assert (row["event_date"], row["date_end"]) == (e["date_start"], e["date_end"])
        assert (row["event_type"], row["sub_event_type"]) == (e["event_type"], e["sub_event_type"])
        assert row["country_code"] == blank(e["country"])
        place_columns = [row[c] for c in ("country", "admin1", "admin2", "admin3", "location")]
        assert (e["place_name"] in place_columns) if e["place_name"] else not any(place_columns)
        for name in ("latitude", "longitude"):
            assert (float(row[name]) if row[name] else None) == e[name]
        assert row["geo_precision"] == blank(e["geo_precision"])
        assert row["notes"] == blank(e["summary"])
        assert row["fatalities"] == blank(e["fatalities_best"])
        assert row["fatalities_low"] == blank(e["fatalities_low"])
        assert row["status"] == e["status"]


def test_geojson_is_the_json_list_as_features(client: TestClient, world: World) -> None:
    events = json_list(client)
    response = client.get("/v1/events", headers={"Accept": "application/geo+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA["geojson"]
    assert response.headers["content-disposition"] == 'attachment; filename="events.geojson"'
    collection = json.loads(response.content)
    assert set(collection) == {"type", "datasets", "features"}
    assert collection["type"] == "FeatureCollection"
    assert collection["datasets"] == []  # reported events only: no dataset's terms
    features = collection["features"]
    assert [f["id"] for f in features] == [e["id"] for e in events]
    without = 0
    for feature, e in zip(features, events, strict=True):
        assert feature["type"] == "Feature"
        if e["latitude"] is None:
            assert feature["geometry"] is None
            without += 1
        else:
            # RFC 7946: [longitude, latitude].
            assert feature["geometry"] == {
                "type": "Point",
                "coordinates": [e["longitude"], e["latitude"]],
            }
        # The properties are the event exactly as the JSON list gives it.
        assert feature["properties"] == e
    assert without == 2  # Qusayr has no coordinates, e13 no place


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"fields": "date_start,country", "sort": "-date_start"},
        {"include": "actors,sources", "sort": "fatalities_best", "country": "SY"},
    ],
)
def test_ndjson_lines_are_the_json_list(
    client: TestClient, world: World, params: dict[str, str]
) -> None:
    events = json_list(client, **params)
    response = client.get("/v1/events", params={"format": "ndjson", **params})
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA["ndjson"]
    assert "content-disposition" not in response.headers
    assert response.text.endswith("\n")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == events


@pytest.mark.parametrize(
    "accept, fmt",
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/*", "json"),
        ("text/csv", "csv"),
        ("text/*", "csv"),
        ("application/geo+json", "geojson"),
        ("application/x-ndjson", "ndjson"),
        ("text/html, application/xhtml+xml, */*;q=0.8", "json"),  # a browser
        ("text/csv;q=0.5, application/geo+json", "geojson"),
        ("application/json;q=0.1, text/csv;q=0.9", "csv"),
        ("*/*;q=0.1, application/x-ndjson", "ndjson"),
        ("application/*;q=0, text/csv", "csv"),
    ],
)
def test_accept_header_chooses_the_format(
    client: TestClient, world: World, accept: str | None, fmt: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/v1/events", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA[fmt]
    assert "accept" in [v.strip().lower() for v in response.headers["vary"].split(",")]


def test_format_parameter_wins_over_accept(client: TestClient, world: World) -> None:
    response = client.get("/v1/events", params={"format": "csv"}, headers={"Accept": "text/html"})
    assert response.headers["content-type"] == MEDIA["csv"]
    response = client.get(
        "/v1/events", params={"format": "json"}, headers={"Accept": "application/geo+json"}
    )
    assert response.headers["content-type"] == MEDIA["json"]


@pytest.mark.parametrize("accept", ["text/html", "application/xml, image/*", "*/*;q=0"])
def test_unacceptable_accept_is_406(client: TestClient, accept: str) -> None:
    body = assert_problem(client.get("/v1/events", headers={"Accept": accept}), 406)
    assert body["type"].endswith("/not-acceptable")
    assert "format=" in body["detail"]


@pytest.mark.parametrize(
    "params, refused",
    [
        ({"format": "csv", "limit": "10"}, ["limit"]),
        ({"format": "ndjson", "cursor": "abc"}, ["cursor"]),
        ({"format": "geojson", "total": "true"}, ["total"]),
        ({"format": "csv", "fields": "id"}, ["fields"]),
        ({"format": "csv", "include": "actors"}, ["include"]),
    ],
)
def test_paging_and_columns_are_refused_where_they_do_not_apply(
    client: TestClient, params: dict[str, str], refused: list[str]
) -> None:
    body = assert_problem(client.get("/v1/events", params=params), 422)
    assert error_locs(body) == [["query", name] for name in refused]
    assert all(name in body["detail"] for name in refused)


def test_a_bad_search_is_a_problem_before_any_stream(client: TestClient, world: World) -> None:
    body = assert_problem(client.get("/v1/events", params={"format": "csv", "q": "-only"}), 422)
    assert ["query", "q"] in error_locs(body)


def test_streams_of_nothing_are_well_formed(client: TestClient) -> None:
    assert csv_rows(client.get("/v1/events?format=csv").text) == []
    assert client.get("/v1/events?format=csv").text.startswith("id,external_id,")
    assert json.loads(client.get("/v1/events?format=geojson").content) == {
        "type": "FeatureCollection",
        "datasets": [],
        "features": [],
    }
    assert client.get("/v1/events?format=ndjson").content == b""


# -- more rows than a JSON page holds ----------------------------------------------------------

MANY = 2500


@seed
def many(engine: Engine) -> list[int]:
    """2,500 events through the writer's batch API, every tenth without a place and every
    seventh without a fatality figure; returns their ids."""
    with write_session(engine) as session:
        (place,) = writer.create_places(
            session,
            [writer.NewPlace("Aleppo", "populated_place", "SY", latitude=36.2, longitude=37.16)],
        )
        start = date(2010, 1, 1)
        return writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    sub_event_type="Armed clash",
                    date_start=start + timedelta(days=i % 400),
                    date_end=start + timedelta(days=i % 400),
                    date_precision="day",
                    place_id=None if i % 10 == 0 else place,
                    fatalities_best=None if i % 7 == 0 else i % 13,
                    summary=f'Event {i}, with a comma and a "quote"\nand a new line.',
                )
                for i in range(MANY)
            ],
        )


def page_queries(seen: list[str]) -> int:
    return len([s for s in seen if s.lstrip().startswith("SELECT event.id")])


@pytest.mark.parametrize("fmt", ["csv", "geojson", "ndjson"])
def test_streams_carry_the_whole_result_a_page_at_a_time(
    client: TestClient, engine: Engine, many: list[int], fmt: str
) -> None:
    assert client.get("/v1/events", params={"limit": 1001}).status_code == 422
    with statements(engine) as seen:
        response = client.get("/v1/events", params={"format": fmt, "sort": "fatalities_best"})
    assert response.status_code == 200
    if fmt == "csv":
        ids = [int(r["id"]) for r in csv_rows(response.text)]
    elif fmt == "geojson":
        ids = [f["id"] for f in json.loads(response.content)["features"]]
    else:
        ids = [json.loads(line)["id"] for line in response.text.splitlines()]
    assert len(ids) == MANY and set(ids) == set(many)
    # One keyset statement a page (each page read in its own short transaction, so a slow
    # client holds no connection between pages), never fetched whole; its relations are read
    # a page at a time. After the first page, one statement finds the ends of ranges of nine
    # tenths of a page, each read in one page: no page sorts every row still to come.
    span = streams.PAGE_SIZE * 9 // 10
    assert page_queries(seen) == 1 + math.ceil((MANY - streams.PAGE_SIZE) / span)
    assert len([s for s in seen if "row_number() OVER" in s]) == 1
    if fmt == "csv":  # places, actors and sources: a query each for each page of 1,000
        assert len([s for s in seen if "JOIN event_actor" in s]) == 3
    # The order is the JSON list's, page after page.
    listed: list[int] = []
    cursor = None
    while True:
        body = client.get(
            "/v1/events",
            params={
                "sort": "fatalities_best",
                "limit": 1000,
                **({"cursor": cursor} if cursor else {}),
            },
        ).json()
        listed += [e["id"] for e in body["data"]]
        if not (cursor := body["next_cursor"]):
            break
    assert ids == listed


def test_gzip_for_large_answers_only(client: TestClient, many: list[int]) -> None:
    small = client.get(
        "/v1/events", params={"limit": 1, "fields": "id"}, headers={"Accept-Encoding": "gzip"}
    )
    assert small.status_code == 200
    assert "content-encoding" not in small.headers
    assert len(small.json()["data"]) == 1
    large = client.get("/v1/events", params={"limit": 1000}, headers={"Accept-Encoding": "gzip"})
    assert large.headers["content-encoding"] == "gzip"
    assert len(large.json()["data"]) == 1000
    plain = client.get(
        "/v1/events", params={"limit": 1000}, headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == large.json()
    for fmt in ("csv", "ndjson", "geojson"):
        zipped = client.get(
            "/v1/events", params={"format": fmt}, headers={"Accept-Encoding": "gzip"}
        )
        assert zipped.headers["content-encoding"] == "gzip"
        unzipped = client.get(
            "/v1/events", params={"format": fmt}, headers={"Accept-Encoding": "identity"}
        )
        assert zipped.content == unzipped.content


def asgi_get(app: Any, query: str, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """Drive the ASGI app directly and keep every message it sends (a test client would
    reassemble the body)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/events",
        "raw_path": b"/v1/events",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(app, scope, receive, send)
    return messages


def test_gzip_compresses_a_stream_chunk_by_chunk(client: TestClient, many: list[int]) -> None:
    """GZipMiddleware must not hold a stream back: each chunk leaves compressed and
    flushed, so the first rows can be decompressed before the last are read."""
    messages = asgi_get(client.app, "format=csv", [(b"accept-encoding", b"gzip")])
    start, *bodies = messages
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    assert len(bodies) > 5  # 2,500 rows of CSV in chunks of ~64 KiB
    assert all(m["more_body"] for m in bodies[:-1]) and not bodies[-1]["more_body"]
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first = inflate.decompress(bodies[0]["body"])
    assert first.startswith(b"id,external_id,event_date,") and len(first) > 10_000
    rest = b"".join(inflate.decompress(m["body"]) for m in bodies[1:])
    assert inflate.eof
    assert len(csv_rows((first + rest).decode())) == MANY
    # The same bytes as gzip decompresses them all at once.
    assert gzip.decompress(b"".join(m["body"] for m in bodies)) == first + rest


def test_stream_chunks_are_bounded(client: TestClient, many: list[int]) -> None:
    messages = asgi_get(client.app, "format=csv", [])
    sizes = [len(m["body"]) for m in messages[1:]]
    # About STREAM_CHUNK_BYTES each: a chunk closes at the first batch of rows past it.
    assert max(sizes) < 2 * streams.CHUNK_BYTES
    assert len(sizes) > 3
    # GeoJSON and NDJSON leave a page of 1,000 events at a time (2,500: three pages).
    for fmt in ("geojson", "ndjson"):
        pages = [m for m in asgi_get(client.app, f"format={fmt}", [])[1:] if m["body"]]
        assert len(pages) >= 3, fmt
