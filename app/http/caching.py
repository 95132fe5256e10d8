"""HTTP caching of the collection reads: weak ETags from the data version, 304 Not Modified,
and a small in-memory cache of stats answers.

Every committed write of data advances ``data_version`` (``app.derived.version``), so what a list,
export, stats or change-feed request returns is a function of that version and of what the
request selects: its path, query string and ``Accept``. Those responses carry the ETag
``W/"<version>-<hash of path, query string, Accept>"`` and ``Data-Version: <version>``; a client
sending the ETag back in ``If-None-Match`` gets a 304, without the route's query being run, from
any worker (the version lives in the database, not in a process). Single records are not
covered: their strong ETags come from the record's own version, for If-Match.

The tag is weak: gzip'd and identity bodies share it (``Vary: Accept-Encoding``), and the body
may reflect a version later than the one the tag names (see ``_plan``).

Data written outside the writer's session (a migration that changes rows) does not advance the
version by itself: such a migration must advance ``data_version`` too. ``salt`` (the API's
version) changes every tag when a release changes the representations.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import ProblemError

log = logging.getLogger(__name__)

# GET on these paths (exactly) and under these prefixes get ETags. Not /v1/keys: API keys are
# bookkeeping, not data, and writing them leaves the data version alone.
COLLECTION_PATHS = frozenset(
    {
        "/v1/events",
        "/v1/incidents",
        "/v1/actors",
        "/v1/places",
        "/v1/articles",
        "/v1/outlets",
        "/v1/quotes",
        "/v1/vocabulary",
        "/v1/changes",
    }
)
COLLECTION_PREFIXES = ("/v1/stats/",)
# Answers kept in memory (when ``stats_cache_size`` > 0): dashboards ask the same aggregates
# again and again, and they are small.
CACHED_PREFIXES = ("/v1/stats/",)
MAX_CACHED_BODY_BYTES = 256 * 1024  # so 256 entries stay under 64 MiB a worker
CACHEABLE_MEDIA_TYPES = frozenset({"application/json", "application/geo+json", "text/csv"})
VARY = ("Accept", "Accept-Encoding")

Headers = list[tuple[bytes, bytes]]
CacheKey = tuple[int, str, bytes, str, str]  # data version, path, query string, Accept, view


def covered(path: str) -> bool:
    return path in COLLECTION_PATHS or path.startswith(COLLECTION_PREFIXES)


def make_etag(
    version: int, salt: str, path: str, query_string: bytes, accept: str, view: str = ""
) -> str:
    """``view``: what the request's credential lets it see beyond the public answer (a
    curator sees protected speakers' names), so the two answers never share a tag."""
    selector = b"\n".join(
        [
            salt.encode(),
            path.encode("utf-8", "surrogatepass"),
            query_string,
            accept.encode(),
            view.encode(),
        ]
    )
    return f'W/"{version}-{hashlib.sha256(selector).hexdigest()[:16]}"'


def matches(if_none_match: str, tag: str) -> bool:
    """If-None-Match lists ``tag``, compared weakly (RFC 9110 §13.1.2: ``W/`` is ignored).

    ``*`` is not honoured: it would mean a 304 for any request the route would answer 200,
    which only running the route can tell, so such a request simply gets its 200.
    """
    opaque = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == opaque for part in if_none_match.split(","))


@dataclass(frozen=True)
class CachedResponse:
    headers: Headers  # the route's own (content type and length); ours are added per request
    body: bytes


