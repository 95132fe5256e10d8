"""PostgreSQL's pool pings a connection before handing it out only after it was idle a while
(app.db.dialect.PING_AFTER_IDLE_S): a connection the server dropped meanwhile is replaced, not
handed to a request."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import dialect
from app.db.session import create_db_engine


def _kill_pooled_connection(url: str, pid: int) -> None:
    other = create_db_engine(url)
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    finally:
        other.dispose()


@pytest.mark.parametrize("idle_s", [0.0, 3600.0])
def test_an_idle_connection_the_server_dropped_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch, idle_s: float
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop a connection")
    # 0: every pooled connection counts as idle, so it is pinged (and replaced); 3600: none
    # is, and the dropped connection reaches the caller (the control: the test can fail).
    monkeypatch.setattr(dialect, "PING_AFTER_IDLE_S", idle_s)
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _kill_pooled_connection(database_url, pid)
        if idle_s:
            with pytest.raises(OperationalError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
