"""The Python client: what every ingestion script and notebook would otherwise re-invent.

Retries with backoff (connection errors, 429 honouring Retry-After and RateLimit, 503), an
Idempotency-Key on every report so a retry never stores it twice, typed errors, cursors
followed lazily, and pandas frames read from the API's streamed CSV.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from app.changes.shapes import ChangeRead
from app.client.errors import ApiError, ConnectionFailed, error_for
from app.drafts.schemas import DraftRead
from app.events.shapes import EventRead
from app.reports.schemas import ReportCreate, ReportCreated

try:  # httpx2 is httpx's maintained continuation (the project's test client uses it)
    import httpx2 as httpx
except ImportError:  # pragma: no cover - plain httpx has the same API
    import httpx  # type: ignore[no-redef]

if TYPE_CHECKING:
    import pandas

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_RATELIMIT_RESET = re.compile(r"\bt=(\d+)")


@dataclass(frozen=True)
class ReportResult:
    """What became of one report: ``created`` (201), ``replayed`` (the same Idempotency-Key
    answered again: stored once, by an earlier attempt) or ``unchanged`` (200: an identical
    report was already stored), with the ids the API answered."""

    status: str
    body: ReportCreated
    idempotency_key: str


@dataclass
class Summary:
    """What ``post_reports`` did: counts by outcome, and each refused report with its error."""

    created: int = 0
    replayed: int = 0
    unchanged: int = 0
    refused: list[tuple[int, ApiError]] = field(default_factory=list)
    results: dict[int, ReportResult] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.replayed + self.unchanged + len(self.refused)

    def __str__(self) -> str:
        return (
            f"{self.total} reports: {self.created} created, {self.replayed} replayed, "
            f"{self.unchanged} unchanged, {len(self.refused)} refused"
        )


class Client:
    """``Client("http://127.0.0.1:8000", api_key=KEY)``; a context manager.

    ``retries`` bounds the attempts after the first, with exponential backoff from
    ``backoff`` seconds (jittered, at most ``max_backoff``); a Retry-After or RateLimit reset
    longer than that is waited for. ``http`` lends an httpx client of your own (a proxy, a
    test transport); the client then does not close it.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 8,
        backoff: float = 0.25,
        max_backoff: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._own = http is None
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._headers = headers
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.attempts = 0  # requests sent, retries included (scripts may report it)
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the transport -------------------------------------------------------------------------
    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.max_backoff, self.backoff * 2.0**attempt) * (0.5 + random.random() / 2)
        if response is not None:
            told = _retry_after(response.headers.get("retry-after", ""))
            if told is not None:
                delay = max(delay, told)
            m = _RATELIMIT_RESET.search(response.headers.get("ratelimit", ""))
            if response.status_code == 429 and m:
                delay = max(delay, float(m.group(1)))
        return delay

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, retried on connection errors, 429, 502-504. Retrying a POST is safe
        only with an Idempotency-Key, which every write of this client carries."""
        content = json.dumps(body, default=_json_default).encode() if body is not None else None
        all_headers = {**self._headers, **(headers or {})}
        if content is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in range(self.retries + 1):
            with self._lock:
                self.attempts += 1
            try:
                response = self.http.request(
                    method, path, params=_params(params), content=content, headers=all_headers
                )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ConnectionFailed(f"{method} {path}: {exc!r}") from exc
                time.sleep(self._delay(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                time.sleep(self._delay(attempt, response))
                continue
            if response.status_code >= 400:
                raise error_for(response.status_code, _problem(response))
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reports -------------------------------------------------------------------------------
    def post_report(
        self, report: ReportCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> ReportResult:
        """POST /v1/reports, with an Idempotency-Key (by default derived from the report's
        content, so a script run again after a crash replays instead of writing twice).
        Raises ``Unprocessable`` (422) or ``Conflict`` (409) naming the field."""
        document = (
            report.model_dump(mode="json", exclude_none=True)
            if isinstance(report, BaseModel)
            else dict(report)
        )
        key = idempotency_key or _content_key(document)
        response = self._send(
            "POST", "/v1/reports", body=document, headers={"Idempotency-Key": key}
        )
        created = ReportCreated.model_validate(response.json())
        if response.headers.get("idempotent-replayed") == "true":
            status = "replayed"
        else:
            status = "created" if response.status_code == 201 else "unchanged"
        return ReportResult(status, created, key)

    def post_reports(
        self,
        reports: Iterable[ReportCreate | Mapping[str, Any]],
        *,
        concurrency: int = 4,
        keep_results: bool = True,
    ) -> Summary:
        """POST every report, ``concurrency`` at a time (the iterable is read as it goes, so
        a file of millions never sits in memory), and say what became of each: a refused
        report (409, 422...) is listed with its error, the rest go on. ``results`` holds
        each stored report's answer by its index; ``keep_results=False`` keeps the counts
        alone, for runs too long to hold every answer. A server still unreachable once the
        retries are spent raises ``ConnectionFailed``: running the script again replays
        what was stored."""
        summary = Summary()
        pending: dict[Future[ReportResult], int] = {}
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:

            def settle(done: set[Future[ReportResult]]) -> None:
                for future in done:
                    index = pending.pop(future)
                    try:
                        result = future.result()
                    except ApiError as exc:
                        summary.refused.append((index, exc))
                        continue
                    if keep_results:
                        summary.results[index] = result
                    setattr(summary, result.status, getattr(summary, result.status) + 1)

            for index, report in enumerate(reports):
                if len(pending) >= concurrency:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    settle(done)
                pending[pool.submit(self.post_report, report)] = index
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                settle(done)
        summary.refused.sort(key=lambda pair: pair[0])
        return summary

    # -- drafts --------------------------------------------------------------------------------
    def draft(
        self,
        text: str,
        *,
        published_date: date | str,
        outlet: str | Mapping[str, Any],
        title: str | None = None,
        url: str | None = None,
        language: str | None = None,
    ) -> DraftRead:
        """POST /v1/drafts: a report to check; ``draft.report()`` is what to post."""
        body = {
            "text": text,
            "published_date": str(published_date),
            "outlet": outlet,
            "title": title,
            "url": url,
            "language": language,
        }
        response = self._send(
            "POST", "/v1/drafts", body={k: v for k, v in body.items() if v is not None}
        )
        return DraftRead.model_validate_json(response.content)

    # -- reads ---------------------------------------------------------------------------------
    def events(self, *, page_size: int = 1000, **filters: Any) -> Iterator[EventRead]:
        """GET /v1/events with the filters of its query (``country="SY"``, ``place=3``,
        ``date_from=...``, ``include="actors"``), following ``next_cursor`` page by page as
        the iterator is read."""
        params: dict[str, Any] = {**filters, "limit": page_size}
        while True:
            page = self._send("GET", "/v1/events", params=params).json()
            for item in page["data"]:
                yield EventRead.model_validate(item)
            cursor = page.get("next_cursor")
            if not cursor:
                return
            params = {**filters, "limit": page_size, "cursor": cursor}

    def events_frame(self, **filters: Any) -> pandas.DataFrame:
        """The events as a pandas DataFrame (pandas installed: the ``pandas`` extra),
        parsed from GET /v1/events?format=csv as it streams: the CSV text is never held
        whole, so a million rows sit in memory once, in the frame."""
        return self._frame(
            "/v1/events", {**filters, "format": "csv"}, dates=["event_date", "date_end"]
        )

    def stats_frame(self, **params: Any) -> pandas.DataFrame:
        """GET /v1/stats/events (``interval=``, ``group_by=``, filters) as a DataFrame."""
        return self._frame("/v1/stats/events", {**params, "format": "csv"}, dates=["bucket"])

    def _frame(self, path: str, params: Mapping[str, Any], dates: list[str]) -> pandas.DataFrame:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "events_frame() and stats_frame() need pandas: pip install 'pandas>=2.2'"
            ) from exc
        for attempt in range(self.retries + 1):
            try:
                with self.http.stream(
                    "GET", path, params=_params(params), headers=self._headers
                ) as response:
                    if response.status_code in RETRY_STATUSES and attempt < self.retries:
                        response.read()
                        time.sleep(self._delay(attempt, response))
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise error_for(response.status_code, _problem(response))
                    frame = pd.read_csv(_Stream(response.iter_bytes()), low_memory=False)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ConnectionFailed(f"GET {path}: {exc!r}") from exc
                time.sleep(self._delay(attempt, None))
                continue
            for column in dates:
                if column in frame.columns:
                    frame[column] = pd.to_datetime(frame[column], errors="coerce")
            return frame
        raise AssertionError("unreachable")  # pragma: no cover

    def changes(self, since: str | int | None = None, *, page_size: int = 100) -> ChangeFeed:
        """GET /v1/changes from ``since`` (a ``next_cursor`` or a data version), page by page,
        until caught up; the returned feed's ``cursor`` is where to start next time."""
        return ChangeFeed(self, None if since is None else str(since), page_size)