class ResponseCache:
    """A bounded LRU of complete 200 answers, keyed by data version and request.

    The data version only grows, so once a newer one is seen the older entries are of no more
    use: they are dropped then instead of waiting to age out.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._newest = 0
        self._lock = threading.Lock()  # requests look up from the thread pool

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedResponse | None:
        with self._lock:
            self._see(key[0])
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: CacheKey, entry: CachedResponse) -> None:
        with self._lock:
            self._see(key[0])
            if key[0] < self._newest:
                return  # a write committed while it was computed: nobody will ask for it
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _see(self, version: int) -> None:
        if version > self._newest:
            self._newest = version
            self._entries = OrderedDict(
                (key, entry) for key, entry in self._entries.items() if key[0] >= version
            )


@dataclass
class _Plan:
    version: int
    etag: str
    not_modified: bool = False
    cached: CachedResponse | None = None
    cache_key: CacheKey | None = None  # where to keep the route's answer


class CachingMiddleware:
    """A pure ASGI middleware: streamed bodies pass through message by message, untouched.

    It sits inside the rate limiter (so a 304 or a cached answer takes a token like any other
    request) and outside the exception handlers (so a problem response goes by with its own
    status: only a 200 gets an ETag).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache_control: str,
        stats_cache: ResponseCache | None,
        salt: str,
        read_version: Callable[[Request], int],
        may_read: Callable[[Request], object],
        view_of: Callable[[Request], str] = lambda _request: "",
    ) -> None:
        """``read_version``: the data version of the database answering the request, read on
        its own (``app.http.routing.version_reader``); ``may_read``: the routes' own read
        check (raising a problem when the request may not read); ``view_of``: what the
        request's credential lets it see beyond the public answer ("" for the public). All
        are given by the app factory, so this layer knows neither the derived state nor
        authentication."""
        self.app = app
        self.read_version = read_version
        self.may_read = may_read
        self.view_of = view_of
        self.cache_control = cache_control.encode()
        self.stats_cache = stats_cache
        self.salt = salt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not covered(scope["path"]):
            await self.app(scope, receive, send)
            return
        plan = await run_in_threadpool(self._plan, Request(scope))
        if plan is None:
            await self.app(scope, receive, send)
            return
        if plan.not_modified:
            await send(
                {"type": "http.response.start", "status": 304, "headers": self._headers(plan)}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if plan.cached is not None:
            headers = self._headers(plan, plan.cached.headers)
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": plan.cached.body})
            return
        await self.app(scope, receive, self._sender(send, plan))

    def _plan(self, request: Request) -> _Plan | None:
        """The data version and what it allows: a 304, a cached answer, or running the route.

        The version is read BEFORE the route runs its query, in its own short read. A write
        that commits while the request runs can then only make the ETag older than the body
        (the route sees that write, the tag does not), never newer: the worst that follows is
        a needless 200 on the next revalidation. Read after the route, the tag could name a
        version whose changes the body lacks, and every 304 would pin that stale body.
        """
        try:
            version = self.read_version(request)
        except SQLAlchemyError as exc:
            # No version, no ETag: the route answers as if there were no caching (and a
            # database that is down is its 503 to report).
            log.warning("data version unreadable, answering uncached: %s", exc)
            return None
        path = request.scope["path"]
        query = request.scope.get("query_string", b"")
        accept = request.headers.get("accept", "")
        view = self.view_of(request)
        plan = _Plan(version, make_etag(version, self.salt, path, query, accept, view))
        if self.stats_cache is not None and path.startswith(CACHED_PREFIXES):
            plan.cache_key = (version, path, query, accept, view)
        if_none_match = ", ".join(request.headers.getlist("if-none-match"))
        if if_none_match and matches(if_none_match, plan.etag):
            plan.not_modified = self._may_read(request)
        elif plan.cache_key is not None and self.stats_cache is not None:
            cached = self.stats_cache.get(plan.cache_key)
            if cached is not None and self._may_read(request):
                plan.cached = cached
        return plan

    def _may_read(self, request: Request) -> bool:
        """Whether the route would let this request read, by the route's own check.

        A 304 or a cached answer skips the route, and with it the ``read_access`` dependency
        (keys required when CONFLICTDB_AUTH_READS is on, checked whenever sent): so it runs
        here first. Refused, the request goes on to the route, which answers the same 401 or
        403 as a problem. The principal it finds is kept on the request (``authenticate``
        caches it in the scope's state), so the route does not look the key up twice.

        Answering 304 only to open reads, and otherwise turning a 200 into a 304 after the
        route ran, would also be safe, but keyed dashboards would then pay the full query.
        The query itself cannot refuse a request holding a matching tag: the tag covers the
        path, query string, Accept and data version, and only a 200 for exactly those got it.
        """
        try:
            self.may_read(request)
        except (ProblemError, SQLAlchemyError):
            return False
        return True

    def _headers(self, plan: _Plan, existing: Headers | None = None) -> Headers:
        headers = [(k, v) for k, v in existing or [] if k.lower() not in (b"etag", b"vary")]
        vary = [
            token.strip()
            for k, v in existing or []
            if k.lower() == b"vary"
            for token in v.decode("latin-1").split(",")
            if token.strip()
        ]
        for name in VARY:
            if name.lower() not in {token.lower() for token in vary}:
                vary.append(name)
        tagged = [
            *headers,
            (b"etag", plan.etag.encode()),
            (b"vary", ", ".join(vary).encode("latin-1")),
        ]
        if any(k.lower() == b"data-version" for k, _ in headers):
            # An answer at an earlier version (as_of, issue 12) names it, and its own
            # Cache-Control (immutable): it does not change with the current version.
            return tagged
        return [
            *tagged,
            (b"cache-control", self.cache_control),
            (b"data-version", str(plan.version).encode()),
        ]

    def _sender(self, send: Send, plan: _Plan) -> Send:
        """``send``, adding our headers to a 200 and keeping a small whole answer when asked."""
        keep: Headers | None = None

        async def sender(message: Message) -> None:
            nonlocal keep
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    headers = list(message.get("headers", []))
                    if plan.cache_key is not None and _cacheable(headers):
                        keep = headers
                    message = {**message, "headers": self._headers(plan, headers)}
            elif message["type"] == "http.response.body" and keep is not None:
                body = message.get("body", b"")
                # Only an answer sent whole in one message: a streamed one is never gathered.
                if not message.get("more_body", False) and len(body) <= MAX_CACHED_BODY_BYTES:
                    assert plan.cache_key is not None and self.stats_cache is not None
                    self.stats_cache.put(plan.cache_key, CachedResponse(keep, body))
                keep = None
            await send(message)

        return sender


def _cacheable(headers: Headers) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            media_type = value.decode("latin-1").split(";")[0].strip().lower()
            return media_type in CACHEABLE_MEDIA_TYPES
    return False


class PrivateAnswersMiddleware:
    """An answer private to its key: ``Cache-Control`` gains ``private`` (a shared cache must
    not hand one key's answer to another client) and ``Vary`` names the credential headers.
    Every answer when reads need a key; otherwise those ``is_private`` says (a curator's,
    which may show protected speakers' names), decided once the route has run."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        always: bool = True,
        is_private: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.app = app
        self.always = always
        self.is_private = is_private

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start" and (
                self.always or (self.is_private is not None and self.is_private(scope))
            ):
                message = {**message, "headers": _private(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, sender)


_CREDENTIALS_VARY = ("Authorization", "X-API-Key")


def _private(headers: Headers) -> Headers:
    out: Headers = []
    cache_control: bytes | None = None
    vary: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"cache-control":
            cache_control = value
        elif lower == b"vary":
            vary += [t.strip() for t in value.decode("latin-1").split(",") if t.strip()]
        else:
            out.append((name, value))
    directives = cache_control.decode("latin-1") if cache_control else ""
    if not {d.strip().lower() for d in directives.split(",")} & {"private", "no-store"}:
        # An answer's own `public` (as_of's immutable answers) yields to `private`.
        kept = [d.strip() for d in directives.split(",") if d.strip().lower() != "public"]
        directives = ", ".join(["private", *[d for d in kept if d]])
    known = {t.lower() for t in vary}
    vary += [name for name in _CREDENTIALS_VARY if name.lower() not in known]
    out.append((b"cache-control", directives.encode("latin-1")))
    out.append((b"vary", ", ".join(vary).encode("latin-1")))
    return out


def install(
    app: Any,
    *,
    cache_control: str,
    stats_cache_size: int,
    read_version: Callable[[Request], int],
    may_read: Callable[[Request], object],
    private: bool = False,
    view_of: Callable[[Request], str] = lambda _request: "",
    is_private: Callable[[Scope], bool] | None = None,
) -> None:
    """Add the middleware; ``app.state.stats_cache`` is the stats cache (None when off).
    ``private`` (reads need a key): every answer is marked private to its key; otherwise
    those ``is_private`` says. ``view_of``: see ``CachingMiddleware``."""
    cache = ResponseCache(stats_cache_size) if stats_cache_size > 0 else None
    app.state.stats_cache = cache
    app.add_middleware(
        CachingMiddleware,
        cache_control=cache_control,
        stats_cache=cache,
        salt=str(app.version),
        read_version=read_version,
        may_read=may_read,
        view_of=view_of,
    )
    if private or is_private is not None:
        app.add_middleware(PrivateAnswersMiddleware, always=private, is_private=is_private)
