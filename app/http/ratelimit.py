"""Per-key rate limiting (token buckets) with IETF RateLimit headers and 429.

The bucket is chosen after authentication (``bucket_of``, given by the app factory): the key's
id, or the client's address for anonymous requests and for credentials that fail. Where the
buckets live is a setting (``CONFLICTDB_RATE_LIMIT_STORE``):

- ``memory`` (the default): ``TokenBuckets`` in each worker process, evicted least recently
  used so a flood of distinct clients cannot empty the table; free, but N workers allow up to
  N times the limit in total;
- ``database``: one bucket per client for every process and machine
  (``app.writer.ratelimits``), at the cost of a statement per request, taken in the thread
  pool together with the key lookup.

Behind a reverse proxy, the client's address is the proxy's unless uvicorn trusts its
forwarded headers (``FORWARDED_ALLOW_IPS``, see the README).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, with_request_id

EXEMPT_PATHS = ("/healthz", "/docs", "/openapi.json", "/redoc", "/static/")


class Buckets(Protocol):
    # True: ``take`` does I/O, and is called from the thread pool.
    blocking: bool

    def take(self, client: str) -> tuple[bool, int, float]:
        """(allowed, tokens remaining, seconds until the next token)."""
        ...


class TokenBuckets:
    blocking = False

    def __init__(self, per_minute: int, max_clients: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, client: str) -> bool:
        return client in self._buckets

    def take(self, client: str) -> tuple[bool, int, float]:
        """(allowed, tokens remaining, seconds until the next token)."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            self._buckets.move_to_end(client)
            if len(self._buckets) > self.max_clients:
                # Bounded memory: the least recently seen client goes (a full bucket, most
                # likely; a drained one that long idle would have refilled meanwhile).
                self._buckets.popitem(last=False)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        return allowed, int(tokens), wait


_CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        bucket_of: Callable[[Request], str],
        max_clients: int = 100_000,
        on_refusal: Callable[[], None] | None = None,
        store: Buckets | None = None,
    ) -> None:
        """``bucket_of``: a request's bucket, chosen after authenticating it (it may read the
        database; it runs in the thread pool, and only for requests that carry credentials)."""
        self.app = app
        self.per_minute = per_minute
        self.bucket_of = bucket_of
        self.buckets: Buckets = store or TokenBuckets(per_minute, max_clients)
        self.on_refusal = on_refusal

    async def _take(self, scope: Scope) -> tuple[bool, int, float]:
        keyed = any(name in _CREDENTIAL_HEADERS for name, _ in scope.get("headers", ()))
        if self.buckets.blocking:
            return await run_in_threadpool(self._take_blocking, scope, keyed)
        bucket = await run_in_threadpool(self.bucket_of, Request(scope)) if keyed else None
        return self.buckets.take(bucket or _address(scope))

    def _take_blocking(self, scope: Scope, keyed: bool) -> tuple[bool, int, float]:
        """The key lookup and the shared bucket's statement, in one trip to the thread pool."""
        bucket = self.bucket_of(Request(scope)) if keyed else _address(scope)
        return self.buckets.take(bucket)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        allowed, remaining, wait = await self._take(scope)
        reset = max(1, math.ceil(wait)) if not allowed else 60
        headers = [
            (b"ratelimit-policy", f'"default";q={self.per_minute};w=60'.encode()),
            (b"ratelimit", f'"default";r={remaining};t={reset}'.encode()),
        ]
        if not allowed:
            if self.on_refusal is not None:
                self.on_refusal()
            body = orjson.dumps(
                with_request_id(
                    {
                        "type": PROBLEM_BASE + "rate-limited",
                        "title": "Too many requests",
                        "status": 429,
                        "detail": f"More than {self.per_minute} requests a minute; retry in {reset} s.",
                        "instance": scope["path"],
                    }
                )
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(reset).encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(
    app: Any,
    per_minute: int,
    bucket_of: Callable[[Request], str],
    on_refusal: Callable[[], None] | None = None,
    store: Buckets | None = None,
) -> None:
    """``store``: where the buckets live (None: in this process)."""
    if per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware,
            per_minute=per_minute,
            bucket_of=bucket_of,
            on_refusal=on_refusal,
            store=store,
        )
