"""app.client against the real app (SQLite and PostgreSQL): reports with Idempotency-Keys and
retries, typed errors, cursors, frames, the change feed, drafts; and importable with httpx and
pydantic alone."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from app import client as client_module
from app.client import Client, Conflict, ConnectionFailed, Unavailable, Unprocessable
from app.client import client as client_impl
from app.db.session import read_session
from app.models import Article, Event
from tests.conftest import demo_report
from tests.helpers import DATA

REPO = Path(__file__).resolve().parents[2]


class Scripted(httpx2.BaseTransport):
    """The real app behind a transport that first answers with what it is told to (a 503, a
    429, a dropped connection), and counts the requests in flight at once."""

    def __init__(self, inner: httpx2.BaseTransport, script: list[Any] | None = None) -> None:
        self.inner = inner
        self.script = list(script or [])
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.requests: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self.lock:
            self.requests.append(request)
            step = self.script.pop(0) if self.script else None
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if isinstance(step, Exception):
                raise step
            if isinstance(step, httpx2.Response):
                return step
            return self.inner.handle_request(request)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def transport(client: TestClient) -> Scripted:
    return Scripted(client._transport)


@pytest.fixture
def api(transport: Scripted, write_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    slept: list[float] = []
    monkeypatch.setattr(client_impl.time, "sleep", slept.append)
    http = httpx2.Client(base_url="http://testserver", transport=transport)
    with Client(api_key=write_key, http=http) as c:
        c.slept = slept  # type: ignore[attr-defined]
        yield c
    http.close()


def report(n: int, **event: Any) -> dict[str, Any]:
    return {
        "article": {
            "url": f"https://example.org/client/{n}",
            "published_date": "2018-04-18",
            "outlet": {"name": "Example Wire"},
            "body": f"Shelling hit al-Bab on Monday, residents said ({n}).",
        },
        "quotes": [{"key": "q", "text": f"Shelling hit al-Bab on Monday, residents said ({n})."}],
        "events": [
            {
                "key": "e",
                "event_type": "Explosions/Remote violence",
                "sub_event_type": "Shelling/artillery/missile attack",
                "date_start": "2018-04-16",
                "place": {
                    "name": "al-Bab",
                    "kind": "populated_place",
                    "parent": {"name": "Syria", "kind": "country", "country": "SY"},
                },
                "quotes": ["q"],
                **event,
            }
        ],
    }


def test_importable_with_httpx_and_pydantic_alone(tmp_path: Path) -> None:
    # A fresh interpreter in which only the standard library, httpx2, pydantic (and what
    # they need) and app itself can be imported: FastAPI, SQLAlchemy, pycountry, orjson,
    # pandas and the rest raise ImportError.
    script = tmp_path / "only.py"
    script.write_text(
        """
