"""`conflictdb db rebuild-derived` through typer's CliRunner, on both databases: derived state
broken by writes made outside the API is whole again afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, DateTime, Engine, bindparam, text
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings
from tests.derived_check import assert_derived_consistent


def rebuild(database_url: str) -> Result:
    get_settings.cache_clear()  # the CLI reads DATABASE_URL through the cached settings
    try:
        return CliRunner().invoke(
            cli,
            ["db", "rebuild-derived"],
            env={"CONFLICTDB_DATABASE_URL": database_url},
            catch_exceptions=False,
        )
    finally:
        get_settings.cache_clear()


def feed(engine: Engine) -> list[tuple[int, int, str]]:
    with engine.connect() as conn:
        return [
            (r.version, r.event_id, r.action)
            for r in conn.execute(
                text(
                    "SELECT version, event_id, action FROM event_change ORDER BY version, event_id"
                )
            )
        ]


def data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM data_version")).scalar_one())


def test_rebuild_mends_derived_state_broken_outside_the_api(
    database_url: str, client: TestClient, engine: Engine, demo: dict[str, Any]
) -> None:
    events = demo["events"]
    retracted = events["air-raids-jabal-sharqi"]
    fixed = events["ground-battles-ruheibah"]
    deleted = events.pop("rebels-seize-military-points")
    response = client.delete(f"/v1/events/{retracted}", params={"reason": "duplicate"})
    assert response.status_code == 200, response.text
    assert_derived_consistent(database_url)

    # Writes made by hand, as in a bad manual fix: an event edited, one deleted (its search
    # document stays on SQLite: FTS5 has no foreign key), one added with no derived state at
    # all, the rollups lost.
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE event SET fatalities_best = 42, summary = 'Fighting reached Yabroud.'"
                " WHERE id = :id"
            ),
            {"id": fixed},
        )
        added = conn.execute(
            text(
                "INSERT INTO event (event_type, sub_event_type, date_start, date_end,"
                " date_precision, status, summary, created_at, updated_at)"
                " VALUES ('Protests', 'Peaceful protest', :day, :day, 'day', 'active',"
                " 'A sit-in in Nabk.', :now, :now) RETURNING id"
            ).bindparams(
                bindparam("day", date(2018, 4, 20), type_=Date()),
                bindparam("now", datetime.now(UTC), type_=DateTime(timezone=True)),
            )
        ).scalar_one()
        conn.execute(text("DELETE FROM event WHERE id = :id"), {"id": deleted})
        conn.execute(text("DELETE FROM event_rollup"))
    with pytest.raises(AssertionError):
        assert_derived_consistent(database_url)
    before_feed, before_version = feed(engine), data_version(engine)

    result = rebuild(database_url)

    assert result.exit_code == 0, result.output
    assert f"of {len(events) + 1} events" in result.stderr
    assert result.stdout == ""
    assert_derived_consistent(database_url)
    version = data_version(engine)
    assert version == before_version + 1
    after = feed(engine)
    assert after[: len(before_feed)] == before_feed  # the history is kept
    new = {event_id: action for v, event_id, action in after[len(before_feed) :] if v == version}
    assert len(after) == len(before_feed) + len(new)
    assert new == {
        **{event_id: "updated" for event_id in events.values()},
        retracted: "retracted",
        added: "created",
    }
    # The app reads the rebuilt state: search, rollup-backed stats, the feed.
    found = client.get("/v1/events", params={"q": "yabroud"}).json()["data"]
    assert [e["id"] for e in found] == [fixed]
    found = client.get("/v1/events", params={"q": "nabk"}).json()["data"]
    assert [e["id"] for e in found] == [added]
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT detail FROM audit_log WHERE action = 'derived.rebuild'")
        ).all()
    assert len(audited) == 1

    # On a database whose derived state is whole, a rebuild changes nothing but the version.
    with engine.connect() as conn:
        rollups = conn.execute(text("SELECT * FROM event_rollup ORDER BY 1, 2, 3, 4, 5")).all()
    again = rebuild(database_url)
    assert again.exit_code == 0, again.output
    assert_derived_consistent(database_url)
    assert data_version(engine) == version + 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM event_rollup ORDER BY 1, 2, 3, 4, 5")).all() == (
            rollups
        )


def test_rebuild_on_an_empty_database(database_url: str) -> None:
    result = rebuild(database_url)
    assert result.exit_code == 0, result.output
    assert "of 0 events" in result.stderr
    assert_derived_consistent(database_url)


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(cli, ["db", "rebuild-derived", "--help"])
    assert result.exit_code == 0
    assert "Example: conflictdb db rebuild-derived" in result.output
