"""The reference app: the dashboard queries served by FastAPI + asyncpg + orjson, and nothing else.

What the Python stack can do at best on PostgreSQL (bench/dashboards.py measures our API
against it): raw SQL from bench/dashboard_sql.py, a connection pool, no ORM, no validation
of the output. ``BENCH_REFAPP_DSN=postgresql://... uvicorn bench.refapp:app --workers 1``
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

from bench.dashboard_sql import Q1, Q3, for_asyncpg, q2

SQL = {"q1": for_asyncpg(Q1), "q2": for_asyncpg(q2("postgresql")), "q3": for_asyncpg(Q3)}
pool: Any = None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_REFAPP_DSN"], min_size=10, max_size=10)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/q/{name}")
async def rows(name: str, country: str, date_from: date, date_to: date) -> Response:
    found = await pool.fetch(SQL[name], country, date_from, date_to)
    return Response(orjson.dumps({"data": [dict(r) for r in found]}), media_type="application/json")


@app.get("/geojson")
async def geojson(country: str, date_from: date, date_to: date) -> StreamingResponse:
    async def features() -> AsyncIterator[bytes]:
        async with pool.acquire() as conn, conn.transaction():
            cursor, sep = await conn.cursor(SQL["q3"], country, date_from, date_to), b""
            yield b'{"type":"FeatureCollection","features":['
            while batch := await cursor.fetch(1000):
                yield sep + b",".join(orjson.dumps(_feature(dict(r))) for r in batch)
                sep = b","
            yield b"]}"

    return StreamingResponse(features(), media_type="application/geo+json")


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    lon, lat = row.pop("longitude"), row.pop("latitude")
    point = {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None
    return {"type": "Feature", "geometry": point, "properties": row}


# -- Q4: an event with its evidence (GET /v1/events/{id}), byte for byte ------------------------
# The same JSON body as our API's detail, built from plain SQL: the event's row, its place and
# the places containing it, its actors, its sources (article, outlet, quotes), its claims
# (each voice's latest standing), incident and dataset codes. Protected speakers' names are
# hidden, as for an anonymous client. Events imported from a dataset (with provenance) are out
# of its scope: bench/dataset.py's events are reports, and bench.dashboards checks the bytes.

_EVENT = """SELECT id, external_id, event_type, sub_event_type, date_start, date_end,
  date_precision, geo_precision, summary, fatalities_low, fatalities_best, fatalities_high,
  deaths_a, deaths_b, deaths_civilians, deaths_unknown, interaction, evidence, source_count,
  outlet_count, quote_count, first_reported_date, disputed, status, retraction_reason,
  retracted_at, version, created_at, updated_at, place_id, incident_id
FROM event WHERE id = $1"""
_PLACE = "SELECT id, name, kind, country, latitude, longitude FROM place WHERE id = $1"
_ANCESTORS = """SELECT p.id, p.name, p.kind, p.country
FROM place p JOIN place_ancestor a ON a.ancestor_id = p.id
WHERE a.place_id = $1 AND a.depth > 0 ORDER BY a.depth DESC"""
_ACTORS = """SELECT a.id, a.name, a.kind, a.country, ea.side, ea.role
FROM actor a JOIN event_actor ea ON ea.actor_id = a.id
WHERE ea.event_id = $1 ORDER BY ea.side NULLS LAST, a.id"""
_SOURCES = """SELECT es.id AS source_id, ar.id AS article_id, ar.title, ar.url, ar.published_date,
  o.id AS outlet_id, o.name AS outlet_name, q.id, q.text, q.in_title, q.start_offset,
  q.end_offset, q.speaker_name, q.speaker_role, q.speaker_protected,
  sf.id AS speaks_for_id, sf.name AS speaks_for_name
FROM event_source es
JOIN article ar ON ar.id = es.article_id
JOIN outlet o ON o.id = ar.outlet_id
LEFT JOIN event_source_quote esq ON esq.event_source_id = es.id
LEFT JOIN quote q ON q.id = esq.quote_id
LEFT JOIN actor sf ON sf.id = q.speaks_for_actor_id
WHERE es.event_id = $1
ORDER BY ar.published_date NULLS LAST, ar.id, q.in_title DESC, q.start_offset, q.id"""
_CLAIMS = """SELECT c.id, c.field, c.kind, c.value, c.qualifier, c.origin, c.article_id,
  o.id AS outlet_id, o.name AS outlet_name, c.quote_id, c.dataset_id, d.name AS dataset,
  ar.published_date, c.created_at AS recorded_at, c.withdrawn_at, c.withdrawn_reason
