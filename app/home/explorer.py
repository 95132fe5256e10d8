"""The explorer: the page at ``/`` (map, timeline, table and evidence panel of the events).

The page is plain HTML that loads the explorer's ES modules from ``/static/explorer`` and its
libraries from ``/static/vendor`` (VENDORED.md); everything it shows it reads from the public
API, as any dashboard would. Its query string is the view's state (filters, sort, page, the
open event), read by the page's own script, so the server ignores it.

Every answer carries a Content-Security-Policy that lets the page run only the app's own
scripts (no inline script, no eval) and talk only to its own origin (and to the tile server,
when one is configured): data shown on the page cannot become code.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.config import Settings
from app.http import docs

TEMPLATE: Final = Path(__file__).resolve().parent / "explorer.html"


def content_security_policy(settings: Settings) -> str:
    """Own-origin scripts, workers, styles and requests only; the tile server's origin for
    its images when one is set."""
    tiles = ""
    if settings.explorer_tiles:
        parts = urlsplit(settings.explorer_tiles)
        tiles = f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            # MapLibre's worker: its module, from the app's own /static.
            "worker-src 'self'",
            f"connect-src 'self'{tiles}",
            f"img-src 'self' data: blob:{tiles}",
            "style-src 'self'",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def page_config(settings: Settings, root: str) -> dict[str, Any]:
    """What the page's script needs to know that the API does not say."""
    return {
        "root": root,
        "authReads": settings.auth_reads,
        "tiles": settings.explorer_tiles,
        "tilesAttribution": settings.explorer_tiles_attribution,
    }


@cache
def _template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def render(settings: Settings, root: str) -> str:
    config = orjson.dumps(page_config(settings, root)).decode()
    return (
        _template()
        .replace("{{root}}", html.escape(root))
        .replace("{{static}}", html.escape(root + docs.STATIC_URL))
        .replace("{{config}}", html.escape(config))
    )


def response(request: Request, settings: Settings) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return HTMLResponse(
        render(settings, root),
        headers={
            "Content-Security-Policy": content_security_policy(settings),
            "X-Content-Type-Options": "nosniff",
            # Links to the articles' sites leave without the explorer's URL (its filters).
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
            "Vary": "Accept",
        },
    )
