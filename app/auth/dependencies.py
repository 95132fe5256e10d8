"""The request's principal: who is calling, with which scopes. Writes need a key with 'write'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from app.auth import keys, repository
from app.core.errors import ProblemError
from app.db.base import utcnow
from app.db.session import get_engine, read_session
from app.writer.transaction import write_session

LAST_USED_RESOLUTION = timedelta(minutes=1)


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


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Use 'Authorization: Bearer <key>'.")
        return value.strip()
    return request.headers.get("x-api-key") or None


def authenticate(request: Request, engine: Engine) -> Principal:
    """The principal for this request (cached on it); ANONYMOUS when no key is sent."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    key = _presented_key(request)
    if key is None:
        principal = ANONYMOUS
    else:
        with read_session(engine) as session:
            row = repository.key_by_hash(session, keys.hash_key(key))
        now = utcnow()
        if row is None:
            raise Unauthorized("Unknown API key.")
        if row["revoked_at"] is not None:
            raise Unauthorized("This API key has been revoked.")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise Unauthorized("This API key has expired.")
        if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_RESOLUTION:
            # At most once a minute, so a busy key does not turn every read into a write.
            with write_session(engine) as session:
                repository.touch(session, row["id"], now)
        principal = Principal(row["id"], row["name"], keys.effective_scopes(row["scopes"]))
    request.state.principal = principal
    return principal


def require(scope: str) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = authenticate(request, get_engine(request))
        if scope in principal.scopes:
            return principal
        if principal is ANONYMOUS:
            raise Unauthorized(f"This needs an API key with the '{scope}' scope.")
        raise Forbidden(f"This API key lacks the '{scope}' scope.")

    dependency.required_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI
    return dependency


def read_access(request: Request) -> Principal:
    """Reads are open unless the deployment sets CONFLICTDB_AUTH_READS=true."""
    if request.app.state.settings.auth_reads:
        return require("read")(request)
    key_given = _presented_key(request) is not None
    return authenticate(request, get_engine(request)) if key_given else ANONYMOUS


ReadAccess = Annotated[Principal, Depends(read_access)]
WriteAccess = Annotated[Principal, Depends(require("write"))]
AdminAccess = Annotated[Principal, Depends(require("admin"))]
