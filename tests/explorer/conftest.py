"""Fixtures of the browser tests: the real app on a database with the demo and a few hundred
synthetic events (tests/explorer/harness.py), and a fresh Chromium page per test that records
every console error, uncaught exception, failed request and dialog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.explorer.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    build_database,
    chromium_missing,
    running_app,
)

playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Site:
    """The running app: its base URL and an HTTP client for asking the API directly."""

    base_url: str
    http: httpx2.Client
    key: str | None = None


@pytest.fixture(scope="session")
def explorer_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("explorer") / "explorer.sqlite3"
    url = f"sqlite:///{path}"
    build_database(url)
    return url


@pytest.fixture(scope="session")
def site(explorer_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    log = tmp_path_factory.mktemp("explorer-log") / "server.log"
    with (
        running_app(explorer_database, log) as server,
        httpx2.Client(base_url=server.base_url, timeout=30) as http,
    ):
        yield Site(server.base_url, http)


# Per module, not per session: Playwright's sync API keeps an event loop running in the
# worker's main thread while it is open, and a later test of another module on the same
# worker (asyncio.run) must not find it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = chromium_missing()
    if missing:
        pytest.fail(missing)
    with playwright_api.sync_playwright() as p:
        # launch() gives every run a fresh, throwaway user-data-dir.
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watched:
    """What went wrong on a page: console errors, uncaught exceptions, failed requests
    (network failures and answers of 400 or more), dialogs opened."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self, *, allow_status: tuple[int, ...] = ()) -> None:
        failed = [
            r
            for r in self.failed_requests
            if not r.startswith(tuple(f"{s} " for s in allow_status))
        ]
        console = [
            c
            for c in self.console_errors
            # Chromium logs each refused request (4xx/5xx) once; those are checked above.
            if not (allow_status and "Failed to load resource" in c)
        ]
        assert not failed, failed
        assert not console, console
        assert not self.page_errors, self.page_errors
        assert not self.dialogs, self.dialogs


def watch(page: Any) -> Watched:
    watched = Watched(page)

    def on_console(message: Any) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    def on_request_failed(request: Any) -> None:
        # A read the page cancelled itself (new filters superseded it) is not a failure.
        if "ERR_ABORTED" not in (request.failure or ""):
            watched.failed_requests.append(f"failed {request.url} {request.failure}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            watched.failed_requests.append(f"{response.status} {response.url}")

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.on("dialog", on_dialog)
    return watched


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def watched(context: Any) -> Watched:
    page = context.new_page()
    page.set_default_timeout(20_000)
    return watch(page)


def open_explorer(watched: Watched, site: Site, query: str = "") -> Any:
    """Load the explorer and wait until the map, the timeline and the table are drawn."""
    page = watched.page
    page.goto(f"{site.base_url}/{query}")
    wait_ready(page)
    return page


def wait_ready(page: Any) -> None:
    page.wait_for_function(
        "() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error'"
    )


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path
