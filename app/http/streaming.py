"""Streamed answers with bounds, so a few slow clients cannot stop the API.

- At most ``max_streams`` streams at a time per process: one more is a 503 with Retry-After
  before anything is read (``StreamSlots.acquire``).
- A stream ends, connection aborted, once it has run ``total_seconds`` (a client reading an
  export at a trickle does not keep a worker forever), or when its client has not taken a
  chunk for ``send_timeout_seconds`` (a client that stopped reading).

The chunks are produced in the thread pool (they read the database, a page at a time, with no
connection held in between: ``app.events.streams``), and the iterator is closed however the
response ends.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import ServiceUnavailable
from app.http.metrics import Metrics

log = logging.getLogger(__name__)


class TooManyStreams(ServiceUnavailable):
    slug, title = "too-many-streams", "Too many streamed answers at once"


class StreamAborted(Exception):
    """A stream cut short on purpose; the server aborts the connection mid-body, so a cut-off
    file never looks complete."""


@dataclass(frozen=True)
class StreamLimits:
    max_streams: int
    total_seconds: float
    send_timeout_seconds: float
    retry_after_seconds: int = 5


class StreamSlots:
    """A count of the streams in flight in this process, bounded; ``metrics`` (optional)
    counts them and how they end."""

    def __init__(self, limits: StreamLimits, metrics: Metrics | None = None) -> None:
        self.limits = limits
        self.metrics = metrics
        self._active = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        return self._active

    def acquire(self) -> None:
        with self._lock:
            if self._active >= self.limits.max_streams:
                if self.metrics is not None:
                    self.metrics.streams.labels("refused").inc()
                raise TooManyStreams(
                    f"{self.limits.max_streams} streamed answers are already being sent; "
                    "retry shortly, or page through the JSON list.",
                    headers={"Retry-After": str(self.limits.retry_after_seconds)},
                )
            self._active += 1
        if self.metrics is not None:
            self.metrics.streams_active.inc()

    def release(self, outcome: str = "failed") -> None:
        """``outcome``: completed, aborted (cut short, or its client left), or failed (an
        error answer before the stream began)."""
        with self._lock:
            self._active -= 1
        if self.metrics is not None:
            self.metrics.streams_active.dec()
            self.metrics.streams.labels(outcome).inc()


class BoundedStream(StreamingResponse):
    """A streamed answer that holds a slot of ``slots`` until it ends, and is cut short when
    it runs too long or its client stops reading."""

    def __init__(
        self,
        first: bytes,
        chunks: Generator[bytes],
        *,
        slots: StreamSlots,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._first = first
        self._chunks = chunks
        self._slots = slots
        super().__init__(self._produce(), media_type=media_type, headers=headers)

    async def _produce(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._slots.limits.total_seconds
        if self._first:
            yield self._first
        while True:
            chunk = await run_in_threadpool(next, self._chunks, None)
            if chunk is None:
                return
            if loop.time() > deadline:
                raise StreamAborted(
                    f"the stream ran past {self._slots.limits.total_seconds:g} s and was cut"
                )
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        timeout = self._slots.limits.send_timeout_seconds
        held = True

        async def timed_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Every chunk is sent; this message only ends the body. The slot is free
                # before it goes: once it has, the server may take the connection's next
                # request (as soon as the response completes, before this call returns),
                # and a client asking for one stream after another must never meet its own
                # last one still holding a slot.
                held = False
                self._slots.release("completed")
            # A client that stopped reading blocks the send once its buffers are full.
            try:
                await asyncio.wait_for(send(message), timeout)
            except TimeoutError:
                raise StreamAborted(
                    f"the client took nothing for {timeout:g} s; the stream was cut"
                ) from None

        outcome = "aborted"
        try:
            await super().__call__(scope, receive, timed_send)
            outcome = "completed"
        except StreamAborted as exc:
            log.info("%s %s: %s", scope.get("method"), scope.get("path"), exc)
            raise
        finally:
            if held:
                self._slots.release(outcome)
            # Closed even when the response was cancelled (the client went away): shielded.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._chunks.close)
