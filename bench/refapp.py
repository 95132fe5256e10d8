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