class ChangeFeed:
    """Iterates the change feed to the present; ``cursor`` is then where to resume."""

    def __init__(self, client: Client, since: str | None, page_size: int) -> None:
        self.client = client
        self.cursor = since
        self.page_size = page_size
        self.data_version: int | None = None

    def __iter__(self) -> Iterator[ChangeRead]:
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if self.cursor is not None:
                params["since"] = self.cursor
            page = self.client._send("GET", "/v1/changes", params=params).json()
            for item in page["data"]:
                yield ChangeRead.model_validate(item)
            self.cursor = page["next_cursor"]
            self.data_version = page.get("data_version")
            if len(page["data"]) < self.page_size:
                return


class _Stream(io.RawIOBase):
    """A response body as a file, read as it arrives (for pandas.read_csv)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _params(
    params: Mapping[str, Any] | None,
) -> list[tuple[str, str | int | float | bool | None]] | None:
    """Query parameters: a list repeats the parameter; True is 'true'; None is left out."""
    if params is None:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in params.items():
        values = value if isinstance(value, list | tuple | set) else [value]
        for v in values:
            if v is None:
                continue
            out.append((name, "true" if v is True else "false" if v is False else str(v)))
    return out


def _retry_after(value: str) -> float | None:
    """Retry-After's seconds: a number, or an HTTP date (RFC 9110) from now."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"title": response.reason_phrase, "status": response.status_code}
    return body if isinstance(body, dict) else {"status": response.status_code, "detail": body}


def _content_key(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=_json_default)
    return "report-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
