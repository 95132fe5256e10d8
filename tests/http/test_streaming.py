"""A stream's slot (app.http.streaming), at the ASGI level: free by the time its response is
complete, so the connection's next request never meets it.

uvicorn starts a keep-alive connection's next request as soon as the last message of the
response is sent, while the app's call may still be winding down (Starlette's task group,
for ASGI spec 2.3). bench.dashboards' GeoJSON cell, ten wrk connections on ten slots, met
refusals there. The server is played here by ``send``: when the response completes, it asks
for a slot as the next request would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator

import pytest
from starlette.types import Message

from app.http.streaming import BoundedStream, StreamLimits, StreamSlots, TooManyStreams


def _chunks() -> Generator[bytes]:
    yield b"a"
    yield b"b"


def _serve(slots: StreamSlots, at_completion: list[str]) -> None:
    async def receive() -> Message:
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            try:
                slots.acquire()
            except TooManyStreams:
                at_completion.append("refused")
            else:
                at_completion.append("answered")

    async def main() -> None:
        slots.acquire()  # what the route does before it builds the response
        response = BoundedStream(b"first", _chunks(), slots=slots, media_type="text/plain")
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}
        await response(scope, receive, send)

    asyncio.run(main())


def test_the_next_request_finds_the_slot_of_a_completed_stream_free() -> None:
    slots = StreamSlots(StreamLimits(max_streams=1, total_seconds=60, send_timeout_seconds=5))
    at_completion: list[str] = []
    _serve(slots, at_completion)
    assert at_completion == ["answered"]
    assert slots.active == 1  # the next request's, and the stream's released once only


def test_a_stream_cut_short_releases_its_slot_once() -> None:
    slots = StreamSlots(StreamLimits(max_streams=2, total_seconds=60, send_timeout_seconds=5))

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("more_body", False):
            raise OSError("the client went away")

    async def receive() -> Message:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def main() -> None:
        slots.acquire()
        response = BoundedStream(b"first", _chunks(), slots=slots, media_type="text/plain")
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}
        with pytest.raises(OSError, match="went away"):
            await response(scope, receive, send)

    asyncio.run(main())
    assert slots.active == 0
