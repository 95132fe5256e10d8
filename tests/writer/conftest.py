"""Fixtures for the edit tests: the write key's id, the demo's actors and places by name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from app.db.session import read_session
from app.models import ApiKey


@pytest.fixture
def key_id(engine: Engine, write_key: str) -> int:
    """The id of the API key the client fixture sends."""
    prefix = "_".join(write_key.split("_")[:2])
    with read_session(engine) as session:
        return int(session.execute(select(ApiKey.id).where(ApiKey.prefix == prefix)).scalar_one())


@pytest.fixture
def actors(demo: dict[str, Any]) -> dict[str, int]:
    return {a["name"]: a["id"] for a in demo["actors"]}


@pytest.fixture
def places(demo: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["id"] for p in demo["places"]}
