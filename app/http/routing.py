"""Which database answers a request (``app.db.replicas``), and read-your-writes.

A pure ASGI middleware, inside the rate limiter and outside the caching middleware:

- writes (any method but GET, HEAD, OPTIONS) go to the primary, and so do the reads inside
  them (they use the write session);
- a read goes to ``ReadRouter.choose``'s pick: a healthy replica that has caught up with what
  the client asked for, else the primary. What it asks for: the ``Data-Version`` request
  header (the version the client last saw: the answer is at least that fresh) and, softly,
  the version in an ``If-None-Match`` tag of ours (a revalidation never goes back in time,
  and a replica never answers 304 for a version older than the client's tag);
- ``Data-Version`` that is not a version number is a 422; one newer than the primary's
  current version is a 422 naming it (a client that kept a version from another database);
- when the replica fails during the read (unreachable, or a hot standby cancelled the query,
  or it proved behind a cursor: ``app.core.freshness``) and nothing has been sent yet, the
  read runs again on the primary.

The choice is made in memory; only a ``Data-Version`` above every version this process has
seen of the primary costs a read of the primary's version first (in the thread pool).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import context
from app.core.context import RequestContext
from app.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, with_request_id
from app.db.replicas import ReadRouter, Target
from app.http.metrics import Metrics

log = logging.getLogger(__name__)

DATA_VERSION_HEADER = b"data-version"
MAX_VERSION = 2**63 - 1  # data_version is a BIGINT
# The version in one of our collection ETags: W/"<version>-<16 hex digits>" (app.http.caching).
_TAG_VERSION = re.compile(rb'W/"(\d{1,19})-[0-9a-f]{16}"')


class BadDataVersion(ValueError):
    pass


def requested_versions(scope: Scope) -> tuple[int, int]:
    """(``Data-Version``, the highest version in ``If-None-Match``); 0 when absent."""
    wanted = 0
    tagged = 0
    for name, value in scope.get("headers", ()):
        if name == DATA_VERSION_HEADER:
            text = value.strip()
            if not text.isdigit() or len(text) > 19 or int(text) > MAX_VERSION:
                raise BadDataVersion(value.decode("latin-1")[:100])
            wanted = max(wanted, int(text))
        elif name == b"if-none-match":
            for match in _TAG_VERSION.finditer(value):
                tagged = max(tagged, int(match.group(1)))
    return wanted, tagged


def requested_as_of(scope: Scope) -> int:
    """The data version an ``as_of`` (or a diff's ``to``) in the query names; 0 when none (a
    time, or absent). A read at a version goes to a database that has it (issue 12)."""
    query: bytes = scope.get("query_string", b"")
    if b"as_of=" not in query and b"to=" not in query:
        return 0
    found = 0
    for name, value in parse_qsl(query.decode("latin-1")):
        if name in ("as_of", "to") and value.isdigit() and len(value) <= 18:
            found = max(found, int(value))
    return found


class ReadRouting:
    def __init__(self, app: ASGIApp, *, router: ReadRouter, metrics: Metrics | None) -> None:
        self.app = app
        self.router = router
        self.metrics = metrics
        self._counted: dict[tuple[str, bool], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = context.current()
        if ctx is None:  # outside app.http.observe (a test of this layer alone)
            ctx = RequestContext(secrets.token_hex(8), writes=scope["method"] not in _READS)
            context.begin(ctx)
        try:
            wanted, tagged = requested_versions(scope)
        except BadDataVersion as exc:
            await _problem(
                send,
                scope,
                f"Data-Version must be a data version (a whole number from a Data-Version "
                f"header this API sent), not {str(exc)!r}.",
                "not a data version",
            )
            return
        router = self.router
        primary = router.primary
        target = (
            primary if ctx.writes else router.choose(max(wanted, tagged, requested_as_of(scope)))
        )
        ctx.read_target = target
        ctx.min_version = wanted
        ctx.replicated = bool(router.replicas)
        if wanted and target.is_primary and (primary.version is None or wanted > primary.version):
            try:
                current = await run_in_threadpool(router.version_of, primary)
            except SQLAlchemyError:
                current = None  # the database is down: the route's own 503 says so
            if current is not None and wanted > current:
                await _problem(
                    send,
                    scope,
                    f"Data-Version {wanted} is newer than the database's current data version "
                    f"{current}: it was not sent by this database (restored, or another "
                    "deployment?). Send a version this API returned, or none.",
                    f"newer than the current data version {current}",
                    current_version=current,
                )
                return
        if ctx.writes:
            await self.app(scope, receive, send)
            if ctx.data_version is not None:
                primary.see(ctx.data_version)
            return
        if target.version is not None:
            ctx.data_version = max(target.version, wanted)
        if target.is_primary:
            self._count(target, retried=False)
            await self.app(scope, receive, send)
            return
        await self._read_with_failover(scope, receive, send, ctx)

    async def _read_with_failover(
        self, scope: Scope, receive: Receive, send: Send, ctx: RequestContext
    ) -> None:
        """Answer from the replica; if it fails before anything was sent (an error answer
        while the replica was found failing), answer again from the primary."""
        held = False
        started = False

        async def guarded(message: Message) -> None:
            nonlocal held, started
            if held:
                return
            if message["type"] == "http.response.start":
                if message["status"] >= 500 and ctx.retry_on_primary:
                    held = True
                    return
                started = True
            await send(message)

        replica = ctx.read_target
        try:
            await self.app(scope, receive, guarded)
        except Exception:
            if started or not ctx.retry_on_primary:
                raise
            held = True
        if not held:
            self._count(replica, retried=False)
            return
        log.info("read on %s failed; answering from the primary", getattr(replica, "name", "?"))
        primary = self.router.primary
        ctx.read_target = primary
        ctx.retry_on_primary = False
        ctx.data_version = (
            None if primary.version is None else max(primary.version, ctx.min_version)
        )
        self._count(primary, retried=True)
        await self.app(scope, receive, send)

    def _count(self, target: Target, *, retried: bool) -> None:
        if self.metrics is None:
            return
        key = (target.name, retried)
        child = self._counted.get(key)
        if child is None:
            child = self._counted[key] = self.metrics.reads.labels(
                target.name, "true" if retried else "false"
            )
        child.inc()


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _problem(send: Send, scope: Scope, detail: str, msg: str, **extra: Any) -> None:
    body = orjson.dumps(
        with_request_id(
            {
                "type": PROBLEM_BASE + "validation-error",
                "title": "Invalid request",
                "status": 422,
                "detail": detail,
                "instance": scope["path"],
                "errors": [{"loc": ["header", "Data-Version"], "msg": msg, "type": "data_version"}],
                **extra,
            }
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def version_reader(router: ReadRouter) -> Callable[[Request], int]:
    """The caching middleware's version reader: the data version of the database answering
    the request, read now (its ETag's); a replica that cannot answer is left for the primary
    here, before the route runs."""

    def read(request: Request) -> int:
        ctx = context.current()
        target = ctx.read_target if ctx is not None else None
        if target is None:
            target = router.primary
        try:
            version = router.version_of(target)
        except SQLAlchemyError:
            if target.is_primary or ctx is None:
                raise
            ctx.read_target = target = router.primary
            ctx.retry_on_primary = False
            version = router.version_of(target)
        if ctx is not None:
            ctx.data_version = version
        return version

    return read


def install(app: Any, router: ReadRouter, metrics: Metrics | None) -> None:
    app.add_middleware(ReadRouting, router=router, metrics=metrics)
