"""Per-key rate limiting (token bucket, per process) with IETF RateLimit headers and 429.

The bucket is keyed by the presented API key's hash, or by client address when there is none.
Counters live in each worker process: N workers allow up to N times the limit in total, which
is documented; a shared store would be needed for an exact global limit.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

EXEMPT_PATHS = ("/healthz", "/docs", "/openapi.json", "/redoc", "/static/")


class TokenBuckets:
    def __init__(self, per_minute: int, max_clients: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> tuple[bool, int, float]:
        """(allowed, tokens remaining, seconds until the next token)."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            if len(self._buckets) >= self.max_clients and client not in self._buckets:
                self._buckets.clear()  # bounded memory under a flood of distinct clients
            self._buckets[client] = (tokens, now)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        return allowed, int(tokens), wait


def _client_id(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"") or headers.get(b"x-api-key", b"")
    if auth:
        return "key:" + hashlib.sha256(auth.split(b" ")[-1]).hexdigest()[:32]
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.per_minute = per_minute
        self.buckets = TokenBuckets(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        allowed, remaining, wait = self.buckets.take(_client_id(scope))
        reset = max(1, math.ceil(wait)) if not allowed else 60
        headers = [
            (b"ratelimit-policy", f'"default";q={self.per_minute};w=60'.encode()),
            (b"ratelimit", f'"default";r={remaining};t={reset}'.encode()),
        ]
        if not allowed:
            body = orjson.dumps(
                {
                    "type": PROBLEM_BASE + "rate-limited",
                    "title": "Too many requests",
                    "status": 429,
                    "detail": f"More than {self.per_minute} requests a minute; retry in {reset} s.",
                    "instance": scope["path"],
                }
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


def install(app: Any, per_minute: int) -> None:
    if per_minute > 0:
        app.add_middleware(RateLimitMiddleware, per_minute=per_minute)
