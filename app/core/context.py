"""What one request carries through the layers below HTTP: its id, who sent it, where its reads
go and the data version its answer reflects.

The outermost middleware (``app.http.observe``) opens a ``RequestContext`` per request and
sets it in a context variable; code further in (the rate limiter, authentication, the writer's
commit hook, the problem renderer) fills in or reads what it knows. Work the request hands to
the thread pool sees the same object (anyio copies the context into the worker thread, and the
object is shared, not copied), so a commit in a worker thread can record its data version for
the response. Outside a request (the command line, imports, tests calling services) there is
no context and ``current()`` is None.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True, eq=False)
class RequestContext:
    request_id: str
    # Whether the request may write (not GET/HEAD/OPTIONS): its answer's Data-Version is the
    # version its write committed (or, for a write that changed nothing, the version it saw).
    writes: bool = False
    # The data version the answer reflects at least: read before the query ran, or committed.
    data_version: int | None = None
    # The version the client asked its answer to be at least as fresh as (Data-Version).
    min_version: int = 0
    # Where this request's reads go: an ``app.db.replicas.Target`` (None: the primary).
    read_target: Any = None
    # Whether the deployment reads from replicas (cursors then carry their page's version).
    replicated: bool = False
    # Set when the replica serving this request failed or proved too far behind: the read is
    # run again on the primary, once, if its answer has not started (app.http.observe).
    retry_on_primary: bool = False
    # The API key's visible prefix (cdb_1a2b3c4d) once authenticated, for the access log.
    key_prefix: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("conflictdb_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def begin(context: RequestContext) -> None:
    """Make ``context`` the current request's. Each request runs in its own task (uvicorn's,
    the test client's), so nothing leaks into the next one; it is deliberately not reset when
    the request ends, so the server's own error handler still finds the id of a failed one."""
    _current.set(context)


def note_version(version: int) -> None:
    """Record that the answer reflects at least ``version`` (a commit of this request)."""
    context = _current.get()
    if context is not None and (context.data_version is None or version > context.data_version):
        context.data_version = version
