"""Screenshots of the explorer on the demo data, for the README: docs/explorer.png (the map
close up on East Qalamoun, the timeline and the table) and docs/explorer-event.png (the air
raids' evidence, quotes marked in the article).

    make screenshots        # = PYTHONPATH=. .venv/bin/python docs/screenshot.py

Runs the real app on a fresh SQLite database holding only the demo report, and Debian's
Chromium through Playwright (tests/explorer/harness.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.explorer.harness import CHROMIUM, CHROMIUM_ARGS, build_database, running_app

DOCS = Path(__file__).resolve().parent
# East Qalamoun, close enough that the demo's events are drawn one by one.
VIEW = "?map=8/33.8/36.7"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        build_database(url, synthetic_events=0)
        with running_app(url, Path(tmp) / "server.log") as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 860})
            page.goto(f"{server.base_url}/{VIEW}")
            page.wait_for_function("() => document.body.dataset.state === 'ready'")
            page.wait_for_function(
                "() => document.querySelector('#map').dataset.drawn === 'events'"
            )
            page.screenshot(path=DOCS / "explorer.png")
            barrel_bombs = page.locator("#events-table tbody tr", has_text="Air/drone strike")
            barrel_bombs.get_by_role("button").click()
            page.wait_for_selector("#panel[data-state=ready]")
            page.locator("#panel details").first.scroll_into_view_if_needed()
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=DOCS / "explorer-event.png")
            browser.close()
    print(f"wrote {DOCS / 'explorer.png'} and {DOCS / 'explorer-event.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
