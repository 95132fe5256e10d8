"""The documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served with no internet:
their scripts, styles and icon come from the app (``app/static/vendor``, see VENDORED.md),
never from a CDN or Google Fonts, so they work on an offline laptop and behind a firewall."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_DIR: Final = Path(__file__).resolve().parents[1] / "static"
STATIC_URL: Final = "/static"
DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"

SWAGGER_UI: Final = f"{STATIC_URL}/vendor/swagger-ui"
REDOC: Final = f"{STATIC_URL}/vendor/redoc"
FAVICON: Final = f"{SWAGGER_UI}/favicon-32x32.png"

SWAGGER_UI_PARAMETERS: Final = {
    # Swagger UI would send the document to validator.swagger.io for its badge otherwise.
    "validatorUrl": None,
    # Keys are sent as headers (see the security schemes): keep them across reloads.
    "persistAuthorization": True,
}


def install(app: FastAPI) -> None:
    """Serve ``app/static`` at /static and the two documentation pages. The app must be made
    with ``docs_url=None, redoc_url=None``, so FastAPI's CDN-loading pages are not there too.
    Plain Starlette routes, like FastAPI's own: not operations of the API document."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + _openapi_url(app),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=root + FAVICON,
            oauth2_redirect_url=None,
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=root + _openapi_url(app),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{REDOC}/redoc.standalone.js",
            redoc_favicon_url=root + FAVICON,
            with_google_fonts=False,
        )

    app.add_route(DOCS_URL, swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_route(REDOC_URL, redoc, methods=["GET"], include_in_schema=False)


def _root_path(request: Request) -> str:
    """The prefix a proxy serves the app under (``--root-path``), as FastAPI's pages use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _openapi_url(app: FastAPI) -> str:
    assert app.openapi_url is not None, "the documentation pages need the OpenAPI document"
    return app.openapi_url
