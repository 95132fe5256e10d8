"""A few slow clients must not stop the API, on a real uvicorn server and both databases.

Fifty connections ask for the CSV export and never read a byte. The server sends at most
``max_streams`` streams at once (the rest get a 503 with Retry-After); the streams it sends
hold no database connection while they wait (the pool here has four), so every other client's
page still answers 200; and a stream whose client takes nothing for ``stream_send_timeout_s`` is
cut, freeing its slot. Latency is measured by bench/slow_readers.py, not asserted here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx2
import pytest

from app import writer
from app.db.session import create_db_engine
from tests.system.crash.harness import APPS, Server, prepare_database

pytestmark = pytest.mark.slow

STALLED = 50
MAX_STREAMS = 8
SEND_TIMEOUT_S = 10  # far longer than the checks made while the streams are stalled
EVENTS = 3000  # about 7 MB of CSV: far more than the sockets' buffers hold


def _load_events(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with writer.bulk_session(engine) as session:
            day = date(2020, 1, 1)
            writer.create_events(
                session,
                [
                    writer.NewEvent(
                        event_type="Battles",
                        sub_event_type="Armed clash",
                        date_start=day + timedelta(days=n % 365),
                        date_end=day + timedelta(days=n % 365),
                        date_precision="day",
                        summary=f"Event {n}: " + "clashes were reported " * 100,
                    )
                    for n in range(EVENTS)
                ],
            )
    finally:
        engine.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    prepare_database(database_url)
    _load_events(database_url)
    running = Server(APPS["real"], database_url, tmp_path / "server.log")
    running.env.update(
        CONFLICTDB_DB_POOL_SIZE="2",  # four connections at most (pool and overflow)
        CONFLICTDB_DB_POOL_TIMEOUT_S="5",
        CONFLICTDB_MAX_STREAMS=str(MAX_STREAMS),
        CONFLICTDB_STREAM_SEND_TIMEOUT_S=str(SEND_TIMEOUT_S),
    )
    running.start()
    try:
        yield running
    finally:
        running.kill()


def _stalled_export(port: int) -> socket.socket:
    """A connection that asks for the whole CSV and then reads nothing."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /v1/events?format=csv HTTP/1.1\r\nHost: test\r\n\r\n")
    return sock


def _slots_full(client: httpx2.Client) -> httpx2.Response:
    """Ask for one more stream until the stalled ones hold every slot (a 503), or give up."""
    deadline = time.monotonic() + SEND_TIMEOUT_S
    while True:
        busy = client.get("/v1/events", params={"format": "ndjson", "fields": "id"})
        if busy.status_code != 200 or time.monotonic() > deadline:
            return busy
        time.sleep(0.1)  # the stalled streams are still starting


def test_clients_that_never_read_do_not_stop_the_api(server: Server) -> None:
    stalled = [_stalled_export(server.port) for _ in range(STALLED)]
    try:
        with httpx2.Client(base_url=server.base_url, timeout=20.0) as client:
            # Every slot is taken by a stalled stream: one more stream waits its turn.
            busy = _slots_full(client)
            assert busy.status_code == 503
            assert busy.headers["content-type"] == "application/problem+json"
            assert int(busy.headers["retry-after"]) >= 1
            assert busy.json()["type"].endswith("/too-many-streams")
            # While they hold their slots, every other client is answered.
            held_since = time.monotonic()
            statuses = [
                client.get("/v1/events", params={"limit": 1}).status_code for _ in range(30)
            ]
            assert statuses == [200] * 30
            detail = client.get("/v1/events/1")
            assert detail.status_code == 200
            stats = client.get("/v1/stats/events", params={"interval": "month"})
            assert stats.status_code == 200
            # The pages above were served inside the stalled streams' send timeout, so
            # while they held their slots (else this test proves less than it says).
            assert time.monotonic() - held_since < SEND_TIMEOUT_S
            # A client that stopped reading is cut after the send timeout, freeing its slot.
            deadline = time.monotonic() + SEND_TIMEOUT_S * 4
            while time.monotonic() < deadline:
                again = client.get("/v1/events", params={"format": "ndjson", "fields": "id"})
                if again.status_code == 200:
                    break
                time.sleep(0.5)
            assert again.status_code == 200
            assert len(again.text.splitlines()) == EVENTS
    finally:
        for sock in stalled:
            sock.close()
