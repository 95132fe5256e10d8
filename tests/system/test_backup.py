"""Backups that restore: `conflictdb db backup` while eight clients post reports to a real
server, then `conflictdb db restore` into an empty database. The copy passes the database's
integrity check and the derived-state check, and holds every report acknowledged before the
backup began (and nothing half-written)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, select

from app.db import backup
from app.db.session import create_db_engine, read_session
from app.models import Article, Event, Report
from tests.cli.test_import_cli import run
from tests.derived_check import assert_derived_consistent
from tests.reports.test_reports import small_report
from tests.system.crash.harness import APPS, Server, prepare_database

pytestmark = pytest.mark.slow

CLIENTS = 8


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    key, _ = prepare_database(database_url)
    running = Server(APPS["real"], database_url, tmp_path / "server.log")
    running.start()
    try:
        yield running, key
    finally:
        running.kill()


def _post_until(
    stop: threading.Event, base_url: str, key: str, client: int, acked: dict[str, float]
) -> None:
    with httpx2.Client(base_url=base_url, timeout=30.0) as http:
        n = 0
        while not stop.is_set():
            url = f"https://backup.example.org/{client}/{n}"
            report = small_report(
                url=url, body=f"Shelling hit al-Bab, report {client}-{n}. Two people died."
            )
            response = http.post(
                "/v1/reports",
                json=report,
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bk-{client}-{n}"},
            )
            if response.status_code in (200, 201):
                acked[url] = time.monotonic()  # acknowledged: committed before this moment
                n += 1
            elif response.status_code not in (429, 503):
                raise AssertionError(f"{response.status_code}: {response.text}")


def _urls(engine: Engine) -> set[str]:
    with read_session(engine) as session:
        return set(session.scalars(select(Article.url)))


def test_a_backup_taken_under_load_restores_whole(
    server: tuple[Server, str],
    database_url: str,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    running, key = server
    acked: dict[str, float] = {}
    stop = threading.Event()
    threads = [
        threading.Thread(target=_post_until, args=(stop, running.base_url, key, c, acked))
        for c in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        began = time.monotonic()
        file = tmp_path / "conflictdb.backup"
        result = run(database_url, "db", "backup", str(file))
        assert result.exit_code == 0, result.output
        time.sleep(0.5)  # writes go on after the backup too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    before = {url for url, at in acked.items() if at < began}
    assert len(before) >= 40

    result = run(empty_database_url, "db", "restore", str(file))
    assert result.exit_code == 0, result.output
    restored = create_db_engine(empty_database_url)
    try:
        assert backup.integrity_problems(restored) == []
        urls = _urls(restored)
        assert before <= urls, sorted(before - urls)[:5]
        # Nothing half-written: every article came with its report and its event.
        with read_session(restored) as session:
            articles = session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1))
            assert articles is not None
            assert len(list(session.scalars(select(Report.article_id)))) == len(urls)
            assert len(list(session.scalars(select(Event.id)))) == len(urls)
    finally:
        restored.dispose()
    assert_derived_consistent(empty_database_url)

    # A database holding data is refused unless --replace.
    refused = run(empty_database_url, "db", "restore", str(file))
    assert refused.exit_code == 1
    assert "already holds data" in refused.output
    replaced = run(empty_database_url, "db", "restore", str(file), "--replace")
    assert replaced.exit_code == 0, replaced.output
    again = create_db_engine(empty_database_url)
    try:
        assert _urls(again) == urls
    finally:
        again.dispose()


def test_a_backup_of_the_other_backend_is_refused(database_url: str, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.backup"
    wrong.write_bytes(b"PGDMP" if database_url.startswith("sqlite") else b"SQLite format 3\x00")
    result = run(database_url, "db", "restore", str(wrong))
    assert result.exit_code == 1
    assert "restore failed" in result.output
    missing = run(database_url, "db", "restore", str(tmp_path / "nope.backup"))
    assert missing.exit_code == 1 and "no such backup file" in missing.output
