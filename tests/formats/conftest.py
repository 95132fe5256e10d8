"""Fixtures for the export tests: a second empty database of the same backend (round trips)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.db.session import create_db_engine
from tests.conftest import PG_TEMPLATE, PostgresServer
from tests.samples import acled_records, acled_results, ged_records, ged_results, ged_rows

__all__ = [
    "acled_records",
    "acled_results",
    "ged_records",
    "ged_results",
    "ged_rows",
    "other_engine",
]


@pytest.fixture
def other_engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A second fresh, migrated, empty database of the test's backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "other.sqlite3"
        shutil.copyfile(template, path)
        engine = create_db_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    request.getfixturevalue("pg_template")
    name = f"other_{uuid.uuid4().hex[:12]}"
    engine = create_db_engine(server.create(name, template=PG_TEMPLATE))
    try:
        yield engine
    finally:
        engine.dispose()
        server.drop(name)
