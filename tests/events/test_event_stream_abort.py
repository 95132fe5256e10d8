"""A stream that fails part-way must not look complete: a real uvicorn server (in a thread,
over a real socket) with a failure injected after the first page, and a plain HTTP/1.1
client that must see the body cut short (no terminating chunk), not a clean end."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import writer
from app.config import Settings
from app.events import repository as event_repository
from app.events import streams
from app.formats import csvfile
from app.main import create_app
from app.writer.transaction import write_session

EVENTS = 30
PAGE = 5


@contextmanager
def served(app: FastAPI, protocol: str) -> Iterator[int]:
    """The app on a uvicorn server in a thread; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, http=protocol, lifespan="on", log_level="critical", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def get(port: int, path: str, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    """GET and read the whole body; IncompleteRead propagates."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


@pytest.fixture
def events(client: TestClient, engine: Engine) -> None:
    with write_session(engine) as session:
        writer.create_events(
            session,
            [
                writer.NewEvent(
                    event_type="Battles",
                    sub_event_type="Armed clash",
                    date_start=date(2018, 4, 18),
                    date_end=date(2018, 4, 18),
                    date_precision="day",
                    summary=f"event {i}",
                )
                for i in range(EVENTS)
            ],
        )


def fail_after_first_page(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """The per-page reader raises from its second call on, as a database lost mid-export."""
    real = getattr(module, name)
    calls = 0

    def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("injected failure after the first page")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["h11", "httptools"])
@pytest.mark.parametrize(
    "fmt, gzipped",
    [("ndjson", False), ("ndjson", True), ("csv", False), ("csv", True)],
)
def test_a_failure_mid_stream_aborts_the_connection(
    settings: Settings,
    events: None,
    monkeypatch: pytest.MonkeyPatch,
    protocol: str,
    fmt: str,
    gzipped: bool,
) -> None:
    # Small pages and chunks, so the first page is on the wire before the failure.
    monkeypatch.setattr(streams, "PAGE_SIZE", PAGE)
    monkeypatch.setattr(streams, "CHUNK_BYTES", 1)
    monkeypatch.setattr(csvfile, "ROWS_PER_CHUNK", 1)
    headers = {"Accept-Encoding": "gzip" if gzipped else "identity"}
    path = f"/v1/events?format={fmt}&sort=id"
    with served(create_app(settings), protocol) as port:
        # Control: the whole stream, cleanly ended.
        response, body = get(port, path, headers)
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        text = zlib.decompress(body, 16 + zlib.MAX_WBITS) if gzipped else body
        assert len(text.decode().splitlines()) == EVENTS + (fmt == "csv")

        # Each page of the stream is completed with its relations: fail on the second page.
        if fmt == "ndjson":
            fail_after_first_page(monkeypatch, event_repository, "attach")
        else:
            fail_after_first_page(monkeypatch, event_repository, "place_chains")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            # The headers and the first page went out before the failure ...
            assert response.status == 200
            with pytest.raises(http.client.IncompleteRead) as cut:
                response.read()
        finally:
            conn.close()
    # ... and the client got the first page and then no clean end of the body.
    partial = cut.value.partial
    if gzipped:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        partial = inflate.decompress(partial)
        assert not inflate.eof  # no gzip trailer either: the truncation shows at both layers
    lines = partial.decode().splitlines()
    assert PAGE <= len(lines) - (fmt == "csv") < EVENTS
