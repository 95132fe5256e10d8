"""Bounded query cost: a read that runs past CONFLICTDB_READ_TIMEOUT_MS is stopped (503)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.helpers import assert_problem, row_counts
from tests.stats.conftest import load

HEAVY = {"interval": "month", "group_by": "actor,outlet", "metrics": "count,fatalities"}


def test_a_read_past_the_timeout_is_stopped_with_a_503(
    settings: Settings, client: TestClient, engine: Engine
) -> None:
    load(engine, events=3000)
    counts = row_counts(engine)
    # The events path (no rollups, no answer cache) with a 1 ms bound on each statement.
    app = create_app(
        settings.model_copy(
            update={"read_timeout_ms": 1, "stats_use_rollups": False, "stats_cache_size": 0}
        )
    )
    with TestClient(app, headers=dict(client.headers)) as bounded:
        response = bounded.get("/v1/stats/events", params=HEAVY)
        problem = assert_problem(response, 503, type_suffix="query-timeout")
        assert "read timeout (1 ms)" in problem["detail"]
        assert int(response.headers["retry-after"]) > 0
    app.state.engine.dispose()
    # The same question without the bound is answered, and nothing was written meanwhile.
    assert client.get("/v1/stats/events", params=HEAVY).status_code == 200
    assert row_counts(engine) == counts
