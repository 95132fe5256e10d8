"""Small assertions shared by the tests."""

from __future__ import annotations

from typing import Any

from httpx2 import Response
from sqlalchemy import Engine, func, select

import app.models  # noqa: F401  (every table registered before DATA_TABLES is computed)
from app.db.base import Base
from app.db.session import read_session

PROBLEM = "application/problem+json"
# Lookup tables are seeded by the migrations; everything else starts empty.
DATA_TABLES = [
    t
    for t in Base.metadata.sorted_tables
    if t.name
    not in {
        "event_type",
        "sub_event_type",
        "actor_kind",
        "place_kind",
        "outlet_kind",
        "date_precision",
        "event_role",
        "affiliation_relation",
        "event_status",
    }
]


def row_counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
            for t in DATA_TABLES
        }


def assert_problem(
    response: Response, status: int, *, type_suffix: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    if type_suffix is not None:
        assert body["type"].endswith("/" + type_suffix), body["type"]
    return body


def error_locs(body: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in body.get("errors", [])]
