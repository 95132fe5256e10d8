"""The outermost layer of every request: its id, its line in the log, its metrics, and the
Data-Version of its answer.

A pure ASGI middleware, wrapped around Starlette's own error middleware (``app.main`` builds
it so), so it sees every answer, a 500 included:

- the request id: the client's ``X-Request-Id`` when it is a plain token (letters, digits,
  ``.``, ``_``, ``:``, ``-``; at most 64), so a proxy's id follows the request through,
  otherwise 16 random hex digits; echoed in the ``X-Request-Id`` response header and in every
  problem body (``app.core.errors.with_request_id``);
- ``Data-Version`` on every answer that knows the version it reflects (reads: the version of
  the database that answered, read or known before the query; writes: the version committed)
  and does not carry one already;
- one log line per request (``conflictdb.access``): id, method, route template, path, status,
  duration, bytes sent, client address, the API key's visible prefix (never the key), the
  database that answered and the data version;
- the request metrics (``app.http.metrics``).

Its cost is a few dictionary and list operations per request, the log line when the access log
is on, and the metrics; no I/O of its own and no thread-pool hop.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import context
from app.core.context import RequestContext
from app.http.logs import ACCESS_LOGGER
from app.http.metrics import UNMATCHED_ROUTE, Metrics

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

access_log = logging.getLogger(ACCESS_LOGGER)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if _SAFE_ID.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return secrets.token_hex(8)


def route_of(scope: Scope, status: int) -> str:
    """The route template that served the request (``/v1/events/{event_id}``), never the
    path itself: metrics and logs stay bounded whatever paths clients invent. A request
    answered before routing (a 429, a 422 for its Data-Version) is matched against the
    templates here, so its route is still named."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if status != 404 and "app" in scope:
        for pattern, template in _templates(scope["app"]):
            if pattern.match(scope["path"]):
                return template
    return UNMATCHED_ROUTE


def _templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Every route's template and its pattern, made once per app."""
    cached: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "route_templates", None)
    if cached is None:
        from fastapi.routing import iter_route_contexts
        from starlette.routing import compile_path

        cached = []
        for route in iter_route_contexts(app.routes):
            if isinstance(route.path, str) and route.path:
                cached.append((compile_path(route.path)[0], route.path))
        app.state.route_templates = cached
    return cached


class RequestObserver:
    def __init__(self, app: ASGIApp, *, access_log: bool, metrics: Metrics | None) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ctx = RequestContext(_request_id(scope), writes=scope["method"] not in _READ_METHODS)
        context.begin(ctx)
        id_header = (REQUEST_ID_HEADER, ctx.request_id.encode("ascii"))
        status = 500
        sent = 0

        async def observed_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), id_header]
                if ctx.data_version is not None and not any(
                    name.lower() == b"data-version" for name, _ in headers
                ):
                    headers.append((b"data-version", str(ctx.data_version).encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        metrics = self.metrics
        if metrics is not None:
            metrics.in_progress.inc()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope, status)
            if metrics is not None:
                metrics.in_progress.dec()
                metrics.observe_request(scope["method"], route, status, seconds)
            if self.access_log and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra=_fields(scope, ctx, route, status, seconds, sent),
                )


def _fields(
    scope: Scope, ctx: RequestContext, route: str, status: int, seconds: float, sent: int
) -> dict[str, Any]:
    client = scope.get("client")
    target = ctx.read_target
    return {
        "fields": {
            "request_id": ctx.request_id,
            "method": scope["method"],
            "route": route,
            "path": scope["path"][:512],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "bytes": sent,
            "client": client[0] if client else None,
            "key": ctx.key_prefix,
            "database": getattr(target, "name", "primary"),
            "data_version": ctx.data_version,
        }
    }
