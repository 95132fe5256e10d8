"""Where a read goes: the primary, or a PostgreSQL streaming replica that is healthy, not too
far behind, and has caught up with the data version the client needs.

Every committed write of data advances the data version (``app.derived.version``), in commit
order, and a replica replays the primary's commits in the same order: a replica's own
``data_version`` row says exactly how fresh it is. So:

- ``ReadRouter.choose(min_version)`` picks, in memory (no I/O, no thread-pool hop), a replica
  whose known version is at least ``min_version`` and whose lag is within ``max_lag_s``
  (round robin among them), or the primary when there is none;
- a poller thread per database reads each one's version every ``check_interval_s``: it keeps
  the primary's history of versions, and a replica's *lag* is how long ago the primary first
  had a version the replica still lacks (0 when it has them all). A replica that does not
  answer is *down*; one further behind than ``max_lag_s`` is *lagging*; neither is chosen
  until a poll finds it well again;
- a request that finds its replica failing (connection refused or lost: ``watch``'s error
  hook) marks it down at once and is run again on the primary (``app.http.routing``), so a
  replica stopped mid-run costs no failed request;
- known versions only grow (polls, the versions requests read, the primary's commits), and
  each is a lower bound of what that database holds.

Writes, and the reads inside a write, use the primary's engine directly and never come here.
SQLite has no replicas: its router holds the primary alone, and ``choose`` always returns it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext, make_url

from app.core import context
from app.db import dialect

log = logging.getLogger(__name__)

# SQLSTATE of a query a hot standby cancelled because replay needed the rows it read
# ("conflict with recovery"): the replica is well, the read just runs again on the primary.
RECOVERY_CONFLICT = "40001"
_HISTORY = 4096  # the primary's (time, version) samples kept for the lag: >30 min at 0.5 s

Status = Literal["ok", "lagging", "down", "starting"]


def describe_url(url: str) -> str:
    """host:port/database of ``url``, for the health check and the log: never the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:{parsed.database or ':memory:'}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


@dataclass(eq=False)
class Target:
    """A database reads may go to, and what is known of it."""

    name: str
    engine: Engine
    address: str
    is_primary: bool = False
    status: Status = "starting"
    version: int | None = None  # the highest data version it is known to have reached
    lag_s: float | None = None
    checked_at: float | None = None  # time.monotonic() of the last poll that answered
    error: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def see(self, version: int) -> None:
        """It holds ``version`` (read there, or committed there): known versions only grow."""
        if self.version is None or version > self.version:
            self.version = version


