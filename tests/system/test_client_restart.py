"""An ingestion script built on app.client, run end to end against the real server (uvicorn)
while the server is killed and restarted under it: every report is stored exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.client import Client, Summary
from app.db.session import create_db_engine, read_session
from app.models import Article, Event, EventSource, Quote
from tests.system.crash.harness import Server, prepare_database

# A real server killed and restarted twice under a running script.
pytestmark = pytest.mark.slow

REPORTS = 80
RESTARTS = 2


def report(n: int) -> dict[str, Any]:
    body = f"Clashes broke out in al-Bab on Monday, residents said. Report {n}."
    return {
        "article": {
            "url": f"https://restart.example.org/{n}",
            "published_date": "2018-04-18",
            "outlet": {"name": "Restart Wire"},
            "body": body,
        },
        "quotes": [{"key": "q", "text": body}],
        "events": [
            {
                "key": "e",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "date_start": "2018-04-16",
                "place": {
                    "name": "al-Bab",
                    "kind": "populated_place",
                    "parent": {"name": "Syria", "kind": "country", "country": "SY"},
                },
                "actors": [
                    {"actor": {"name": f"Brigade {n % 5}", "kind": "rebel_group", "country": "SY"}}
                ],
                "quotes": ["q"],
            }
        ],
    }


def stored(database_url: str) -> int:
    engine = create_db_engine(database_url)
    try:
        with read_session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(Article)) or 0)
    finally:
        engine.dispose()


def test_an_ingestion_script_survives_server_restarts(database_url: str, tmp_path: Path) -> None:
    key, _ = prepare_database(database_url)
    server = Server("app.main:create_app", database_url, tmp_path / "server.log")
    server.start()
    outcome: dict[str, Any] = {}

    def script() -> None:
        # What a user writes: a client with retries, and the reports.
        try:
            with Client(
                server.base_url, api_key=key, retries=40, backoff=0.1, max_backoff=1.0
            ) as api:
                outcome["summary"] = api.post_reports(
                    (report(n) for n in range(REPORTS)), concurrency=4
                )
                outcome["attempts"] = api.attempts
        except BaseException as exc:  # reported below, in the test's thread
            outcome["error"] = exc

    runner = threading.Thread(target=script)
    try:
        runner.start()
        for restart in range(RESTARTS):
            # Kill it mid-run: once some reports (more each time) are stored.
            deadline = time.monotonic() + 120
            while stored(database_url) < (restart + 1) * REPORTS // (RESTARTS + 2):
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.02)
            server.kill()
            time.sleep(0.5)
            server.start()
        runner.join(timeout=300)
        assert not runner.is_alive()
    finally:
        server.kill()
    assert "error" not in outcome, outcome.get("error")
    summary: Summary = outcome["summary"]
    assert summary.refused == []
    assert summary.created + summary.replayed + summary.unchanged == REPORTS
    assert outcome["attempts"] > REPORTS  # the kills cut requests off, and they were retried
    engine = create_db_engine(database_url)
    try:
        with read_session(engine) as session:
            urls = session.scalars(select(Article.url)).all()
            assert sorted(str(u) for u in urls) == sorted(
                f"https://restart.example.org/{n}" for n in range(REPORTS)
            )
            assert session.scalar(select(func.count()).select_from(Event)) == REPORTS
            assert session.scalar(select(func.count()).select_from(Quote)) == REPORTS
            assert session.scalar(select(func.count()).select_from(EventSource)) == REPORTS
    finally:
        engine.dispose()
