"""The index of the API: where the documentation is and which collections there are.

Served at ``/v1`` (its stable address): JSON by default; a small HTML page of links for
browsers (``Accept: text/html`` first, as browsers send it) or with ``format=html``. At ``/``
a browser gets the explorer (``app.home.explorer``, which links here), and a client that
prefers JSON (curl's ``*/*``) or says ``format=`` still gets this index.
The collections come from the OpenAPI document, so the index lists every top-level path of
``/v1`` and cannot go stale. Like ``/docs`` and ``/openapi.json`` it is open (it holds no
data) and is not an operation of the API document.
"""

from __future__ import annotations

import html
from typing import Final

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from app.core.errors import ValidationProblem
from app.home import explorer
from app.http import docs
from app.http.negotiation import negotiate

INDEX_PATH: Final = "/v1"
# The front page: the explorer for browsers, the index for JSON clients.
ROOT_PATH: Final = "/"
MEDIA_TYPES: Final = {"json": "application/json", "html": "text/html"}


class Collection(BaseModel):
    name: str
    href: str
    methods: list[str]
    summary: str


class ApiIndex(BaseModel):
    name: str
    version: str
    summary: str
    links: dict[str, str]
    collections: list[Collection]


def build(app: FastAPI, root: str = "") -> ApiIndex:
    """The index, its URLs under ``root`` (the prefix a proxy serves the app under)."""
    document = app.openapi()
    collections = []
    for path, item in document["paths"].items():
        if not path.startswith(INDEX_PATH + "/") or "{" in path:
            continue
        methods = [m.upper() for m in item if m in ("get", "post", "patch", "delete", "put")]
        if methods == ["GET"] and _needs_parameters(item["get"]):
            continue  # a question, not a collection (/v1/events/diff needs from and to)
        # The list's summary when there is one ("List events"), else the only operation's.
        operation = item.get("get") or next(iter(item.values()))
        collections.append(
            Collection(
                name=path.removeprefix(INDEX_PATH + "/"),
                href=root + path,
                methods=methods,
                summary=str(operation.get("summary", "")),
            )
        )
    return ApiIndex(
        name=app.title,
        version=app.version,
        summary=app.summary or "",
        links={
            "self": root + INDEX_PATH,
            "docs": root + docs.DOCS_URL,
            "redoc": root + docs.REDOC_URL,
            "openapi": root + str(app.openapi_url),
            "health": root + "/healthz",
            "explorer": root + ROOT_PATH,
        },
        collections=collections,
    )


def render_html(index: ApiIndex) -> str:
    e = html.escape
    links = index.links
    rows = "\n".join(
        # Only what a browser can open is a link (POST /v1/reports is not).
        f"    <li>{_link(c.href) if 'GET' in c.methods else f'<code>{e(c.href)}</code>'} "
        f"({e(', '.join(c.methods))}): {e(c.summary)}</li>"
        for c in index.collections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(index.name)} {e(index.version)}</title>
  <style>body {{ font-family: sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem;
    line-height: 1.5 }} code {{ background: #f3f3f3 }}</style>
</head>
<body>
  <h1>{e(index.name)} <small>{e(index.version)}</small></h1>
  <p>{e(index.summary)}</p>
  <p><a href="{e(links["explorer"])}">The explorer</a>: the events on a map and a timeline,
  with their sources.</p>
  <h2>Documentation</h2>
  <ul>
    <li><a href="{e(links["docs"])}">Interactive documentation</a> (Swagger UI: try the calls)</li>
    <li><a href="{e(links["redoc"])}">Reference</a> (ReDoc)</li>
    <li><a href="{e(links["openapi"])}">The OpenAPI document</a> (JSON)</li>
  </ul>
  <h2>Collections</h2>
  <ul>
{rows}
  </ul>
  <p>This index as JSON: <a href="{e(links["self"])}?format=json">{e(links["self"])}</a>
  (what <code>curl</code> gets). Health: <a href="{e(links["health"])}">{e(links["health"])}</a>.</p>
</body>
</html>
"""


def _link(href: str) -> str:
    return f'<a href="{html.escape(href)}">{html.escape(href)}</a>'


def install(app: FastAPI) -> None:
    async def index(request: Request) -> Response:
        # As everywhere in the API: `format=` picks the representation over Accept, and a
        # query parameter the route does not take is refused.
        unknown = [n for n in dict.fromkeys(request.query_params.keys()) if n != "format"]
        wanted = request.query_params.get("format")
        if unknown or (wanted is not None and wanted not in MEDIA_TYPES):
            errors = [
                {
                    "loc": ["query", n],
                    "msg": "Extra inputs are not permitted",
                    "type": "extra_forbidden",
                }
                for n in unknown
            ]
            if wanted is not None and wanted not in MEDIA_TYPES:
                errors.append(
                    {
                        "loc": ["query", "format"],
                        "msg": "Input should be 'json' or 'html'",
                        "type": "enum",
                    }
                )
            raise ValidationProblem(
                "The index takes one query parameter, format (json or html).", errors=errors
            )
        chosen = negotiate(wanted, request.headers.get("accept"), MEDIA_TYPES)
        body = build(app, str(request.scope.get("root_path", "")).rstrip("/"))
        headers = {"Vary": "Accept"}
        if chosen == "html":
            return HTMLResponse(render_html(body), headers=headers)
        return JSONResponse(body.model_dump(), headers=headers)

    async def front_page(request: Request) -> Response:
        # A browser asks for HTML first: the explorer, whose query string is its own state.
        # curl (*/*), JSON clients and format= get the index, with its checks.
        if "format" not in request.query_params:
            chosen = negotiate(None, request.headers.get("accept"), MEDIA_TYPES)
            if chosen == "html":
                return explorer.response(request, app.state.settings)
        return await index(request)

    app.add_route(INDEX_PATH, index, methods=["GET"], include_in_schema=False)
    app.add_route(ROOT_PATH, front_page, methods=["GET"], include_in_schema=False)


def _needs_parameters(operation: dict[str, object]) -> bool:
    parameters = operation.get("parameters") or []
    assert isinstance(parameters, list)
    return any(p.get("required") and p.get("in") == "query" for p in parameters)