import importlib.abc, sys
ALLOWED = {"httpx2", "httpx", "httpcore2", "httpcore", "anyio", "sniffio", "idna", "certifi",
           "truststore", "h11", "typing_extensions", "pydantic", "pydantic_core",
           "annotated_types", "typing_inspection", "app"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in ALLOWED or top.startswith("_"):
            return None
        raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
import json
from app.client import Client, DraftRead, EventRead, ReportCreate, ReportCreated, ChangeRead
report = ReportCreate.model_validate_json(open(sys.argv[1]).read())
assert report.article.outlet.country == "SY"
with Client("http://127.0.0.1:9", api_key="k", retries=0) as c:
    pass
for name in ("fastapi", "sqlalchemy", "starlette", "pycountry", "orjson", "pandas"):
    assert name not in sys.modules, name
print("ok")
"""
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    demo = REPO / "app" / "demo" / "east_qalamoun_2018_04_18.json"
    done = subprocess.run(
        [sys.executable, str(script), str(demo)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_report_is_created_replayed_then_recognised(api: Client, transport: Scripted) -> None:
    first = api.post_report(demo_report())
    assert first.status == "created" and first.body.events
    key = transport.requests[-1].headers["idempotency-key"]
    assert key == first.idempotency_key
    again = api.post_report(demo_report())  # the same content: the same key, replayed
    assert again.status == "replayed" and again.body == first.body
    other = api.post_report(demo_report(), idempotency_key="another")
    assert other.status == "unchanged" and other.body == first.body


def test_retries_a_dropped_connection_and_a_503_with_the_same_key(
    api: Client, transport: Scripted, engine: Engine
) -> None:
    transport.script = [
        httpx2.ConnectError("refused"),
        httpx2.Response(503, headers={"Retry-After": "2"}, json={"status": 503}),
    ]
    result = api.post_report(report(1))
    assert result.status == "created"
    keys = {r.headers["idempotency-key"] for r in transport.requests}
    assert len(transport.requests) == 3 and len(keys) == 1
    assert api.slept[1] >= 2  # type: ignore[attr-defined]  # Retry-After honoured
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_a_429_waits_for_the_rate_limit_reset(api: Client, transport: Scripted) -> None:
    limited = httpx2.Response(
        429,
        headers={"RateLimit": '"default";r=0;t=7', "RateLimit-Policy": '"default";q=600;w=60'},
        json={"status": 429, "title": "Too many requests"},
    )
    transport.script = [limited]
    assert api.post_report(report(2)).status == "created"
    assert api.slept == [pytest.approx(7, abs=0.01)] or api.slept[0] >= 7  # type: ignore[attr-defined]


def test_retry_after_as_an_http_date(api: Client, transport: Scripted) -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    transport.script = [
        httpx2.Response(503, headers={"Retry-After": format_datetime(later, usegmt=True)}, json={}),
        httpx2.Response(503, headers={"Retry-After": "soon"}, json={}),
    ]
    assert api.post_report(report(6)).status == "created"
    slept = api.slept  # type: ignore[attr-defined]
    assert 25 <= slept[0] <= 30  # the date, from now
    assert slept[1] < 25  # an unreadable one: the backoff alone


def test_retries_end_in_a_typed_error(
    write_key: str, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_impl.time, "sleep", lambda s: None)
    down = Scripted(
        client._transport, [httpx2.Response(503, json={"status": 503, "title": "Down"})] * 3
    )
    with (
        Client(
            api_key=write_key,
            retries=2,
            http=httpx2.Client(base_url="http://testserver", transport=down),
        ) as api,
        pytest.raises(Unavailable),
    ):
        api.post_report(report(3))
    gone = Scripted(client._transport, [httpx2.ConnectError("refused")] * 3)
    with (
        Client(
            api_key=write_key,
            retries=2,
            http=httpx2.Client(base_url="http://testserver", transport=gone),
        ) as api,
        pytest.raises(ConnectionFailed),
    ):
        api.post_report(report(3))


def test_422_and_409_name_the_field(api: Client, engine: Engine) -> None:
    with pytest.raises(Unprocessable) as refused:
        api.post_report(report(4, date_start="2018-02-30"))
    assert refused.value.field == "events.0.date_start"
    assert refused.value.status == 422
    api.post_report(report(5))
    changed = report(5)
    changed["events"][0]["fatalities"] = {"best": 3}
    with pytest.raises(Conflict) as conflict:
        api.post_report(changed)
    assert conflict.value.field == "article"
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_post_reports_is_bounded_and_sums_up(
    api: Client, transport: Scripted, engine: Engine
) -> None:
    bad = report(99, date_start="not a date")

    def reports() -> Iterator[dict[str, Any]]:
        for n in range(12):
            yield report(n)
        yield bad
        yield report(0)  # again: recognised, not stored twice

    summary = api.post_reports(reports(), concurrency=3)
    assert (summary.created, summary.unchanged + summary.replayed, len(summary.refused)) == (
        12,
        1,
        1,
    )
    index, error = summary.refused[0]
    assert index == 12 and isinstance(error, Unprocessable)
    assert transport.most_in_flight <= 3
    assert "12 created" in str(summary)
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 12
    assert sorted(summary.results) == [*range(12), 13]
    assert summary.results[13].body == summary.results[0].body
    counts_only = api.post_reports((report(n) for n in range(3)), keep_results=False)
    assert (counts_only.unchanged + counts_only.replayed, counts_only.results) == (3, {})


def test_events_follow_cursors_lazily(api: Client, transport: Scripted) -> None:
    api.post_reports([report(n) for n in range(5)])
    sent = len(transport.requests)
    pages = api.events(page_size=2, sort="id")
    first = next(pages)
    assert len(transport.requests) == sent + 1  # one page read, no more
    ids = [first.id, *(e.id for e in pages)]
    assert ids == sorted(ids) and len(ids) == 5
    assert len(transport.requests) == sent + 3
    assert all(e.country == "SY" for e in api.events(country="SY", include="actors"))


def test_frames_stream_the_csv(api: Client, demo: dict[str, Any]) -> None:
    api.post_reports([report(n) for n in range(3)])
    frame = api.events_frame(country="SY")
    assert len(frame) == len(list(api.events(country="SY")))
    assert {"id", "event_date", "event_type", "latitude"} <= set(frame.columns)
    assert pd.api.types.is_datetime64_any_dtype(frame["event_date"])
    stats = api.stats_frame(group_by="event_type")
    counts = dict(zip(stats["event_type"], stats["count"], strict=True))
    assert counts["Explosions/Remote violence"] == len(
        frame[frame["event_type"] == "Explosions/Remote violence"]
    )


def test_changes_follow_the_feed(api: Client) -> None:
    api.post_reports([report(n) for n in range(3)])
    feed = api.changes(page_size=2)
    seen = [c.event_id for c in feed]
    assert len(seen) == 3 and feed.cursor
    api.post_report(report(10))
    newer = api.changes(since=feed.cursor)
    assert [c.action for c in newer] == ["created"]


def test_a_draft_posts_through_the_client(api: Client) -> None:
    text = (DATA / "drafts" / "ukraine-shelling.txt").read_text(encoding="utf-8")
    draft = api.draft(text, published_date="2018-04-18", outlet="Example Wire")
    assert draft.annotations.english and draft.events
    assert api.post_report(draft.report()).status == "created"


def test_the_package_names_its_results() -> None:
    assert set(client_module.__all__) >= {"Client", "ReportCreated", "EventRead", "ChangeRead"}
    copy.deepcopy(client_module.Summary())
