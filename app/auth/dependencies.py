"""The request's principal: who is calling, with which scopes (app.auth.keys): posting reports
and creating entities needs 'ingest', editing needs 'curate'; 'write' has both."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from app.auth import keys, repository
from app.core import context
from app.core.errors import ProblemError
from app.db.base import utcnow
from app.db.session import get_engine, read_session
from app.writer.transaction import write_transaction

log = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)
# The one answer for a key that does not work: whether it is unknown, revoked or expired is
# for the server's log, not for whoever holds it.
INVALID_KEY = "The API key is not valid (unknown, revoked or expired)."
_CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


@dataclass(frozen=True)
class Principal:
    api_key_id: int | None
    name: str
    scopes: frozenset[str]


ANONYMOUS = Principal(api_key_id=None, name="anonymous", scopes=frozenset())


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="conflictdb"'})


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Insufficient scope"


class AmbiguousCredentials(ProblemError):
    status, slug, title = 400, "ambiguous-credentials", "More than one credential"


def _presented_key(request: Request) -> str | None:
    """The one key the request presents. Two of them (a repeated header, or Authorization
    together with X-API-Key) are refused: the rate limiter and authentication must never
    read different ones."""
    given = [
        (name, value)
        for name, value in request.scope.get("headers", ())
        if name in _CREDENTIAL_HEADERS
    ]
    if len(given) > 1:
        raise AmbiguousCredentials(
            "Send one credential: Authorization: Bearer <key> or X-API-Key, once."
        )
    if not given:
        return None
    name, raw = given[0]
    value: str = bytes(raw).decode("latin-1")
    if name == b"x-api-key":
        return value.strip() or None
    scheme, _, key = value.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("Use 'Authorization: Bearer <key>'.")
    return key


def authenticate(request: Request, engine: Engine) -> Principal:
    """The principal for this request, or the problem its credentials are; either is kept
    on the request, so the rate limiter (which authenticates first), the caching middleware
    and the route's dependency look the key up once between them. ANONYMOUS when no key is
    sent."""
    cached: Principal | ProblemError | None = getattr(request.state, "principal", None)
    if isinstance(cached, ProblemError):
        raise cached
    if cached is not None:
        return cached
    try:
        principal = _authenticate(request, engine)
    except ProblemError as exc:
        request.state.principal = exc
        raise
    request.state.principal = principal
    return principal


def _authenticate(request: Request, engine: Engine) -> Principal:
    key = _presented_key(request)
    if key is None:
        return ANONYMOUS
    with read_session(engine) as session:
        row = repository.key_by_hash(session, keys.hash_key(key))
    now = utcnow()
    if row is None:
        log.info("refused an unknown API key (prefix %s)", key[:12])
        raise Unauthorized(INVALID_KEY)
    if row["revoked_at"] is not None:
        log.info("refused revoked API key %s (%s)", row["id"], row["name"])
        raise Unauthorized(INVALID_KEY)
    if row["expires_at"] is not None and row["expires_at"] <= now:
        log.info("refused expired API key %s (%s)", row["id"], row["name"])
        raise Unauthorized(INVALID_KEY)
    if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION:
        # At most once a minute, so a busy key does not turn every read into a write.
        write_transaction(engine, lambda session: repository.touch(session, row["id"], now))
    if (current := context.current()) is not None:
        current.key_prefix = row["prefix"]  # for the access log: the visible part only
    return Principal(row["id"], row["name"], keys.effective_scopes(row["scopes"]))


def rate_limit_bucket(request: Request) -> str:
    """The rate-limit bucket of a request, chosen after authentication: the key's id, or the
    client's address for anonymous requests and for credentials that fail (so made-up keys
    share their sender's bucket instead of each getting a fresh one)."""
    try:
        principal = authenticate(request, get_engine(request))
    except ProblemError:
        principal = ANONYMOUS
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    client = request.scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


def require(scope: str) -> Callable[[Request], Principal]:
    # The other scopes that grant it, named in a refusal: "'ingest' scope ('write' grants it too)".
    granting = [s for s in keys.SCOPES if s not in (scope, "admin") and scope in keys.IMPLIED[s]]
    also = f" ({', '.join(repr(s) for s in granting)} grants it too)" if granting else ""

    def dependency(request: Request) -> Principal:
        principal = authenticate(request, get_engine(request))
        if scope in principal.scopes:
            return principal
        if principal is ANONYMOUS:
            raise Unauthorized(f"This needs an API key with the '{scope}' scope{also}.")
        raise Forbidden(f"This API key lacks the '{scope}' scope{also}.")

    dependency.required_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI
    return dependency


def read_access(request: Request) -> Principal:
    """Reads are open unless the deployment sets CONFLICTDB_AUTH_READS=true."""
    if request.app.state.settings.auth_reads:
        return require("read")(request)
    return authenticate(request, get_engine(request))


def reveals_protected(principal: Principal) -> bool:
    """Whether answers to this principal show protected speakers' names: keys with the curate
    scope (write and admin have it) do; anonymous and read-scope clients see "a source"."""
    return "curate" in principal.scopes


def sees_protected(request: Request) -> bool:
    """``reveals_protected`` for the request's principal (already authenticated by the route's
    read check, which keeps it on the request)."""
    return reveals_protected(read_access(request))


ReadAccess = Annotated[Principal, Depends(read_access)]
# Ingestion scripts post reports and create entities; curators edit, retract, merge and
# delete (and link incidents and claims). A key with "write" has both.
IngestAccess = Annotated[Principal, Depends(require("ingest"))]
CurateAccess = Annotated[Principal, Depends(require("curate"))]
WriteAccess = Annotated[Principal, Depends(require("write"))]
AdminAccess = Annotated[Principal, Depends(require("admin"))]
