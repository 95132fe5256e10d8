"""Small assertions shared by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from httpx2 import Response
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

import app.models  # noqa: F401  (every table registered before DATA_TABLES is computed)
from app.db.base import Base
from app.db.session import read_session

PROBLEM = "application/problem+json"
DATA = Path(__file__).resolve().parent / "data"
GED_SAMPLE = DATA / "ucdp-ged-sample-1000.csv"
ACLED_SAMPLE = DATA / "acled-sample.csv"
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


def run_cli(
    database_url: str,
    *args: str,
    env: dict[str, str | None] | None = None,
    input: str | None = None,
) -> Result:
    """``conflictdb ARGS`` on that database through typer's CliRunner. An exception a command
    lets out fails the test (``catch_exceptions=False``) instead of becoming a status."""
    from app.cli import cli
    from app.config import get_settings

    get_settings.cache_clear()  # the CLI reads DATABASE_URL through the cached settings
    try:
        return CliRunner().invoke(
            cli,
            list(args),
            env={"CONFLICTDB_DATABASE_URL": database_url, **(env or {})},
            input=input,
            catch_exceptions=False,
        )
    finally:
        get_settings.cache_clear()
