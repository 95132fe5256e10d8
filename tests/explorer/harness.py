"""The explorer's test bench: a database with the demo and a few hundred synthetic events,
the real app on it (uvicorn, in its own process), and Debian's Chromium driven by Playwright.

Also used by docs/screenshot.py and bench/explorer.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.db import migrate
from app.db.session import create_db_engine
from app.demo import load_demo
from tests.system.crash.harness import APPS, Server

CHROMIUM = Path(os.environ.get("CONFLICTDB_CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium, headless, with nothing that would reach the network by itself.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SYNTHETIC_EVENTS = 300


def build_database(url: str, *, synthetic_events: int = SYNTHETIC_EVENTS) -> None:
    """Migrate, then write the synthetic world's events (bench/dataset.py: the same rows for
    the same size) and the demo report, through the writer as the app would."""
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        if synthetic_events:
            from bench import dataset

            dataset.load(engine, synthetic_events)
        load_demo(engine)
    finally:
        engine.dispose()


@contextmanager
def running_app(database_url: str, log_path: Path, **settings: Any) -> Iterator[Server]:
    """The real app on ``database_url`` (migrated already), with CONFLICTDB_<NAME>=value for
    each setting given."""
    server = Server(APPS["real"], database_url, log_path)
    server.env["CONFLICTDB_MIGRATE_ON_START"] = "false"
    for name, value in settings.items():
        server.env[f"CONFLICTDB_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    server.start()
    try:
        yield server
    finally:
        server.kill()


def engine_for(url: str) -> Engine:
    return create_db_engine(url)


def chromium_missing() -> str | None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    return None