FROM claim c
LEFT JOIN article ar ON ar.id = c.article_id
LEFT JOIN outlet o ON o.id = ar.outlet_id
LEFT JOIN dataset d ON d.id = c.dataset_id
WHERE c.event_id = $1 ORDER BY c.id"""
_INCIDENT = """SELECT i.lead_event_id, array(SELECT e.id FROM event e WHERE e.incident_id = i.id
  ORDER BY e.id) AS event_ids FROM incident i WHERE i.id = $1"""
_DIMENSIONS = """SELECT dc.scheme, dc.code, dc.label
FROM event_dimension ed JOIN dimension_code dc ON dc.id = ed.code_id
WHERE ed.event_id = $1 ORDER BY dc.scheme, dc.code"""
_OPTIONS = orjson.OPT_UTC_Z


@app.get("/events/{event_id}")
async def event_detail(event_id: int) -> Response:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(_EVENT, event_id)
        if row is None:
            return Response(status_code=404)
        event = dict(row)
        place_id, incident_id = event.pop("place_id"), event.pop("incident_id")
        place = None
        if place_id is not None:
            place = dict(await conn.fetchrow(_PLACE, place_id))
            place["ancestors"] = [dict(r) for r in await conn.fetch(_ANCESTORS, place_id)]
        actors = [dict(r) for r in await conn.fetch(_ACTORS, event_id)]
        sources = _sources(await conn.fetch(_SOURCES, event_id))
        claims = _claims(await conn.fetch(_CLAIMS, event_id))
        incident = None
        if incident_id is not None:
            found = await conn.fetchrow(_INCIDENT, incident_id)
            if found is not None:
                incident = {"id": incident_id, "lead_event_id": found[0], "event_ids": found[1]}
        dimensions = [dict(r) for r in await conn.fetch(_DIMENSIONS, event_id)]
    # The API's key order: the event's columns, its dataset codes after `interaction`.
    body: dict[str, Any] = {}
    for key, value in event.items():
        body[key] = value
        if key == "interaction":
            body["dimensions"] = dimensions
    body.update(
        place=place,
        actors=actors,
        sources=sources,
        measures=[
            {
                "kind": c["kind"],
                "value": c["value"],
                "qualifier": c["qualifier"],
                "quote_id": c["quote_id"],
                "article_id": c["article_id"],
                "claim_id": c["id"],
            }
            for c in claims
            if c["field"] == "measure" and c["status"] == "standing"
        ],
        claims=claims,
        incident=incident,
        provenance=None,
    )
    return Response(orjson.dumps(body, option=_OPTIONS), media_type="application/json")


def _sources(rows: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    current, current_id = None, None
    for r in rows:
        if r["source_id"] != current_id:
            current_id = r["source_id"]
            current = {
                "article_id": r["article_id"],
                "title": r["title"],
                "url": r["url"],
                "published_date": r["published_date"],
                "outlet": {"id": r["outlet_id"], "name": r["outlet_name"]},
                "quotes": [],
            }
            out.append(current)
        if r["id"] is not None and current is not None:
            name = r["speaker_name"]
            if r["speaker_protected"] and name is not None:
                name = "a source"
            current["quotes"].append(
                {
                    "id": r["id"],
                    "text": r["text"],
                    "in_title": r["in_title"],
                    "start": r["start_offset"],
                    "end": r["end_offset"],
                    "speaker": {
                        "name": name,
                        "role": r["speaker_role"],
                        "speaks_for": (
                            {"id": r["speaks_for_id"], "name": r["speaks_for_name"]}
                            if r["speaks_for_id"] is not None
                            else None
                        ),
                        "protected": r["speaker_protected"],
                    },
                }
            )
    return out


def _claims(rows: list[Any]) -> list[dict[str, Any]]:
    """Each claim with its status: withdrawn; standing (a measure, or its voice's latest on its
    field: an outlet's, a dataset's or the curators'); or superseded."""
    latest: dict[tuple[str, str, int | None], int] = {}
    standing = [r for r in rows if r["withdrawn_at"] is None and r["field"] != "measure"]
    for r in sorted(standing, key=lambda r: (r["published_date"] or date.min, r["id"])):
        if r["origin"] == "curator":
            voice: tuple[str, int | None] = ("curator", None)
        elif r["origin"] == "dataset":
            voice = ("dataset", r["dataset_id"])
        else:
            voice = ("outlet", r["outlet_id"])
        latest[(r["field"], *voice)] = r["id"]
    latest_ids = set(latest.values())
    out = []
    for r in rows:
        if r["withdrawn_at"] is not None:
            status = "withdrawn"
        elif r["field"] == "measure" or r["id"] in latest_ids:
            status = "standing"
        else:
            status = "superseded"
        out.append(
            {
                "id": r["id"],
                "field": r["field"],
                "kind": r["kind"],
                "value": None if r["value"] is None else float(r["value"]),
                "qualifier": r["qualifier"],
                "origin": r["origin"],
                "article_id": r["article_id"],
                "outlet": (
                    {"id": r["outlet_id"], "name": r["outlet_name"]}
                    if r["outlet_id"] is not None
                    else None
                ),
                "quote_id": r["quote_id"],
                "dataset": r["dataset"],
                "status": status,
                "recorded_at": r["recorded_at"],
                "withdrawn_at": r["withdrawn_at"],
                "withdrawn_reason": r["withdrawn_reason"],
            }
        )
    return out