class ReadRouter:
    def __init__(
        self,
        primary: Engine,
        replicas: list[tuple[str, Engine]],
        *,
        read_version: Callable[[Engine], int],
        max_lag_s: float = 5.0,
        check_interval_s: float = 0.5,
        on_change: Callable[[Target], None] | None = None,
    ) -> None:
        """``read_version``: the data version of a database, read on its own (one statement);
        ``replicas``: (URL as configured, engine)."""
        self.primary = Target("primary", primary, describe_url(str(primary.url)), is_primary=True)
        self.primary.status = "ok"
        self.replicas = [
            Target(f"replica-{n}", engine, describe_url(url))
            for n, (url, engine) in enumerate(replicas, start=1)
        ]
        self.read_version = read_version
        self.max_lag_s = max_lag_s
        self.check_interval_s = check_interval_s
        self.on_change = on_change
        self._turn = itertools.count()
        self._history: deque[tuple[float, int]] = deque(maxlen=_HISTORY)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        for target in self.replicas:
            self._watch(target)

    @property
    def targets(self) -> list[Target]:
        return [self.primary, *self.replicas]

    # -- the request path: in memory only ---------------------------------------------------

    def choose(self, min_version: int = 0) -> Target:
        """A healthy replica that has ``min_version`` (round robin), else the primary."""
        if not self.replicas:
            return self.primary
        # A poll that has not answered for this long is stuck (a host that drops packets
        # holds it for the connect timeout): its replica is not trusted meanwhile.
        fresh_after = time.monotonic() - self.max_lag_s - self.check_interval_s
        ready = [
            t
            for t in self.replicas
            if t.status == "ok"
            and t.version is not None
            and t.version >= min_version
            and t.checked_at is not None
            and t.checked_at >= fresh_after
        ]
        if not ready:
            return self.primary
        return ready[next(self._turn) % len(ready)]

    def fail(self, target: Target, exc: BaseException) -> None:
        """A request or a poll found ``target`` unreachable: skip it until a poll answers."""
        if target.is_primary:
            return
        first = target.status != "down"
        target.status = "down"
        target.error = _one_line(exc)
        if first:
            log.warning(
                "%s (%s) is down, reads go elsewhere: %s", target.name, target.address, target.error
            )
            if self.on_change is not None:
                self.on_change(target)

    # -- reading versions ---------------------------------------------------------------------

    def version_of(self, target: Target) -> int:
        """``target``'s data version, read now (raises the database's error)."""
        version = self.read_version(target.engine)
        target.see(version)
        if target.is_primary:
            self._note_primary(version)
        return version

    def _note_primary(self, version: int) -> None:
        with self._lock:
            if not self._history or self._history[-1][1] < version:
                self._history.append((time.monotonic(), version))

    def _lag(self, version: int) -> float:
        """Seconds since the primary first had a version above ``version`` (0: none yet)."""
        with self._lock:
            for seen_at, primary_version in self._history:
                if primary_version > version:
                    return max(0.0, time.monotonic() - seen_at)
        return 0.0

    def poll(self, target: Target) -> None:
        """Read ``target``'s version and judge it: ok, lagging or down."""
        try:
            version = self.version_of(target)
        except Exception as exc:  # any failure to answer: down until a poll answers
            self.fail(target, exc)
            return
        target.checked_at = time.monotonic()
        if target.is_primary:
            target.lag_s = 0.0
            return
        target.lag_s = self._lag(version)
        status: Status = "lagging" if target.lag_s > self.max_lag_s else "ok"
        if status != target.status:
            was = target.status
            target.status = status
            target.error = None
            if status == "ok":
                log.info(
                    "%s (%s) is %s at data version %s",
                    target.name,
                    target.address,
                    "back" if was == "down" else "ready",
                    version,
                )
            else:
                log.warning(
                    "%s (%s) is %.1f s behind the primary: reads go elsewhere",
                    target.name,
                    target.address,
                    target.lag_s,
                )
            if self.on_change is not None:
                self.on_change(target)

    def poll_all(self) -> None:
        """One round: the primary first (its history is what lags are measured against)."""
        self.poll(self.primary)
        for target in self.replicas:
            self.poll(target)

    # -- the pollers --------------------------------------------------------------------------

    def start(self) -> None:
        """Poll every database once now (a replica that cannot be reached is logged and
        skipped, not fatal), then keep polling each in its own thread. Without replicas there
        is nothing more to poll: the primary's version is read once, then where requests need
        it (and their writes advance it)."""
        try:
            self.version_of(self.primary)
        except Exception as exc:  # a primary down at start-up is the routes' 503 to report
            log.warning("the primary's data version is unreadable at start: %s", exc)
        if not self.replicas:
            return
        for target in self.replicas:
            self.poll(target)
        for target in self.targets:
            target.stop.clear()
            thread = threading.Thread(
                target=self._poll_loop, args=(target,), name=f"poll-{target.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for target in self.targets:
            target.stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def _poll_loop(self, target: Target) -> None:
        while not target.stop.wait(self.check_interval_s):
            self.poll(target)

    # -- request failures -------------------------------------------------------------------

    def _watch(self, target: Target) -> None:
        """Mark ``target`` down the moment a request finds it unreachable, and have that
        request (or one whose query a hot standby cancelled) run again on the primary."""
        dbapi_errors: tuple[type[BaseException], ...] = tuple(
            cls
            for cls in (getattr(target.engine.dialect.loaded_dbapi, "OperationalError", None),)
            if cls is not None
        )

        @event.listens_for(target.engine, "handle_error")
        def _on_error(exc_context: ExceptionContext) -> None:
            exc = exc_context.original_exception
            if dialect.is_read_timeout(exc):
                return  # the query's own fault: the same 503 anywhere
            conflict = getattr(exc, "sqlstate", None) == RECOVERY_CONFLICT
            unreachable = exc_context.is_disconnect or isinstance(exc, dbapi_errors)
            if not (conflict or unreachable):
                return
            current = context.current()
            if current is not None and current.read_target is target:
                current.retry_on_primary = True
            if unreachable and not conflict:
                self.fail(target, exc)

    def dispose(self) -> None:
        self.stop()
        for target in self.replicas:
            target.engine.dispose()

    def health(self) -> list[dict[str, Any]]:
        """What is known of each replica, for /healthz."""
        now = time.monotonic()
        primary = self.primary.version
        return [
            {
                "name": t.name,
                "address": t.address,
                "status": t.status,
                "data_version": t.version,
                "behind_versions": (
                    max(0, primary - t.version)
                    if primary is not None and t.version is not None
                    else None
                ),
                "lag_seconds": None if t.lag_s is None else round(t.lag_s, 3),
                "checked_seconds_ago": (
                    None if t.checked_at is None else round(now - t.checked_at, 3)
                ),
                "error": t.error,
            }
            for t in self.replicas
        ]


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text[:300] or type(orig).__name__
