"""The suite's own derived-state check (tests/derived_check.py) must see a write that skipped
the writer, also in a database where nothing else was written (its empty-database shortcut)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Date, DateTime, bindparam, text

from tests.conftest import helper_engine
from tests.derived_check import assert_derived_consistent


def test_an_empty_database_passes(database_url: str) -> None:
    assert_derived_consistent(database_url)


def test_an_event_written_by_hand_into_an_empty_database_is_caught(database_url: str) -> None:
    with helper_engine(database_url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (event_type, sub_event_type, date_start, date_end,"
                " date_precision, status, summary, created_at, updated_at)"
                " VALUES ('Protests', 'Peaceful protest', :day, :day, 'day', 'active',"
                " 'A sit-in in Nabk.', :now, :now)"
            ).bindparams(
                bindparam("day", date(2018, 4, 20), type_=Date()),
                bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True)),
            )
        )
    with pytest.raises(AssertionError):
        assert_derived_consistent(database_url)
    # Leave the database as the fixture's own check expects it.
    with helper_engine(database_url).begin() as conn:
        conn.execute(text("DELETE FROM event"))
