"""The writer's derived-state step names real tables, and bookkeeping leaves the version alone."""

from __future__ import annotations

import app.models  # noqa: F401  (registers every table)
from app import derived
from app.db.base import Base
from app.db.session import create_db_engine, read_session
from tests.conftest import make_key


def test_bookkeeping_tables_are_real_tables() -> None:
    assert set(Base.metadata.tables) >= derived.NOT_DATA


def test_creating_a_key_leaves_the_data_version_alone(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with read_session(engine) as session:
            before = derived.current_version(session)
        make_key(database_url, ["write"], name="bookkeeping")
        with read_session(engine) as session:
            assert derived.current_version(session) == before
    finally:
        engine.dispose()
